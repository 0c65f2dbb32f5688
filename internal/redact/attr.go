package redact

import (
	"go.opentelemetry.io/otel/attribute"
)

// Stats counts what a [Redactor] did to a value, a span or a log
// record.
type Stats struct {
	// Redacted counts the string values a redaction rule changed
	// (reported as redaction.count).
	Redacted int
	// Sanitized counts the strings and keys made valid UTF-8 or cut to a
	// bound (reported as [RedactionSanitizedKey]).
	Sanitized int
	// Bytes is the length of every string of the result, keys included.
	Bytes int
}

func (s *Stats) add(o Stats) {
	s.Redacted += o.Redacted
	s.Sanitized += o.Sanitized
	s.Bytes += o.Bytes
}

func (s Stats) changed() bool { return s.Redacted+s.Sanitized > 0 }

// String redacts one string value found under key (the attribute or field
// name; "" for a span name or other unkeyed text), replaces invalid UTF-8
// by U+FFFD and cuts the result to the value bound ([WithMaxValueBytes]).
// It returns the value to export and whether it differs from value. It
// never fails and never panics; the result is stable under a second call.
func (r *Redactor) String(key, value string) (string, bool) {
	if r == nil {
		return value, false
	}
	out, _ := r.value(r.classify(key), key, value, true)
	return out, out != value
}

// KeyValue redacts one attribute. STRING, STRINGSLICE and BYTESLICE values
// are redacted element by element; SLICE and MAP values recursively (a MAP
// member's own key selects its key rules). Other types pass unchanged.
// Keys and strings are made valid UTF-8 and cut to the value bound;
// BYTESLICE values are cut, never changed to UTF-8 (OTLP sends them as
// bytes). The bool reports whether the result differs; the input is never
// modified.
func (r *Redactor) KeyValue(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	out, st := r.KeyValueStats(kv)
	return out, st.changed()
}

// KeyValueStats is [Redactor.KeyValue] with the counts: whoever applies
// the Redactor to a record (logbridge) reports them and checks Bytes
// against [Redactor.MaxRecordBytes]. It allocates only when the attribute
// changes (and for the copy a STRINGSLICE, SLICE or MAP value makes).
func (r *Redactor) KeyValueStats(kv attribute.KeyValue) (attribute.KeyValue, Stats) {
	if r == nil {
		return kv, Stats{}
	}
	return r.keyValue(&kv)
}

// KeyValues redacts a list of attributes and returns the list to export and
// the number of values changed. When nothing changes it returns in itself,
// without allocating; otherwise a fresh slice. in is never modified (SDK
// snapshots share their slices).
func (r *Redactor) KeyValues(in []attribute.KeyValue) (out []attribute.KeyValue, n int) {
	if r == nil {
		return in, 0
	}
	out, st := r.keyValues(in)
	return out, st.Redacted + st.Sanitized
}

func (r *Redactor) keyValues(in []attribute.KeyValue) (out []attribute.KeyValue, st Stats) {
	out = in
	copied := false
	var kv attribute.KeyValue
	for i := range in {
		s := r.keyValueTo(&in[i], &kv)
		st.add(s)
		if !s.changed() {
			continue
		}
		if !copied {
			out, copied = make([]attribute.KeyValue, len(in)), true
			copy(out, in)
		}
		out[i] = kv
	}
	return out, st
}

// keyValue redacts *kv; it returns *kv itself when nothing changes.
func (r *Redactor) keyValue(kv *attribute.KeyValue) (attribute.KeyValue, Stats) {
	var out attribute.KeyValue
	st := r.keyValueTo(kv, &out)
	if !st.changed() {
		return *kv, st
	}
	return out, st
}

// keyValueTo redacts *kv into *out; *out is written only when something
// changes (the stats say so), so the common case copies nothing.
func (r *Redactor) keyValueTo(kv *attribute.KeyValue, out *attribute.KeyValue) Stats {
	key := string(kv.Key)
	var st Stats
	nkey, ok := key, true
	var c keyClass
	known := false
	if r.extraKeys == nil {
		c, known = knownClass(key) // ASCII and short: no check needed
	}
	if !known && (len(key) > r.maxValue || !isASCII(key)) {
		nkey, ok = r.bound(key, true)
	}
	if !ok {
		st.Sanitized++
	}
	st.Bytes = len(nkey)
	switch kv.Value.Type() {
	case attribute.STRING: // the fast path
		if !known {
			c = r.classifyRules(key)
		}
		s := kv.Value.AsString()
		if r.quickClean(c, s) {
			st.Bytes += len(s) // the commonest case, as in value
			return st
		}
		v, vs := r.value(c, key, s, true)
		st.add(vs)
		if st.changed() {
			*out = attribute.String(nkey, v)
		}
		return st
	case attribute.BYTESLICE, attribute.STRINGSLICE, attribute.SLICE, attribute.MAP:
		if !known {
			c = r.classifyRules(key)
		}
		v, vs, changed := r.attrValue(c, key, kv.Value)
		st.add(vs)
		if changed || !ok {
			*out = attribute.KeyValue{Key: attribute.Key(nkey), Value: v}
		}
		return st
	}
	if !ok { // numbers and booleans: only the key can change
		*out = attribute.KeyValue{Key: attribute.Key(nkey), Value: kv.Value}
	}
	return st
}

// attrValue redacts a non-STRING value found under key (class c).
func (r *Redactor) attrValue(c keyClass, key string, v attribute.Value) (attribute.Value, Stats, bool) {
	var st Stats
	switch v.Type() {
	case attribute.STRING:
		out, s := r.value(c, key, v.AsString(), true)
		if s.changed() {
			return attribute.StringValue(out), s, true
		}
		return v, s, false
	case attribute.BYTESLICE:
		// AsString returns a BYTESLICE's bytes without copying them
		// (pinned by TestRedactByteSliceAsString). They are sent as bytes:
		// redacted and cut, not changed to UTF-8.
		out, s := r.value(c, key, v.AsString(), false)
		if s.changed() {
			return attribute.ByteSliceValue([]byte(out)), s, true
		}
		return v, s, false
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice() // a copy: ours to change
		for i, e := range ss {
			out, s := r.value(c, key, e, true)
			st.add(s)
			ss[i] = out
		}
		if st.changed() {
			return attribute.StringSliceValue(ss), st, true
		}
	case attribute.SLICE:
		vs := v.AsSlice() // a copy
		for i, e := range vs {
			out, s, changed := r.attrValue(c, key, e)
			st.add(s)
			if changed {
				vs[i] = out
			}
		}
		if st.changed() {
			return attribute.SliceValue(vs...), st, true
		}
	case attribute.MAP:
		m := v.AsMap() // a copy
		for i := range m {
			out, s := r.keyValue(&m[i])
			st.add(s)
			if s.changed() {
				m[i] = out
			}
		}
		if st.changed() {
			return attribute.MapValue(m...), st, true
		}
	}
	return v, st, false
}

// isASCII reports whether s is ASCII: for the short keys of the
// clean path, cheaper than a call to utf8.ValidString.
func isASCII(s string) bool {
	for len(s) >= 8 {
		// One 8-byte load: the compiler merges the byte loads.
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
