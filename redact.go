package otelbearer

import (
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer/internal/redact"
)

// Redacted replaces a redacted value; Authorization values keep their
// scheme ("Bearer REDACTED") and URLs their shape.
const Redacted = redact.Redacted

// Redactor replaces credentials in telemetry values with [Redacted] and
// makes every string valid UTF-8 and bounded; a nil *Redactor redacts
// nothing. It is immutable and safe for concurrent use. Rules and
// precedence: docs/redaction.md.
type Redactor struct{ e *redact.Redactor }

func init() {
	redact.Unwrap = func(r any) *redact.Redactor {
		if r, ok := r.(*Redactor); ok && r != nil {
			return r.e
		}
		return nil
	}
}

// engine returns the engine of r; nil for a nil r, which redacts nothing.
func (r *Redactor) engine() *redact.Redactor {
	if r == nil {
		return nil
	}
	return r.e
}

// RedactOption configures a [Redactor]; [NewRedactor] fails on an empty
// name, an invalid expression or a bound outside [256 B, 64 MiB].
type RedactOption interface{ applyRedact(*redact.Config) }

type redactOptionFunc func(*redact.Config)

func (f redactOptionFunc) applyRedact(c *redact.Config) { f(c) }

// NewRedactor returns a Redactor with the default rules plus opts, or an
// error wrapping every invalid option.
func NewRedactor(opts ...RedactOption) (*Redactor, error) {
	var c redact.Config
	for _, o := range opts {
		if o != nil {
			o.applyRedact(&c)
		}
	}
	e, err := redact.New(c)
	if err != nil {
		return nil, err
	}
	return &Redactor{e: e}, nil
}

// String redacts, makes valid UTF-8 and bounds one value found under key
// ("" for unkeyed text), and reports whether it changed.
func (r *Redactor) String(key, value string) (string, bool) {
	return r.engine().String(key, value)
}

// Resource returns res redacted as spans export it, for a provider whose
// records cannot be rewritten (an sdk/log LoggerProvider).
func (r *Redactor) Resource(res *resource.Resource) *resource.Resource {
	return r.engine().Resource(res)
}

// NewRedactingSpanProcessor returns a processor, registered in place of
// next, that hands next a redacted copy of every ended span, never
// modifying the SDK's snapshot. A nil r redacts nothing.
func NewRedactingSpanProcessor(next sdktrace.SpanProcessor, r *Redactor) sdktrace.SpanProcessor {
	return redact.NewSpanProcessor(next, r.engine())
}

// NewRedactingExporter returns an exporter that hands next redacted copies
// of the spans, as [NewRedactingSpanProcessor] does. A nil r redacts
// nothing.
func NewRedactingExporter(next sdktrace.SpanExporter, r *Redactor) sdktrace.SpanExporter {
	return redact.NewExporter(next, r.engine())
}

// WithSensitiveKeys adds attribute keys whose values become [Redacted]. A
// name matches the full key or its last dot-separated segment, ignoring
// case and '-' versus '_' ("password" matches "db.password").
func WithSensitiveKeys(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Keys = append(c.Keys, c.CheckNames("sensitive key", names)...)
	})
}

// WithSensitiveHeaders adds header names (any case) whose captured values
// (http.request.header.<name>, …) become [Redacted].
func WithSensitiveHeaders(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Headers = append(c.Headers, c.CheckNames("sensitive header", names)...)
	})
}

// WithSensitiveQueryParams adds URL query and form parameter names (any
// case, up to 64 bytes) whose values become [Redacted] wherever they appear.
func WithSensitiveQueryParams(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.CheckParams(names)
		c.Params = append(c.Params, c.CheckNames("query parameter", names)...)
	})
}

// WithValuePatterns adds RE2 expressions whose matches in any string value
// become [Redacted]. One without a literal prefix runs on every string.
func WithValuePatterns(exprs ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Patterns = append(c.Patterns, c.CheckNames("value pattern", exprs)...)
	})
}

// WithHeaderAllowList makes captured headers fail closed: every header not
// listed (any case) becomes [Redacted]; no names redacts them all.
func WithHeaderAllowList(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.AllowMode = true
		c.Allow = append(c.Allow, c.CheckNames("allowed header", names)...)
	})
}

// WithRedactionSummary turns redaction.count (how many values were
// replaced) on changed spans and log records on or off (the default).
func WithRedactionSummary(on bool) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.Summary = on })
}

// WithMaxValueBytes bounds each string value and key to n bytes (default
// 8 KiB, at most the record bound), cut at a UTF-8 boundary after
// redaction and counted in [RedactionSanitizedKey].
func WithMaxValueBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.MaxValue = c.CheckBound("value", n) })
}

// WithMaxRecordBytes bounds the strings of one span or log record, keys
// included, to n bytes (default 64 KiB) by cutting the longest values, so
// that short ones stay whole.
func WithMaxRecordBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.MaxRecord = c.CheckBound("record", n) })
}
