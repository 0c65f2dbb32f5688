package logbridge

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer"
)

// headerKeyPrefix makes the Redactor apply its captured-header rules to an
// http.Header member ("X-Goog-Api-Key" is sensitive as a header name).
const headerKeyPrefix = "http.request.header."

// slogRedactor applies a Redactor to slog values. The zero value (nil r)
// still resolves LogValuers but redacts nothing.
type slogRedactor struct{ r *otelbearer.Redactor }

// attr resolves a and redacts its value.
func (s slogRedactor) attr(a slog.Attr) slog.Attr {
	a, _ = s.attrChanged(a)
	return a
}

// attrChanged resolves a and redacts its value, and reports whether the
// result differs from a (resolving a LogValuer counts as a change).
func (s slogRedactor) attrChanged(a slog.Attr) (slog.Attr, bool) {
	changed := false
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value, changed = a.Value.Resolve(), true
	}
	if v, ok := s.value(a.Key, a.Value); ok {
		a.Value, changed = v, true
	}
	return a, changed
}

// attrs redacts a list of attributes into a fresh slice.
func (s slogRedactor) attrs(in []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(in))
	for i, a := range in {
		out[i] = s.attr(a)
	}
	return out
}

// value redacts a resolved value found under key. It reports whether the
// result differs; v is never modified.
func (s slogRedactor) value(key string, v slog.Value) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		if out, ok := s.r.String(key, v.String()); ok {
			return slog.StringValue(out), true
		}
	case slog.KindGroup:
		in := v.Group()
		var out []slog.Attr
		for i, a := range in {
			b, changed := s.attrChanged(a)
			if out == nil && changed {
				out = make([]slog.Attr, len(in))
				copy(out, in[:i])
			}
			if out != nil {
				out[i] = b
			}
		}
		if out != nil {
			return slog.GroupValue(out...), true
		}
	case slog.KindAny:
		return s.any(key, v.Any())
	}
	return v, false
}

// any redacts the value of a KindAny slog.Value.
func (s slogRedactor) any(key string, x any) (slog.Value, bool) {
	switch x := x.(type) {
	case nil:
		return slog.Value{}, false
	case []byte:
		if out, ok := s.r.String(key, string(x)); ok {
			return slog.AnyValue([]byte(out)), true
		}
		return slog.Value{}, false
	case []string:
		if out, ok := s.strings(key, x); ok {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case http.Header:
		if out, ok := s.stringsMap(x, true); ok {
			return slog.AnyValue(http.Header(out)), true
		}
		return slog.Value{}, false
	case url.Values:
		if out, ok := s.stringsMap(x, false); ok {
			return slog.AnyValue(url.Values(out)), true
		}
		return slog.Value{}, false
	case map[string][]string:
		if out, ok := s.stringsMap(x, false); ok {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case map[string]string:
		var out map[string]string
		for k, v := range x {
			if red, ok := s.r.String(k, v); ok {
				if out == nil {
					out = make(map[string]string, len(x))
					for k2, v2 := range x {
						out[k2] = v2
					}
				}
				out[k] = red
			}
		}
		if out != nil {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case map[string]any:
		var out map[string]any
		for k, v := range x {
			if red, ok := s.value(k, slog.AnyValue(v).Resolve()); ok {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, v2 := range x {
						out[k2] = v2
					}
				}
				out[k] = red.Any()
			}
		}
		if out != nil {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case []any:
		var out []any
		for i, v := range x {
			if red, ok := s.value(key, slog.AnyValue(v).Resolve()); ok {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = red.Any()
			}
		}
		if out != nil {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case attribute.Value:
		if kv, ok := s.r.KeyValue(attribute.KeyValue{Key: attribute.Key(key), Value: x}); ok {
			return slog.AnyValue(kv.Value), true
		}
		return slog.Value{}, false
	case error:
		return s.text(key, x.Error())
	case fmt.Stringer:
		return s.text(key, x.String())
	}
	switch reflect.TypeOf(x).Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Pointer, reflect.Interface:
		// Last resort: what otelslog and %v would print. A value whose text
		// holds a credential is replaced by its redacted text.
		return s.text(key, fmt.Sprintf("%+v", x))
	}
	return slog.Value{}, false
}

// text returns the redacted text as a string value when redaction changed
// it.
func (s slogRedactor) text(key, t string) (slog.Value, bool) {
	if out, ok := s.r.String(key, t); ok {
		return slog.StringValue(out), true
	}
	return slog.Value{}, false
}

// strings redacts a []string into a copy when any element changes.
func (s slogRedactor) strings(key string, in []string) ([]string, bool) {
	var out []string
	for i, v := range in {
		if red, ok := s.r.String(key, v); ok {
			if out == nil {
				out = append([]string(nil), in...)
			}
			out[i] = red
		}
	}
	return out, out != nil
}

// stringsMap redacts a header-like map into a copy when any value changes.
// With header set, member keys get the Redactor's captured-header rules.
func (s slogRedactor) stringsMap(in map[string][]string, header bool) (map[string][]string, bool) {
	var out map[string][]string
	for k, vs := range in {
		key := k
		if header {
			key = headerKeyPrefix + k
		}
		red, ok := s.strings(key, vs)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string][]string, len(in))
			for k2, v2 := range in {
				out[k2] = v2
			}
		}
		out[k] = red
	}
	return out, out != nil
}

// slogAttr converts a stamped attribute to a slog.Attr without allocating
// for the scalar types the root package stamps.
func slogAttr(kv attribute.KeyValue) slog.Attr {
	k := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.STRING:
		return slog.String(k, kv.Value.AsString())
	case attribute.BOOL:
		return slog.Bool(k, kv.Value.AsBool())
	case attribute.INT64:
		return slog.Int64(k, kv.Value.AsInt64())
	case attribute.FLOAT64:
		return slog.Float64(k, kv.Value.AsFloat64())
	}
	return slog.Any(k, kv.Value.AsInterface())
}
