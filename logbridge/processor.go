package logbridge

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
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
// its body with SetBody; string bodies and nested map and slice bodies are
// redacted with the Redactor's rules. With the Redactor's summary on
// (otelbearer.WithRedactionSummary), a record it changed carries
// redaction.count: the number of attributes and bodies redacted, never the
// values. A record that needs neither stamping nor redaction is passed on
// unchanged.
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
	n := p.stamp(ctx, rec)
	if body := rec.Body(); body.Type() != attribute.EMPTY {
		if kv, ok := p.r.KeyValue(attribute.KeyValue{Value: body}); ok {
			rec.SetBody(kv.Value)
			n++
		}
	}
	if n > 0 && p.r.Summary() {
		addCount(rec, n)
	}
	if p.next == nil {
		return nil
	}
	return p.next.OnEmit(ctx, rec)
}

// stamp adds the missing stamped attributes, redacts the others and
// returns how many attributes it redacted.
func (p *Processor) stamp(ctx context.Context, rec *sdklog.Record) int {
	stamped := otelbearer.Attributes(ctx)
	if len(stamped) > 64 {
		stamped = stamped[:64] // the present mask has 64 bits; the root stamps at most 4
	}
	// First pass, no allocation: is anything to do?
	var present uint64
	redact := false
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		present |= mask(stamped, kv.Key)
		if !redact {
			_, redact = p.r.KeyValue(kv)
		}
		return true
	})
	missing := len(stamped) > 0 && present != 1<<len(stamped)-1
	if !redact && !missing {
		return 0
	}
	n := 0
	attrs := make([]attribute.KeyValue, 0, rec.AttributesLen()+len(stamped))
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv, changed := p.r.KeyValue(kv)
		if changed {
			n++
		}
		attrs = append(attrs, kv)
		return true
	})
	for i, kv := range stamped {
		if present&(1<<i) == 0 {
			attrs = append(attrs, kv)
		}
	}
	rec.SetAttributes(attrs...)
	return n
}

// addCount adds n to the record's redaction.count, or sets it.
func addCount(rec *sdklog.Record, n int) {
	attrs := make([]attribute.KeyValue, 0, rec.AttributesLen()+1)
	found := false
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == otelbearer.RedactionCountKey && kv.Value.Type() == attribute.INT64 {
			kv = otelbearer.RedactionCountKey.Int64(kv.Value.AsInt64() + int64(n))
			found = true
		}
		attrs = append(attrs, kv)
		return true
	})
	if !found {
		attrs = append(attrs, otelbearer.RedactionCountKey.Int(n))
	}
	rec.SetAttributes(attrs...)
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
