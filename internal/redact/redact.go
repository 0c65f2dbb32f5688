package redact

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// Redacted is the marker that replaces a redacted value.
const Redacted = "REDACTED"

// The attributes the redactor adds to what it changed.
var (
	countKey     = attribute.Key(attrkey.RedactionCount)
	sanitizedKey = attribute.Key(attrkey.RedactionSanitized)
)

// ErrConfig is wrapped by every configuration error of [New].
var ErrConfig = errors.New("otelbearer: invalid redaction config")

// Config is what the root package's options set; [New] checks it.
type Config struct {
	Keys, Headers, Params []string // sensitive attribute keys, headers, URL parameters
	Patterns              []string // RE2 value patterns
	Allow                 []string // allowed headers, with AllowMode
	AllowMode             bool
	Summary               bool
	MaxValue, MaxRecord   int // 0: the default
	Errs                  []error
}

// CheckNames returns names without the empty ones, each of which adds an
// error to c.
func (c *Config) CheckNames(what string, names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			c.Errs = append(c.Errs, fmt.Errorf("%w: empty %s", ErrConfig, what))
			continue
		}
		out = append(out, n)
	}
	return out
}

// CheckParams adds an error to c for each name longer than a parameter
// name may be.
func (c *Config) CheckParams(names []string) {
	for _, n := range names {
		if len(n) > maxParam {
			c.Errs = append(c.Errs, fmt.Errorf("%w: query parameter name longer than %d bytes", ErrConfig, maxParam))
		}
	}
}

// CheckBound returns n when it is a valid bound, else 0 with an error
// added to c.
func (c *Config) CheckBound(what string, n int) int {
	if n < minBound || n > maxBound {
		c.Errs = append(c.Errs, fmt.Errorf("%w: %s bound %d bytes outside [%d, %d]", ErrConfig, what, n, minBound, maxBound))
		return 0
	}
	return n
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

	resCache atomic.Pointer[resourceCache] // see (*Redactor).resource
	scopeOK  atomic.Pointer[[2]string]     // a scope name and version found clean
}

// Summary reports whether [WithRedactionSummary] is on: whoever applies
// the Redactor (the span wrappers, logbridge) then adds redaction.count to
// what it changed.
func (r *Redactor) Summary() bool { return r != nil && r.summary }

// New returns a Redactor with the default rules plus those of c. Invalid
// configuration returns an error wrapping [ErrConfig]; no partial Redactor
// is returned.
func New(c Config) (*Redactor, error) {
	c.Errs = slices.Clip(c.Errs)
	r := &Redactor{
		allowMode: c.AllowMode,
		summary:   c.Summary,
		maxRecord: cmp.Or(c.MaxRecord, DefaultMaxRecordBytes),
	}
	r.maxValue = cmp.Or(c.MaxValue, min(DefaultMaxValueBytes, r.maxRecord))
	if r.maxValue > r.maxRecord {
		c.Errs = append(c.Errs, fmt.Errorf("%w: value bound %d bytes above the record bound %d", ErrConfig, r.maxValue, r.maxRecord))
	}
	for _, p := range c.Params {
		var buf [maxParam]byte
		if n := squash(&buf, p); n > 0 {
			if r.params == nil {
				r.params = make(map[string]uint8, len(c.Params))
			}
			r.params[string(buf[:n])] = paramQuery | paramText
		}
	}
	if len(c.Keys) > 0 {
		r.extraKeys = make(map[string]struct{}, len(c.Keys))
		for _, k := range c.Keys {
			r.extraKeys[normalizeKey(k)] = struct{}{}
		}
	}
	if len(c.Headers) > 0 {
		r.extraHeaders = make(map[string]struct{}, len(c.Headers))
		for _, h := range c.Headers {
			r.extraHeaders[normalizeHeader(h)] = struct{}{}
		}
	}
	if c.AllowMode {
		r.allow = make(map[string]struct{}, len(c.Allow))
		for _, h := range c.Allow {
			r.allow[normalizeHeader(h)] = struct{}{}
		}
	}
	for _, expr := range c.Patterns {
		re, err := regexp.Compile(expr)
		if err != nil {
			c.Errs = append(c.Errs, fmt.Errorf("%w: value pattern %q: %w", ErrConfig, expr, err))
			continue
		}
		prefix, _ := re.LiteralPrefix()
		r.patterns = append(r.patterns, re)
		r.prefixes = append(r.prefixes, prefix)
	}
	if err := errors.Join(c.Errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Unwrap returns the engine of the root package's *Redactor (nil for a nil
// one, which redacts nothing). The root package sets it when it is
// initialized, so that logbridge applies the rules a user configured
// without the facade exporting the engine's methods.
var Unwrap func(facade any) *Redactor
