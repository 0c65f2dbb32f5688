package otelbearer

import (
	"context"

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
	n := 0
	name, c := r.String("", s.Name())
	if c {
		n++
	}
	attrs, an := r.KeyValues(s.Attributes())
	n += an
	st := s.Status()
	if st.Description != "" {
		if d, c := r.String("", st.Description); c {
			st.Description = d
			n++
		}
	}
	events, en := r.events(s.Events())
	n += en
	links, ln := r.links(s.Links())
	n += ln
	res, rn := r.resource(s.Resource())
	n += rn
	scope := s.InstrumentationScope()
	if r.scopeChanges(&scope.Attributes) {
		kvs, sn := r.KeyValues(scope.Attributes.ToSlice())
		scope.Attributes = attribute.NewSet(kvs...)
		n += sn
	}
	if n == 0 {
		return s, false
	}
	if r.summary {
		attrs = redactAddCount(attrs, s.Attributes(), n)
	}
	return &redactedSpan{
		ReadOnlySpan: s, name: name, attrs: attrs, events: events, links: links,
		status: st, res: res, scope: scope,
	}, true
}

// scopeChanges reports whether redaction would change a scope attribute,
// iterating without copying the set.
func (r *Redactor) scopeChanges(set *attribute.Set) bool {
	if set.Len() == 0 {
		return false
	}
	for it := set.Iter(); it.Next(); {
		if _, c := r.keyValue(it.Attribute()); c > 0 {
			return true
		}
	}
	return false
}

// redactAddCount adds n to redaction.count, or appends it. orig is the
// span's own slice, which must not be appended to in place.
func redactAddCount(attrs, orig []attribute.KeyValue, n int) []attribute.KeyValue {
	const key = attribute.Key("redaction.count")
	for i, kv := range attrs {
		if kv.Key == key && kv.Value.Type() == attribute.INT64 {
			if len(attrs) > 0 && len(orig) > 0 && &attrs[0] == &orig[0] {
				attrs = append([]attribute.KeyValue(nil), attrs...)
			}
			attrs[i] = key.Int64(kv.Value.AsInt64() + int64(n))
			return attrs
		}
	}
	out := make([]attribute.KeyValue, len(attrs), len(attrs)+1)
	copy(out, attrs)
	return append(out, key.Int(n))
}

func (r *Redactor) events(in []sdktrace.Event) ([]sdktrace.Event, int) {
	out, n := in, 0
	for i := range in {
		ev := in[i]
		name, c := r.String("", ev.Name)
		attrs, an := r.KeyValues(ev.Attributes)
		if !c && an == 0 {
			continue
		}
		if n == 0 {
			out = make([]sdktrace.Event, len(in))
			copy(out, in)
		}
		if c {
			n++
		}
		n += an
		ev.Name, ev.Attributes = name, attrs
		out[i] = ev
	}
	return out, n
}

func (r *Redactor) links(in []sdktrace.Link) ([]sdktrace.Link, int) {
	out, n := in, 0
	for i := range in {
		attrs, an := r.KeyValues(in[i].Attributes)
		if an == 0 {
			continue
		}
		if n == 0 {
			out = make([]sdktrace.Link, len(in))
			copy(out, in)
		}
		n += an
		l := in[i]
		l.Attributes = attrs
		out[i] = l
	}
	return out, n
}

// redactResourceCache remembers the last resource seen and its redacted
// form: a TracerProvider has one resource, so spans pay a pointer compare.
type redactResourceCache struct {
	in, out *resource.Resource
	n       int
}

func (r *Redactor) resource(res *resource.Resource) (*resource.Resource, int) {
	if res == nil || res.Len() == 0 {
		return res, 0
	}
	if c := r.resCache.Load(); c != nil && c.in == res {
		return c.out, c.n
	}
	out, n := res, 0
	if kvs, kn := r.KeyValues(res.Attributes()); kn > 0 {
		out, n = resource.NewWithAttributes(res.SchemaURL(), kvs...), kn
	}
	r.resCache.Store(&redactResourceCache{in: res, out: out, n: n})
	return out, n
}
