package logbridge

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/redact"
)

// headerKeyPrefix makes the Redactor apply its captured-header rules to an
// http.Header member ("X-Goog-Api-Key" is sensitive as a header name).
const headerKeyPrefix = "http.request.header."

// slogRedactor applies a Redactor to slog values. The zero value (nil r)
// still resolves LogValuers but redacts nothing.
type slogRedactor struct{ r *redact.Redactor }

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
		if out, ok := s.str(key, v.String()); ok {
			return slog.StringValue(out), true
		}
	case slog.KindGroup:
		if s.sensitive(key) {
			// Whatever sits under a sensitive key goes as a whole.
			return slog.StringValue(otelbearer.Redacted), true
		}
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

// any redacts the value of a KindAny slog.Value. Values the next handler
// prints from their content alone ([]byte, []string, http.Header,
// url.Values, string maps, attribute.Value) are redacted in place and
// passed on unchanged when nothing needs redaction. Errors and
// fmt.Stringers are replaced by their redacted text, and every other
// composite value by its redacted JSON form (see composite): the next
// handler never encodes a value the redactor did not see in that form.
func (s slogRedactor) any(key string, x any) (slog.Value, bool) {
	switch x := x.(type) {
	case nil:
		return slog.Value{}, false
	case []byte:
		if out, ok := s.str(key, string(x)); ok {
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
		if out, ok := s.stringMap(x); ok {
			return slog.AnyValue(out), true
		}
		return slog.Value{}, false
	case attribute.Value:
		if kv, ok := s.r.KeyValue(attribute.KeyValue{Key: attribute.Key(key), Value: x}); ok {
			return slog.AnyValue(kv.Value), true
		}
		return slog.Value{}, false
	case error:
		// JSONHandler prints Error() (MarshalJSON for a json.Marshaler),
		// TextHandler Error() (Format for a fmt.Formatter): always replace.
		// Kept an error (otelslog makes it the record's exception) that
		// prints only the redacted text.
		out, _ := s.str(key, safeText(x, x.Error))
		return slog.AnyValue(redactedError{msg: out, typ: errorType(x)}), true
	case fmt.Stringer:
		// JSONHandler would encode the fields, not String(): always replace.
		out, _ := s.str(key, safeText(x, x.String))
		return slog.StringValue(out), true
	}
	t := reflect.TypeOf(x)
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return slog.Value{}, false // printed as an address, or not at all
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		if t.NumMethod() == 0 {
			return slog.Value{}, false // a named number prints as the number
		}
	case reflect.String:
		if t.NumMethod() == 0 {
			out, _ := s.str(key, reflect.ValueOf(x).String())
			return slog.StringValue(out), true
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Implements(jsonMarshaler) && !t.Implements(textMarshaler) {
			// A named []byte: TextHandler prints it as text, JSONHandler as
			// base64. Both get the redacted bytes as a plain []byte.
			out, _ := s.str(key, string(reflect.ValueOf(x).Bytes()))
			return slog.AnyValue([]byte(out)), true
		}
	}
	return s.composite(key, x), true
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// safeText calls an Error or String method, turning a panic into a fixed
// text ("<nil>" for a nil pointer receiver, as fmt prints it).
func safeText(x any, f func() string) (s string) {
	defer func() {
		if p := recover(); p != nil {
			if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
				s = "<nil>"
				return
			}
			s = "!PANIC in " + reflect.TypeOf(x).String() + " text method"
		}
	}()
	return f()
}

// redactedError stands for an error whose text was redacted. It prints
// only that text and does not unwrap to the original; ErrorType reports
// the original's type for the exception.type the log SDK derives.
type redactedError struct{ msg, typ string }

func (e redactedError) Error() string     { return e.msg }
func (e redactedError) ErrorType() string { return e.typ }

var fmtWrapError = reflect.TypeOf(fmt.Errorf("%w", errors.New("")))

// errorType names err's type as the log SDK does: its own ErrorType, else
// the type under fmt.Errorf's %w wrappers as "pkg.Name".
func errorType(err error) string {
	if et, ok := err.(interface{ ErrorType() string }); ok {
		if t := safeText(err, et.ErrorType); t != "" && !strings.HasPrefix(t, "!PANIC") {
			return t
		}
	}
	for reflect.TypeOf(err) == fmtWrapError {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	t := reflect.TypeOf(err)
	if t.PkgPath() != "" && t.Name() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}

// stringMap redacts a map[string]string into a copy when any value
// changes; each member's key selects its rules.
func (s slogRedactor) stringMap(x map[string]string) (map[string]string, bool) {
	var out map[string]string
	for k, v := range x {
		if red, ok := s.str(k, v); ok {
			if out == nil {
				out = maps.Clone(x)
			}
			out[k] = red
		}
	}
	return out, out != nil
}

// strings redacts a []string into a copy when any element changes.
func (s slogRedactor) strings(key string, in []string) ([]string, bool) {
	var out []string
	for i, v := range in {
		if red, ok := s.str(key, v); ok {
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
