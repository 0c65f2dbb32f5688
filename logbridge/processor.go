package logbridge

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelbearer/otelbearer"
)

// Processor is an [sdklog.Processor] decorator that stamps otelbearer's
// request attributes on every record and redacts its body and attributes,
// then hands the record to the next processor. Register it in place of the
// exporting processor:
//
//	sdklog.NewLoggerProvider(
//		sdklog.WithProcessor(logbridge.NewProcessor(sdklog.NewBatchProcessor(exp))),
//	)
//
// The batch processor copies a record in OnEmit, so stamping and redaction
// must happen before it; decorating it guarantees the order.
//
// # What a record gets
//
// The attributes of [otelbearer.Attributes] for the context the record was
// emitted with (slog.InfoContext(r.Context(), …) through otelslog), as they
// are at that moment. A key the record already has keeps its value: the
// audit records of the root middleware already carry the set (and an authz
// record carries its own decision), so stamping never duplicates a key.
//
// Redaction replaces the record's attributes with SetAttributes (never
// AddAttributes, which may keep the raw value next to a duplicate key) and
// its body with SetBody; bodies of every kind (strings, bytes, nested maps
// and slices) are redacted with the Redactor's rules. Every string and key
// is made valid UTF-8 (OTLP requires it: one invalid byte makes the
// exporter drop the whole batch) and cut to the Redactor's value bound;
// the body and attributes together are cut to its record bound, longest
// values first. With the Redactor's summary on
// (otelbearer.WithRedactionSummary), a record it changed carries
// redaction.count: the number of values redacted, never the values. A
// record whose strings had to be made valid or cut carries
// redaction.sanitized, summary or not. A record that needs none of this is
// passed on unchanged.
//
// # Resource and scope
//
// An sdk/log Record's resource and instrumentation scope cannot be changed
// by a processor or exporter. Give the LoggerProvider a redacted resource
// once, as setup.Start does:
//
//	sdklog.WithResource(redactor.Resource(res))
//
// The scope (name, version, attributes) is what the code that created the
// Logger gave: [NewLoggerProvider] redacts it when the Logger is created.
type Processor struct {
	next sdklog.Processor
	r    *otelbearer.Redactor
}

var _ sdklog.Processor = (*Processor)(nil)

// NewProcessor returns a Processor that stamps and redacts records, then
// passes them to next. With a nil next it works standalone: register it
// with sdklog.WithProcessor before the exporting processor; Enabled then
// returns true and OnEmit only modifies the record.
func NewProcessor(next sdklog.Processor, opts ...Option) *Processor {
	c := newConfig(opts)
	return &Processor{next: next, r: c.redactor}
}

// Enabled reports what the next processor reports (true without one). It
// is called synchronously and does not block.
func (p *Processor) Enabled(ctx context.Context, param sdklog.EnabledParameters) bool {
	if p.next == nil {
		return true
	}
	return p.next.Enabled(ctx, param)
}

// OnEmit stamps and redacts rec, then calls the next processor's OnEmit and
// returns its error. It is called synchronously, does not block, and
// allocates only for a record it changes.
func (p *Processor) OnEmit(ctx context.Context, rec *sdklog.Record) error {
	p.redact(ctx, rec)
	if p.next == nil {
		return nil
	}
	return p.next.OnEmit(ctx, rec)
}

// redact adds the missing stamped attributes and redacts, sanitizes and
// bounds the body and the attributes.
func (p *Processor) redact(ctx context.Context, rec *sdklog.Record) {
	stamped := otelbearer.Attributes(ctx)
	if len(stamped) > 64 {
		stamped = stamped[:64] // the present mask has 64 bits; the root stamps at most 4
	}
	body := rec.Body()
	var bodyStats otelbearer.RedactStats
	if body.Type() != attribute.EMPTY {
		var kv attribute.KeyValue
		kv, bodyStats = p.r.KeyValueStats(attribute.KeyValue{Value: body})
		body = kv.Value
	}
	// First pass, no allocation: is anything to do?
	var present uint64
	changed, size := false, bodyStats.Bytes
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		present |= mask(stamped, kv.Key)
		_, st := p.r.KeyValueStats(kv)
		changed = changed || st.Redacted+st.Sanitized > 0
		size += st.Bytes
		return true
	})
	missing := len(stamped) > 0 && present != 1<<len(stamped)-1
	for i, kv := range stamped {
		if present&(1<<i) == 0 {
			size += len(kv.Key) + len(kv.Value.String())
		}
	}
	over := size > p.r.MaxRecordBytes()
	bodyChanged := bodyStats.Redacted+bodyStats.Sanitized > 0
	if !changed && !missing && !over && !bodyChanged {
		return
	}
	redacted, sanitized := bodyStats.Redacted, bodyStats.Sanitized
	attrs := make([]attribute.KeyValue, 0, rec.AttributesLen()+len(stamped)+2)
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv, st := p.r.KeyValueStats(kv)
		redacted, sanitized = redacted+st.Redacted, sanitized+st.Sanitized
		attrs = append(attrs, kv)
		return true
	})
	for i, kv := range stamped {
		if present&(1<<i) == 0 {
			attrs = append(attrs, kv)
		}
	}
	if over {
		var cut int
		body, cut = p.r.FitRecord(body, attrs)
		sanitized += cut
		bodyChanged = bodyChanged || cut > 0
	}
	if redacted > 0 && p.r.Summary() {
		attrs = addCount(attrs, otelbearer.RedactionCountKey, redacted)
	}
	if sanitized > 0 {
		attrs = addCount(attrs, otelbearer.RedactionSanitizedKey, sanitized)
	}
	if changed || missing || over || redacted+sanitized > 0 {
		rec.SetAttributes(attrs...)
	}
	if bodyChanged {
		rec.SetBody(body)
	}
}

// addCount adds n to the INT64 attribute key in attrs, or appends it.
func addCount(attrs []attribute.KeyValue, key attribute.Key, n int) []attribute.KeyValue {
	for i, kv := range attrs {
		if kv.Key == key && kv.Value.Type() == attribute.INT64 {
			attrs[i] = key.Int64(kv.Value.AsInt64() + int64(n))
			return attrs
		}
	}
	return append(attrs, key.Int(n))
}

// mask returns the bit of key in stamped, or 0.
func mask(stamped []attribute.KeyValue, key attribute.Key) uint64 {
	for i := range stamped {
		if stamped[i].Key == key {
			return 1 << i
		}
	}
	return 0
}

// Shutdown shuts the next processor down (flushing it) and returns its
// error; nil without one.
func (p *Processor) Shutdown(ctx context.Context) error {
	if p.next == nil {
		return nil
	}
	return p.next.Shutdown(ctx)
}

// ForceFlush flushes the next processor and returns its error; nil without
// one.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if p.next == nil {
		return nil
	}
	return p.next.ForceFlush(ctx)
}

// NewLoggerProvider returns a LoggerProvider that hands next the scope of
// every Logger it is asked for (name, version, schema URL and attributes)
// redacted, made valid UTF-8 and bounded with the Redactor's rules, as
// spans' scopes are: an sdk/log Record's scope cannot be changed later by
// a processor or exporter. It costs once per Logger, never per record.
// Hand it out where loggers are made, e.g.
//
//	otel.SetLoggerProvider(logbridge.NewLoggerProvider(lp, logbridge.WithRedactor(r)))
func NewLoggerProvider(next log.LoggerProvider, opts ...Option) log.LoggerProvider {
	return &scopeProvider{next: next, r: newConfig(opts).redactor}
}

type scopeProvider struct {
	embedded.LoggerProvider
	next log.LoggerProvider
	r    *otelbearer.Redactor
}

// Logger returns next's Logger for the redacted scope.
func (p *scopeProvider) Logger(name string, opts ...log.LoggerOption) log.Logger {
	cfg := log.NewLoggerConfig(opts...)
	name, _ = p.r.String("", name)
	version, _ := p.r.String("", cfg.InstrumentationVersion())
	schema, _ := p.r.String("", cfg.SchemaURL())
	set := cfg.InstrumentationAttributes()
	attrs, _ := p.r.KeyValues(set.ToSlice())
	return p.next.Logger(name, log.WithInstrumentationVersion(version), log.WithSchemaURL(schema),
		log.WithInstrumentationAttributes(attrs...))
}
