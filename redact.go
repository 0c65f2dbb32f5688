package otelbearer

import (
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer/internal/redact"
)

// Redacted is the marker that replaces a redacted value. Authorization-like
// values keep their scheme ("Bearer REDACTED"), URLs their shape
// ("https://REDACTED:REDACTED@host/p?access_token=REDACTED"); a second pass
// leaves a redacted value unchanged.
const Redacted = redact.Redacted

// Redactor replaces credentials in telemetry values with [Redacted]. Its
// rules are fixed by [NewRedactor]; a *Redactor is immutable and safe for
// concurrent use; a nil *Redactor redacts nothing. Precedence, first match
// wins: the package's own attributes (exact key and expected value shape)
// > the header allow-list > key rules (sensitive headers and keys) > URL
// rules > value rules, which run on every string whatever its key. Every
// string is also made valid UTF-8 and bounded ([WithMaxValueBytes],
// [WithMaxRecordBytes]). See docs/redaction.md for what is covered.
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

// RedactOption configures a [Redactor]. Options are applied in order by
// [NewRedactor]; a nil option is ignored.
type RedactOption interface{ applyRedact(*redact.Config) }

type redactOptionFunc func(*redact.Config)

func (f redactOptionFunc) applyRedact(c *redact.Config) { f(c) }

// NewRedactor returns a Redactor with the default rules plus opts. Invalid
// configuration (an empty name, an invalid regular expression, a bound out
// of range) returns an error wrapping the cause; no partial Redactor is
// returned.
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

// String redacts one string value found under key (the attribute or field
// name; "" for unkeyed text), makes it valid UTF-8 and bounds it. It
// returns the value to export and whether it differs; it never fails and a
// second call leaves the result unchanged.
func (r *Redactor) String(key, value string) (string, bool) {
	return r.engine().String(key, value)
}

// Resource returns res with its attributes redacted and bounded as spans
// export it (res itself when nothing changes), for a provider whose
// records cannot be rewritten, such as an sdk/log LoggerProvider.
func (r *Redactor) Resource(res *resource.Resource) *resource.Resource {
	return r.engine().Resource(res)
}

// NewRedactingSpanProcessor returns a span processor that hands next a
// redacted copy of every ended span: name, attributes, status description,
// events (the exception event of a panic included), links' attributes,
// resource and scope. The SDK's snapshot is never modified; a span with
// nothing to redact is passed on as it is, without allocating. A processor
// cannot remove an attribute at start, so OnStart passes the span on
// unchanged. Register it in place of next. A nil r redacts nothing.
func NewRedactingSpanProcessor(next sdktrace.SpanProcessor, r *Redactor) sdktrace.SpanProcessor {
	return redact.NewSpanProcessor(next, r.engine())
}

// NewRedactingExporter returns a span exporter that hands next redacted
// copies of the spans it exports, as [NewRedactingSpanProcessor] does. The
// input slice is never modified. A nil r redacts nothing.
func NewRedactingExporter(next sdktrace.SpanExporter, r *Redactor) sdktrace.SpanExporter {
	return redact.NewExporter(next, r.engine())
}

// WithSensitiveKeys adds attribute keys whose string values are replaced by
// [Redacted] as a whole. A name matches, case-insensitively and with '-'
// equal to '_', the full key or its last dot-separated segment ("password"
// matches "db.password"), our own keys included. An empty name fails
// [NewRedactor].
func WithSensitiveKeys(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Keys = append(c.Keys, c.CheckNames("sensitive key", names)...)
	})
}

// WithSensitiveHeaders adds HTTP header names whose captured values
// (http.request.header.<name>, http.response.header.<name>) are replaced by
// [Redacted]. Names are case-insensitive. An empty name fails [NewRedactor].
func WithSensitiveHeaders(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Headers = append(c.Headers, c.CheckNames("sensitive header", names)...)
	})
}

// WithSensitiveQueryParams adds URL query (and form) parameter names whose
// values are replaced by [Redacted] wherever a URL, query string or
// name=value text appears; the name is kept. Names are case-insensitive and
// at most 64 bytes long; an empty or longer name fails [NewRedactor].
func WithSensitiveQueryParams(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.CheckParams(names)
		c.Params = append(c.Params, c.CheckNames("query parameter", names)...)
	})
}

// WithValuePatterns adds regular expressions (RE2 syntax, [regexp]) matched
// against every string value; each match is replaced by [Redacted]. An
// invalid expression fails [NewRedactor]. A pattern without a literal
// prefix runs on every string and costs more than the built-in rules.
func WithValuePatterns(exprs ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.Patterns = append(c.Patterns, c.CheckNames("value pattern", exprs)...)
	})
}

// WithHeaderAllowList switches captured headers to fail-closed mode: every
// http.request.header.* and http.response.header.* attribute whose header
// name is not listed (case-insensitively) is replaced by [Redacted]; listed
// ones still go through the value rules. No names redacts every header.
func WithHeaderAllowList(names ...string) RedactOption {
	return redactOptionFunc(func(c *redact.Config) {
		c.AllowMode = true
		c.Allow = append(c.Allow, c.CheckNames("allowed header", names)...)
	})
}

// WithRedactionSummary turns on or off (the default) the redaction.count
// attribute (the number of values replaced, never the values) on every
// span and log record the redaction changed.
func WithRedactionSummary(on bool) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.Summary = on })
}

// WithMaxValueBytes bounds every string value and key to n bytes (default
// 8 KiB, or the record bound if smaller): a longer one is cut at a UTF-8
// boundary after redaction and counted in [RedactionSanitizedKey]. n must
// be between 256 bytes and 64 MiB and at most the record bound, else
// [NewRedactor] fails.
func WithMaxValueBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.MaxValue = c.CheckBound("value", n) })
}

// WithMaxRecordBytes bounds the strings of one span or log record
// together, keys included, to n bytes (default 64 KiB): over it, the
// longest values are cut to a common length so that short ones (our own
// attributes among them) stay whole. n must be between 256 bytes and 64
// MiB, else [NewRedactor] fails. Resource and scope values are bounded one
// by one.
func WithMaxRecordBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redact.Config) { c.MaxRecord = c.CheckBound("record", n) })
}
