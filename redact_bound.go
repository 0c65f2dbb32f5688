package otelbearer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

// Bounds: what leaves the process is valid UTF-8 (OTLP strings must be;
// one invalid byte makes the exporter fail the whole batch) and bounded
// (a batch must stay under the receiver's message limit).

const (
	// DefaultMaxValueBytes is the default bound of one string value or
	// key, in bytes ([WithMaxValueBytes]).
	DefaultMaxValueBytes = 8 << 10
	// DefaultMaxRecordBytes is the default bound of all the strings of
	// one span or log record together, keys included ([WithMaxRecordBytes]):
	// a default batch of 512 spans stays near 32 MiB.
	DefaultMaxRecordBytes = 64 << 10

	redactMinBound = 256      // smallest bound an option accepts
	redactMaxBound = 64 << 20 // largest bound an option accepts
	// redactWindow is how far past the value bound the rules look before
	// the value is cut: a credential that straddles the cut is still seen
	// (a URL authority cut off by the window is replaced whole).
	redactWindow = 1<<10 + 64
	// redactReserve is kept free in the record bound for the attributes the
	// redactor adds (redaction.count, redaction.sanitized).
	redactReserve = 64
)

// WithMaxValueBytes bounds every string value and key to n bytes
// (default [DefaultMaxValueBytes], or the record bound if that is
// smaller): a longer one is cut at a UTF-8 boundary after redaction and
// counted in [RedactionSanitizedKey]. The rules look at up to about 1 KiB
// past the bound, so a value of any length costs at most that much. n
// must be between 256 bytes and 64 MiB and at most the record bound, else
// [NewRedactor] fails.
func WithMaxValueBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.maxValue = checkBound(c, "value", n)
	})
}

// WithMaxRecordBytes bounds the strings of one span (name, attributes,
// events, links, status description) or log record (body and attributes)
// together, keys included, to n bytes (default [DefaultMaxRecordBytes]).
// Over it, the longest values are cut to a common length so that the
// short ones (the package's own attributes among them) stay whole. n must
// be between 256 bytes and 64 MiB, else [NewRedactor] fails. Resource and
// scope values are bounded one by one, not by this.
func WithMaxRecordBytes(n int) RedactOption {
	return redactOptionFunc(func(c *redactConfig) {
		c.maxRecord = checkBound(c, "record", n)
	})
}

func checkBound(c *redactConfig, what string, n int) int {
	if n < redactMinBound || n > redactMaxBound {
		c.errs = append(c.errs, fmt.Errorf("%w: %s bound %d bytes outside [%d, %d]", errRedactConfig, what, n, redactMinBound, redactMaxBound))
		return 0
	}
	return n
}

// MaxRecordBytes returns the record bound ([WithMaxRecordBytes]); whoever
// applies the Redactor to a record compares [RedactStats].Bytes with it
// and calls [Redactor.FitRecord] when over.
func (r *Redactor) MaxRecordBytes() int {
	if r == nil {
		return math.MaxInt
	}
	return r.maxRecord
}

// value redacts s (class c, found under key), makes it valid UTF-8 when
// text, and cuts it to the value bound. It returns s itself when nothing
// changes.
func (r *Redactor) value(c redactClass, key, s string, text bool) (string, RedactStats) {
	if len(s) <= r.maxValue {
		out, ascii, changed := r.redactString(c, key, s)
		if !changed && (ascii || !text || utf8.ValidString(s)) {
			return s, RedactStats{Bytes: len(s)} // the common case
		}
		return r.finish(s, out, ascii, changed, false, text)
	}
	w := s[:min(len(s), r.maxValue+redactWindow)]
	out, ascii, changed := r.redactString(c, key, w)
	if len(w) < len(s) && c != redactFull && c != redactScheme {
		// A URL authority cut off by the window may hold userinfo whose
		// '@' the rules never saw: fail closed.
		if i := strings.LastIndex(out, "://"); i >= 0 && !strings.ContainsAny(out[i+3:], "/?#@ \t\r\n\"'<>") {
			out, changed = out[:i+3]+Redacted, true
		}
	}
	return r.finish(s, out, ascii, changed, true, text)
}

// finish makes out (the redacted form of in, or of a window of it when
// cut) valid UTF-8 when text and cuts it to the value bound.
func (r *Redactor) finish(in, out string, ascii, redacted, cut, text bool) (string, RedactStats) {
	sanitized := cut
	if text && !ascii && !utf8.ValidString(out) {
		out, sanitized = strings.ToValidUTF8(out, "\uFFFD"), true
	}
	if len(out) > r.maxValue {
		out, sanitized = redactCut(out, r.maxValue, text), true
	}
	if out == in {
		return in, RedactStats{Bytes: len(in)}
	}
	st := RedactStats{Bytes: len(out)}
	if redacted {
		st.Redacted = 1
	}
	if sanitized {
		st.Sanitized = 1
	}
	return out, st
}

// bound makes a key or other unredacted string valid UTF-8 and cuts it to
// the value bound; ok is false when it changed.
func (r *Redactor) bound(s string, text bool) (string, bool) {
	if len(s) <= r.maxValue && (!text || utf8.ValidString(s)) {
		return s, true
	}
	if text {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > r.maxValue {
		s = redactCut(s, r.maxValue, text)
	}
	return s, false
}

// redactCut cuts s to at most n bytes; text is cut at a rune boundary.
func redactCut(s string, n int, text bool) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	if text {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
	}
	return s[:n]
}

// FitRecord cuts the longest string values of one log record (body and
// attributes) to a common length so that all its strings, keys included,
// fit in the record bound; short values stay whole. attrs is changed in
// place: pass a slice the caller owns. It returns the body and the number
// of values cut. Call it with what [Redactor.KeyValueStats] returned, when
// the Bytes added up exceed [Redactor.MaxRecordBytes].
func (r *Redactor) FitRecord(body attribute.Value, attrs []attribute.KeyValue) (attribute.Value, int) {
	if r == nil {
		return body, 0
	}
	var lens []int
	keys := 0
	lens = redactValueLens(body, lens)
	for _, kv := range attrs {
		keys += len(kv.Key) + redactMapKeyBytes(kv.Value)
		lens = redactValueLens(kv.Value, lens)
	}
	c := redactFitCap(lens, r.maxRecord-redactReserve-keys)
	body, n := redactCutValue(body, c)
	for i := range attrs {
		v, k := redactCutValue(attrs[i].Value, c)
		attrs[i].Value = v
		n += k
	}
	return body, n
}

// redactFitCap returns the largest length c such that the strings of
// lens, each cut to c, add up to at most avail. lens is sorted.
func redactFitCap(lens []int, avail int) int {
	avail = max(avail, 0)
	slices.Sort(lens)
	for i, l := range lens {
		rest := len(lens) - i
		if l > avail/rest {
			return avail / rest
		}
		avail -= l
	}
	return math.MaxInt
}

// redactValueLens appends the length of every string in v to lens.
func redactValueLens(v attribute.Value, lens []int) []int {
	switch v.Type() {
	case attribute.STRING, attribute.BYTESLICE:
		lens = append(lens, len(v.AsString()))
	case attribute.STRINGSLICE:
		for _, s := range v.AsStringSlice() {
			lens = append(lens, len(s))
		}
	case attribute.SLICE:
		for _, e := range v.AsSlice() {
			lens = redactValueLens(e, lens)
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			lens = redactValueLens(kv.Value, lens)
		}
	}
	return lens
}

// redactMapKeyBytes is the length of the member keys inside v.
func redactMapKeyBytes(v attribute.Value) int {
	n := 0
	switch v.Type() {
	case attribute.SLICE:
		for _, e := range v.AsSlice() {
			n += redactMapKeyBytes(e)
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			n += len(kv.Key) + redactMapKeyBytes(kv.Value)
		}
	}
	return n
}

// redactCutValue cuts every string in v longer than c to c bytes and
// returns the result and how many it cut.
func redactCutValue(v attribute.Value, c int) (attribute.Value, int) {
	switch v.Type() {
	case attribute.STRING:
		if s := v.AsString(); len(s) > c {
			return attribute.StringValue(redactCut(s, c, true)), 1
		}
	case attribute.BYTESLICE:
		if s := v.AsString(); len(s) > c {
			return attribute.ByteSliceValue([]byte(s[:c])), 1
		}
	case attribute.STRINGSLICE:
		ss, n := v.AsStringSlice(), 0
		for i, s := range ss {
			if len(s) > c {
				ss[i], n = redactCut(s, c, true), n+1
			}
		}
		if n > 0 {
			return attribute.StringSliceValue(ss), n
		}
	case attribute.SLICE:
		vs, n := v.AsSlice(), 0
		for i, e := range vs {
			var k int
			vs[i], k = redactCutValue(e, c)
			n += k
		}
		if n > 0 {
			return attribute.SliceValue(vs...), n
		}
	case attribute.MAP:
		m, n := v.AsMap(), 0
		for i := range m {
			var k int
			m[i].Value, k = redactCutValue(m[i].Value, c)
			n += k
		}
		if n > 0 {
			return attribute.MapValue(m...), n
		}
	}
	return v, 0
}

// redactCutKeyValues cuts the values of in as redactCutValue does; it
// returns in itself when nothing is cut, else a fresh slice.
func redactCutKeyValues(in []attribute.KeyValue, c int) ([]attribute.KeyValue, int) {
	out, n := in, 0
	for i := range in {
		v, k := redactCutValue(in[i].Value, c)
		if k == 0 {
			continue
		}
		if n == 0 {
			out = slices.Clone(in)
		}
		out[i].Value = v
		n += k
	}
	return out, n
}
