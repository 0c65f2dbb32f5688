package otelbearer

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// NewRedactingSpanProcessor returns a span processor that hands next a
// redacted copy of every ended span: name, attributes, status description,
// events (names and attributes, including the exception event the SDK
// records when a span ends during a panic), links' attributes, resource and
// instrumentation scope attributes. The SDK's snapshot is never modified.
// A span with nothing to redact is passed on as it is, without allocating.
//
// OnStart passes the span to next unchanged: the SDK has no hook between
// the last attribute and the end, and a processor cannot remove an
// attribute at start. Register it in place of next:
//
//	sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(sdktrace.NewBatchSpanProcessor(exp), r))
//
// A nil r redacts nothing.
func NewRedactingSpanProcessor(next sdktrace.SpanProcessor, r *Redactor) sdktrace.SpanProcessor {
	return &redactingProcessor{next: next, r: r}
}

type redactingProcessor struct {
	next sdktrace.SpanProcessor
	r    *Redactor
}

var _ sdktrace.SpanProcessor = (*redactingProcessor)(nil)

func (p *redactingProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	p.next.OnStart(ctx, s)
}

func (p *redactingProcessor) OnEnd(s sdktrace.ReadOnlySpan) { p.next.OnEnd(p.r.Span(s)) }

func (p *redactingProcessor) Shutdown(ctx context.Context) error { return p.next.Shutdown(ctx) }

func (p *redactingProcessor) ForceFlush(ctx context.Context) error { return p.next.ForceFlush(ctx) }

// NewRedactingExporter returns a span exporter that hands next redacted
// copies of the spans it exports, with the same coverage as
// [NewRedactingSpanProcessor]. The input slice is never modified; when no
// span changes it is passed on as it is. A nil r redacts nothing.
func NewRedactingExporter(next sdktrace.SpanExporter, r *Redactor) sdktrace.SpanExporter {
	return &redactingExporter{next: next, r: r}
}

type redactingExporter struct {
	next sdktrace.SpanExporter
	r    *Redactor
}

var _ sdktrace.SpanExporter = (*redactingExporter)(nil)

func (e *redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, copied := spans, false
	for i, s := range spans {
		rs, changed := e.r.spanCopy(s)
		if !changed {
			continue
		}
		if !copied {
			out, copied = make([]sdktrace.ReadOnlySpan, len(spans)), true
			copy(out, spans)
		}
		out[i] = rs
	}
	return e.next.ExportSpans(ctx, out)
}

func (e *redactingExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

// redactedSpan is the exported copy of a span whose data changed. Fields
// override the embedded span's methods; the rest is delegated.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	name   string
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
	status sdktrace.Status
	res    *resource.Resource
	scope  instrumentation.Scope
}

func (s *redactedSpan) Name() string                     { return s.name }
func (s *redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (s *redactedSpan) Events() []sdktrace.Event         { return s.events }
func (s *redactedSpan) Links() []sdktrace.Link           { return s.links }
func (s *redactedSpan) Status() sdktrace.Status          { return s.status }
func (s *redactedSpan) Resource() *resource.Resource     { return s.res }
func (s *redactedSpan) InstrumentationScope() instrumentation.Scope {
	return s.scope
}

// InstrumentationLibrary is part of ReadOnlySpan; it returns the redacted
// scope too.
//
//lint:ignore SA1019 the deprecated method is still part of the interface.
func (s *redactedSpan) InstrumentationLibrary() instrumentation.Library {
	return s.scope
}

// Span returns s with its data redacted: s itself when nothing changes
// (no allocation), otherwise a copy that wraps s. s is never modified. With
// [WithRedactionSummary] on, a changed copy carries redaction.count.
func (r *Redactor) Span(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	out, _ := r.spanCopy(s)
	return out
}

func (r *Redactor) spanCopy(s sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
	if r == nil || s == nil {
		return s, false
	}
	var st RedactStats
	name, ns := r.value(redactPlain, "", s.Name(), true)
	st.add(ns)
	attrs, as := r.keyValues(s.Attributes())
	st.add(as)
	status := s.Status()
	if status.Description != "" {
		d, ds := r.value(redactPlain, "", status.Description, true)
		st.add(ds)
		status.Description = d
	}
	events, es := r.events(s.Events())
	st.add(es)
	links, ls := r.links(s.Links())
	st.add(ls)
	if st.Bytes > r.maxRecord {
		st.Sanitized += r.fitSpan(&name, &status.Description, &attrs, &events, &links, st.Bytes)
	}
	// Resource and scope are shared by many spans: bounded value by value,
	// not counted in the span's bytes.
	res, rs := r.resource(s.Resource())
	st.Redacted, st.Sanitized = st.Redacted+rs.Redacted, st.Sanitized+rs.Sanitized
	scope := s.InstrumentationScope()
	if ss, ok := r.scope(&scope); ok {
		st.Redacted, st.Sanitized = st.Redacted+ss.Redacted, st.Sanitized+ss.Sanitized
	}
	if !st.changed() {
		return s, false
	}
	attrs = r.addCounts(attrs, s.Attributes(), st)
	return &redactedSpan{
		ReadOnlySpan: s, name: name, attrs: attrs, events: events, links: links,
		status: status, res: res, scope: scope,
	}, true
}

// fitSpan cuts the longest strings of a span to a common length so that
// its strings fit in the record bound; total is their length now, keys
// included. It returns how many it cut.
func (r *Redactor) fitSpan(name, desc *string, attrs *[]attribute.KeyValue, events *[]sdktrace.Event, links *[]sdktrace.Link, total int) int {
	lens := []int{len(*name), len(*desc)}
	for _, kv := range *attrs {
		lens = redactValueLens(kv.Value, lens)
	}
	for _, ev := range *events {
		lens = append(lens, len(ev.Name))
		for _, kv := range ev.Attributes {
			lens = redactValueLens(kv.Value, lens)
		}
	}
	for _, l := range *links {
		for _, kv := range l.Attributes {
			lens = redactValueLens(kv.Value, lens)
		}
	}
	values := 0
	for _, l := range lens {
		values += l
	}
	c := redactFitCap(lens, r.maxRecord-redactReserve-(total-values))
	n := 0
	for _, p := range []*string{name, desc} {
		if len(*p) > c {
			*p, n = redactCut(*p, c, true), n+1
		}
	}
	var k int
	*attrs, k = redactCutKeyValues(*attrs, c)
	n += k
	evs := *events
	for i := range evs {
		ev := evs[i]
		cut := 0
		if len(ev.Name) > c {
			ev.Name, cut = redactCut(ev.Name, c, true), 1
		}
		ev.Attributes, k = redactCutKeyValues(ev.Attributes, c)
		if cut += k; cut > 0 {
			if &evs[0] == &(*events)[0] {
				evs = slices.Clone(evs) // the snapshot's slice is not ours
			}
			evs[i] = ev
			n += cut
		}
	}
	*events = evs
	ls := *links
	for i := range ls {
		l := ls[i]
		if l.Attributes, k = redactCutKeyValues(l.Attributes, c); k > 0 {
			if &ls[0] == &(*links)[0] {
				ls = slices.Clone(ls)
			}
			ls[i] = l
			n += k
		}
	}
	*links = ls
	return n
}

// scope bounds the scope's name and version and redacts its attributes in place (scope
// is a copy); ok reports whether anything changed.
func (r *Redactor) scope(scope *instrumentation.Scope) (RedactStats, bool) {
	var st RedactStats
	// Name and version come from code, not requests: bounded, not
	// redacted. The last pair found clean is remembered.
	if c := r.scopeOK.Load(); c == nil || c[0] != scope.Name || c[1] != scope.Version {
		clean := true
		for _, p := range []*string{&scope.Name, &scope.Version} {
			var ok bool
			if *p, ok = r.bound(*p, true); !ok {
				st.Sanitized++
				clean = false
			}
		}
		if clean {
			r.scopeOK.Store(&[2]string{scope.Name, scope.Version})
		}
	}
	if r.scopeChanges(&scope.Attributes) {
		kvs, as := r.keyValues(scope.Attributes.ToSlice())
		scope.Attributes = attribute.NewSet(kvs...)
		st.add(as)
	}
	return st, st.changed()
}

// scopeChanges reports whether redaction would change a scope attribute,
// iterating without copying the set.
func (r *Redactor) scopeChanges(set *attribute.Set) bool {
	if set.Len() == 0 {
		return false
	}
	for it := set.Iter(); it.Next(); {
		kv := it.Attribute()
		if _, st := r.keyValue(&kv); st.changed() {
			return true
		}
	}
	return false
}

// addCounts sets redaction.count (with the summary on) and
// redaction.sanitized on a changed span's attributes, adding to values
// already there. orig is the span's own slice, which must not be written.
func (r *Redactor) addCounts(attrs, orig []attribute.KeyValue, st RedactStats) []attribute.KeyValue {
	if r.summary && st.Redacted > 0 {
		attrs = redactAddCount(attrs, orig, RedactionCountKey, st.Redacted)
	}
	if st.Sanitized > 0 {
		attrs = redactAddCount(attrs, orig, RedactionSanitizedKey, st.Sanitized)
	}
	return attrs
}

// redactAddCount adds n to the INT64 attribute key, or appends it. orig is
// the span's own slice, which must not be written.
func redactAddCount(attrs, orig []attribute.KeyValue, key attribute.Key, n int) []attribute.KeyValue {
	for i, kv := range attrs {
		if kv.Key == key && kv.Value.Type() == attribute.INT64 {
			if len(attrs) > 0 && len(orig) > 0 && &attrs[0] == &orig[0] {
				attrs = slices.Clone(attrs)
			}
			attrs[i] = key.Int64(kv.Value.AsInt64() + int64(n))
			return attrs
		}
	}
	out := make([]attribute.KeyValue, len(attrs), len(attrs)+1)
	copy(out, attrs)
	return append(out, key.Int(n))
}

func (r *Redactor) events(in []sdktrace.Event) ([]sdktrace.Event, RedactStats) {
	out := in
	var st RedactStats
	copied := false
	for i := range in {
		ev := in[i]
		name, ns := r.value(redactPlain, "", ev.Name, true)
		attrs, as := r.keyValues(ev.Attributes)
		st.add(ns)
		st.add(as)
		if !ns.changed() && !as.changed() {
			continue
		}
		if !copied {
			out, copied = slices.Clone(in), true
		}
		ev.Name, ev.Attributes = name, attrs
		out[i] = ev
	}
	return out, st
}

func (r *Redactor) links(in []sdktrace.Link) ([]sdktrace.Link, RedactStats) {
	out := in
	var st RedactStats
	copied := false
	for i := range in {
		attrs, as := r.keyValues(in[i].Attributes)
		st.add(as)
		if !as.changed() {
			continue
		}
		if !copied {
			out, copied = slices.Clone(in), true
		}
		l := in[i]
		l.Attributes = attrs
		out[i] = l
	}
	return out, st
}

// redactResourceCache remembers the last resource seen and its redacted
// form: a TracerProvider has one resource, so spans pay a pointer compare.
type redactResourceCache struct {
	in, out *resource.Resource
	st      RedactStats
}

// Resource returns res with its attributes redacted and bounded value by
// value, as spans export it: res itself when nothing changes, else a new
// resource with the same schema URL. Use it where a resource is given to a
// provider whose records cannot be rewritten, such as an sdk/log
// LoggerProvider. A nil r or res is returned as is.
func (r *Redactor) Resource(res *resource.Resource) *resource.Resource {
	if r == nil {
		return res
	}
	out, _ := r.resource(res)
	return out
}

func (r *Redactor) resource(res *resource.Resource) (*resource.Resource, RedactStats) {
	if res == nil || res.Len() == 0 {
		return res, RedactStats{}
	}
	if c := r.resCache.Load(); c != nil && c.in == res {
		return c.out, c.st
	}
	out := res
	kvs, st := r.keyValues(res.Attributes())
	if st.changed() {
		out = resource.NewWithAttributes(res.SchemaURL(), kvs...)
	}
	st.Bytes = 0
	r.resCache.Store(&redactResourceCache{in: res, out: out, st: st})
	return out, st
}
