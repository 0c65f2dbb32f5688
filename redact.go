package otelbearer

import (
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

	resCache atomic.Pointer[redactResourceCache] // see (*Redactor).resource
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

// String redacts one string value found under key (the attribute or field
// name; "" for a span name or other unkeyed text). It returns the value to
// export and whether it differs from value. It never fails and never
// panics; the result is stable under a second call.
func (r *Redactor) String(key, value string) (string, bool) {
	if r == nil {
		return value, false
	}
	out := r.redactString(r.classify(key), key, value)
	return out, out != value
}

// KeyValue redacts one attribute. STRING, STRINGSLICE and BYTESLICE values
// are redacted element by element; SLICE and MAP values recursively (a MAP
// member's own key selects its key rules). Other types pass unchanged. The
// bool reports whether the result differs; the input is never modified.
func (r *Redactor) KeyValue(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	if r == nil {
		return kv, false
	}
	out, n := r.keyValue(kv)
	return out, n > 0
}

// KeyValues redacts a list of attributes and returns the list to export and
// the number of values replaced. When nothing changes it returns in itself,
// without allocating; otherwise a fresh slice. in is never modified (SDK
// snapshots share their slices).
func (r *Redactor) KeyValues(in []attribute.KeyValue) (out []attribute.KeyValue, n int) {
	if r == nil {
		return in, 0
	}
	out = in
	for i := range in {
		if !r.mayChange(&in[i]) {
			continue
		}
		kv, c := r.keyValue(in[i])
		if c == 0 {
			continue
		}
		if n == 0 {
			out = make([]attribute.KeyValue, len(in))
			copy(out, in)
		}
		out[i] = kv
		n += c
	}
	return out, n
}

// mayChange is the fast path of KeyValues: false when kv certainly stays
// as it is. It decides STRING values fully and never copies kv.
func (r *Redactor) mayChange(kv *attribute.KeyValue) bool {
	t := kv.Value.Type()
	if t == attribute.STRING {
		key := string(kv.Key)
		s := kv.Value.AsString()
		return r.redactString(r.classify(key), key, s) != s
	}
	return t == attribute.STRINGSLICE || t == attribute.BYTESLICE || t == attribute.SLICE || t == attribute.MAP
}

func (r *Redactor) keyValue(kv attribute.KeyValue) (attribute.KeyValue, int) {
	key := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.STRING:
		s := kv.Value.AsString()
		if out := r.redactString(r.classify(key), key, s); out != s {
			return attribute.String(key, out), 1
		}
	case attribute.BYTESLICE:
		// AsString returns a BYTESLICE's bytes without copying them
		// (pinned by TestRedactByteSliceAsString).
		s := kv.Value.AsString()
		if out := r.redactString(r.classify(key), key, s); out != s {
			return attribute.ByteSlice(key, []byte(out)), 1
		}
	case attribute.STRINGSLICE:
		c := r.classify(key)
		ss := kv.Value.AsStringSlice() // a copy: ours to change
		n := 0
		for i, s := range ss {
			if out := r.redactString(c, key, s); out != s {
				ss[i] = out
				n++
			}
		}
		if n > 0 {
			return attribute.StringSlice(key, ss), n
		}
	case attribute.SLICE:
		vs := kv.Value.AsSlice() // a copy
		n := 0
		for i, v := range vs {
			out, c := r.keyValue(attribute.KeyValue{Key: kv.Key, Value: v})
			if c > 0 {
				vs[i] = out.Value
				n += c
			}
		}
		if n > 0 {
			return attribute.Slice(key, vs...), n
		}
	case attribute.MAP:
		m := kv.Value.AsMap() // a copy
		n := 0
		for i, member := range m {
			out, c := r.keyValue(member)
			if c > 0 {
				m[i] = out
				n += c
			}
		}
		if n > 0 {
			return attribute.Map(key, m...), n
		}
	}
	return kv, 0
}
