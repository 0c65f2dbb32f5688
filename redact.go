package otelbearer

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// Redacted is the marker that replaces a redacted value. Authorization-like
// values keep their scheme ("Bearer REDACTED"), URLs keep their shape
// ("https://REDACTED:REDACTED@host/p?access_token=REDACTED"). A second pass
// over a redacted value leaves it unchanged.
const Redacted = "REDACTED"

// RedactionSanitizedKey counts the string values and keys of a span or log
// record that the redactor had to change to export them at all: invalid
// UTF-8 replaced by U+FFFD (OTLP strings must be UTF-8: one invalid byte
// makes the exporter drop the whole batch), or cut to the value bound
// ([WithMaxValueBytes]) or the record bound ([WithMaxRecordBytes]). It is
// set, whatever [WithRedactionSummary] says, on every span and record that
// needed it, and never carries the values.
const RedactionSanitizedKey = attribute.Key("redaction.sanitized")

// errRedactConfig is wrapped by every configuration error of [NewRedactor].
var errRedactConfig = errors.New("otelbearer: invalid redaction config")

// RedactOption configures a [Redactor]. Options are applied in order by
// [NewRedactor]; a nil option is ignored.
type RedactOption interface {
	applyRedact(*redactConfig)
}

type redactOptionFunc func(*redactConfig)

func (f redactOptionFunc) applyRedact(c *redactConfig) { f(c) }

type redactConfig struct {
	keys, headers, params []string
	patterns              []string
	allow                 []string
	allowMode             bool
	summary               bool
	maxValue, maxRecord   int
	errs                  []error
}

// WithSensitiveKeys adds attribute keys whose string values are replaced by
// [Redacted] as a whole. A name matches, case-insensitively and with '-'
// equal to '_', the full key or its last dot-separated segment ("password"
// matches "db.password"). The package's own keys (token.fingerprint,
// auth.*, ...) are never matched. An empty name fails [NewRedactor].
func WithSensitiveKeys(names ...string) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.keys = append(c.keys, checkNames(c, "sensitive key", names)...)
	})
}

// WithSensitiveHeaders adds HTTP header names whose captured values
// (http.request.header.<name>, http.response.header.<name>) are replaced by
// [Redacted]. Names are case-insensitive. An empty name fails [NewRedactor].
func WithSensitiveHeaders(names ...string) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.headers = append(c.headers, checkNames(c, "sensitive header", names)...)
	})
}

// WithSensitiveQueryParams adds URL query (and form) parameter names whose
// values are replaced by [Redacted] wherever a URL or query string appears;
// the parameter name is kept. Names are case-insensitive and at most 64
// bytes long. An empty or longer name fails [NewRedactor].
func WithSensitiveQueryParams(names ...string) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		for _, n := range names {
			if len(n) > redactMaxParam {
				c.errs = append(c.errs, fmt.Errorf("%w: query parameter name longer than %d bytes", errRedactConfig, redactMaxParam))
			}
		}
		c.params = append(c.params, checkNames(c, "query parameter", names)...)
	})
}

// WithValuePatterns adds regular expressions (RE2 syntax, [regexp]) matched
// against every string value; each match is replaced by [Redacted]. They
// are compiled once by [NewRedactor], which fails with a wrapped error on an
// invalid expression. A pattern without a literal prefix runs on every
// string and costs more than the built-in rules.
func WithValuePatterns(exprs ...string) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.patterns = append(c.patterns, checkNames(c, "value pattern", exprs)...)
	})
}

// WithHeaderAllowList switches captured headers to fail-closed mode: every
// http.request.header.* and http.response.header.* attribute whose header
// name is not listed is replaced by [Redacted]; listed ones still go through
// the value rules. Names are case-insensitive. Calling it with no names
// redacts every captured header.
func WithHeaderAllowList(names ...string) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.allowMode = true
		c.allow = append(c.allow, checkNames(c, "allowed header", names)...)
	})
}

// WithRedactionSummary, when on, makes the span redaction add the
// redaction.count attribute (int: the number of values replaced) to every
// span it changed. It never carries the values. Off by default.
func WithRedactionSummary(on bool) RedactOption {
	return redactOptionFunc(func(c *redactConfig) { c.summary = on })
}

func checkNames(c *redactConfig, what string, names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: empty %s", errRedactConfig, what))
			continue
		}
		out = append(out, n)
	}
	return out
}

// Redactor replaces credentials in telemetry values with [Redacted]. Its
// rules are fixed by [NewRedactor]; a *Redactor is immutable and safe for
// concurrent use. The zero value is not usable; a nil *Redactor redacts
// nothing.
//
// Precedence, first match wins: the package's own attributes (exact key and
// expected value shape) > the header allow-list > key rules (sensitive
// headers and keys) > URL rules > value rules. URL and value rules run on
// every string value, whatever its key.
type Redactor struct {
	extraKeys    map[string]struct{} // normalized full keys and segments
	extraHeaders map[string]struct{} // lowercase header names
	allow        map[string]struct{} // lowercase header names
	allowMode    bool
	summary      bool
	params       map[string]uint8 // operator's param names, lowercase without '_' '-' -> flags
	patterns     []*regexp.Regexp
	prefixes     []string // literal prefixes of patterns, "" = always run
	maxValue     int      // bound of one string value or key, in bytes
	maxRecord    int      // bound of the string bytes of one span or record

	resCache atomic.Pointer[redactResourceCache] // see (*Redactor).resource
	scopeOK  atomic.Pointer[[2]string]           // a scope name and version found clean
}

// Summary reports whether [WithRedactionSummary] is on: whoever applies
// the Redactor (the span wrappers, logbridge) then adds redaction.count to
// what it changed.
func (r *Redactor) Summary() bool { return r != nil && r.summary }

// NewRedactor returns a Redactor with the default rules plus opts. Invalid
// configuration (an empty name, an invalid regular expression) returns an
// error wrapping the cause; no partial Redactor is returned.
func NewRedactor(opts ...RedactOption) (*Redactor, error) {
	var c redactConfig
	for _, o := range opts {
		if o != nil {
			o.applyRedact(&c)
		}
	}
	r := &Redactor{
		allowMode: c.allowMode,
		summary:   c.summary,
		maxRecord: cmp.Or(c.maxRecord, DefaultMaxRecordBytes),
	}
	r.maxValue = cmp.Or(c.maxValue, min(DefaultMaxValueBytes, r.maxRecord))
	if r.maxValue > r.maxRecord {
		c.errs = append(c.errs, fmt.Errorf("%w: value bound %d bytes above the record bound %d", errRedactConfig, r.maxValue, r.maxRecord))
	}
	for _, p := range c.params {
		var buf [redactMaxParam]byte
		if n := redactSquash(&buf, p); n > 0 {
			if r.params == nil {
				r.params = make(map[string]uint8, len(c.params))
			}
			r.params[string(buf[:n])] = redactParamQuery | redactParamText
		}
	}
	if len(c.keys) > 0 {
		r.extraKeys = make(map[string]struct{}, len(c.keys))
		for _, k := range c.keys {
			r.extraKeys[normalizeKey(k)] = struct{}{}
		}
	}
	if len(c.headers) > 0 {
		r.extraHeaders = make(map[string]struct{}, len(c.headers))
		for _, h := range c.headers {
			r.extraHeaders[normalizeHeader(h)] = struct{}{}
		}
	}
	if c.allowMode {
		r.allow = make(map[string]struct{}, len(c.allow))
		for _, h := range c.allow {
			r.allow[normalizeHeader(h)] = struct{}{}
		}
	}
	for _, expr := range c.patterns {
		re, err := regexp.Compile(expr)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("%w: value pattern %q: %w", errRedactConfig, expr, err))
			continue
		}
		prefix, _ := re.LiteralPrefix()
		r.patterns = append(r.patterns, re)
		r.prefixes = append(r.prefixes, prefix)
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return r, nil
}
