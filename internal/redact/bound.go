package redact

import (
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
	// key, in bytes.
	DefaultMaxValueBytes = 8 << 10
	// DefaultMaxRecordBytes is the default bound of all the strings of
	// one span or log record together, keys included:
	// a default batch of 512 spans stays near 32 MiB.
	DefaultMaxRecordBytes = 64 << 10

	minBound = 256      // smallest bound an option accepts
	maxBound = 64 << 20 // largest bound an option accepts
	// lookWindow is how far past the value bound the rules look before
	// the value is cut: a credential that straddles the cut is still seen
	// (a URL authority cut off by the window is replaced whole).
	lookWindow = 1<<10 + 64
	// reserve is kept free in the record bound for the attributes the
	// redactor adds (redaction.count, redaction.sanitized).
	reserve = 64
)

// MaxRecordBytes returns the record bound; whoever
// applies the Redactor to a record compares [Stats].Bytes with it
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
func (r *Redactor) value(c keyClass, key, s string, text bool) (string, Stats) {
	if r.quickClean(c, s) {
		return s, Stats{Bytes: len(s)} // the commonest case: one look at each byte
	}
	if len(s) <= r.maxValue {
		out, ascii, changed := r.stringValue(c, key, s)
		if !changed && (ascii || !text || utf8.ValidString(s)) {
			return s, Stats{Bytes: len(s)} // the common case
		}
		return r.finish(s, out, ascii, changed, false, text)
	}
	w := s[:min(len(s), r.maxValue+lookWindow)]
	out, ascii, changed := r.stringValue(c, key, w)
	if len(w) < len(s) && c != classFull && c != classScheme {
		// A URL authority cut off by the window may hold userinfo whose
		// '@' the rules never saw: fail closed.
		if i := strings.LastIndex(out, "://"); i >= 0 && !strings.ContainsAny(out[i+3:], "/?#@ \t\r\n\"'<>") {
			out, changed = out[:i+3]+Redacted, true
		}
	}
	return r.finish(s, out, ascii, changed, true, text)
}

// quickClean reports, after one look at each byte, that no rule changes
// s under class c and that s is valid UTF-8 within the value bound; false
// means the rules must decide. Operator patterns always need the rules.
func (r *Redactor) quickClean(c keyClass, s string) bool {
	if r.patterns != nil || len(s) > r.maxValue {
		return false
	}
	switch c {
	case classPlain, classOwnText: // the same rules in stringValue
		return plainASCII(s)
	case classOwnHex:
		return isHex(s)
	case classOwnEnum:
		return isEnum(s)
	}
	return false
}

// plainASCII reports whether s is ASCII without a trigger byte of the
// value rules: no rule can fire on it, and it is valid UTF-8. One table
// load per byte, or-ed together eight bytes at a time so that the loop
// branches once per eight bytes, stopping at the first block with a stop.
func plainASCII(s string) bool {
	for len(s) >= 8 {
		if plainStop[s[0]]|plainStop[s[1]]|plainStop[s[2]]|plainStop[s[3]]|
			plainStop[s[4]]|plainStop[s[5]]|plainStop[s[6]]|plainStop[s[7]] != 0 {
			return false
		}
		s = s[8:]
	}
	var m uint8
	for i := 0; i < len(s); i++ {
		m |= plainStop[s[i]]
	}
	return m == 0
}

// plainStop is 1 for the trigger bytes and every byte >= 0x80.
var plainStop = func() (t [256]uint8) {
	for c := range t {
		if triggerByte[c] || c >= 0x80 {
			t[c] = 1
		}
	}
	return t
}()

// finish makes out (the redacted form of in, or of a window of it when
// cut) valid UTF-8 when text and cuts it to the value bound.
func (r *Redactor) finish(in, out string, ascii, redacted, cut, text bool) (string, Stats) {
	sanitized := cut
	if text && !ascii && !utf8.ValidString(out) {
		out, sanitized = strings.ToValidUTF8(out, "\uFFFD"), true
	}
	if len(out) > r.maxValue {
		out, sanitized = cutString(out, r.maxValue, text), true
	}
	if out == in {
		return in, Stats{Bytes: len(in)}
	}
	st := Stats{Bytes: len(out)}
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
		s = cutString(s, r.maxValue, text)
	}
	return s, false
}

// cutString cuts s to at most n bytes; text is cut at a rune boundary.
func cutString(s string, n int, text bool) string {
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
	lens = valueLens(body, lens)
	for _, kv := range attrs {
		keys += len(kv.Key) + mapKeyBytes(kv.Value)
		lens = valueLens(kv.Value, lens)
	}
	c := fitCap(lens, r.maxRecord-reserve-keys)
	body, n := cutValue(body, c)
	for i := range attrs {
		v, k := cutValue(attrs[i].Value, c)
		attrs[i].Value = v
		n += k
	}
	return body, n
}

// fitCap returns the largest length c such that the strings of
// lens, each cut to c, add up to at most avail. lens is sorted.
func fitCap(lens []int, avail int) int {
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

// valueLens appends the length of every string in v to lens.
func valueLens(v attribute.Value, lens []int) []int {
	switch v.Type() {
	case attribute.STRING, attribute.BYTESLICE:
		lens = append(lens, len(v.AsString()))
	case attribute.STRINGSLICE:
		for _, s := range v.AsStringSlice() {
			lens = append(lens, len(s))
		}
	case attribute.SLICE:
		for _, e := range v.AsSlice() {
			lens = valueLens(e, lens)
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			lens = valueLens(kv.Value, lens)
		}
	}
	return lens
}

// mapKeyBytes is the length of the member keys inside v.
func mapKeyBytes(v attribute.Value) int {
	n := 0
	switch v.Type() {
	case attribute.SLICE:
		for _, e := range v.AsSlice() {
			n += mapKeyBytes(e)
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			n += len(kv.Key) + mapKeyBytes(kv.Value)
		}
	}
	return n
}

// cutValue cuts every string in v longer than c to c bytes and
// returns the result and how many it cut.
func cutValue(v attribute.Value, c int) (attribute.Value, int) {
	switch v.Type() {
	case attribute.STRING:
		if s := v.AsString(); len(s) > c {
			return attribute.StringValue(cutString(s, c, true)), 1
		}
	case attribute.BYTESLICE:
		if s := v.AsString(); len(s) > c {
			return attribute.ByteSliceValue([]byte(s[:c])), 1
		}
	case attribute.STRINGSLICE:
		ss, n := v.AsStringSlice(), 0
		for i, s := range ss {
			if len(s) > c {
				ss[i], n = cutString(s, c, true), n+1
			}
		}
		if n > 0 {
			return attribute.StringSliceValue(ss), n
		}
	case attribute.SLICE:
		vs, n := v.AsSlice(), 0
		for i, e := range vs {
			var k int
			vs[i], k = cutValue(e, c)
			n += k
		}
		if n > 0 {
			return attribute.SliceValue(vs...), n
		}
	case attribute.MAP:
		m, n := v.AsMap(), 0
		for i := range m {
			var k int
			m[i].Value, k = cutValue(m[i].Value, c)
			n += k
		}
		if n > 0 {
			return attribute.MapValue(m...), n
		}
	}
	return v, 0
}

// cutKeyValues cuts the values of in as cutValue does; it
// returns in itself when nothing is cut, else a fresh slice.
func cutKeyValues(in []attribute.KeyValue, c int) ([]attribute.KeyValue, int) {
	out, n := in, 0
	for i := range in {
		v, k := cutValue(in[i].Value, c)
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
