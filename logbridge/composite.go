package logbridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/otelbearer/otelbearer"
)

// Bounds of the conversion of one composite value.
const (
	maxCompositeBytes = 256 << 10 // its JSON form
	maxCompositeDepth = 32        // nesting kept; deeper values become truncatedText
	maxCompositeNodes = 10000     // members and elements kept; the rest are dropped
)

const (
	// truncatedText replaces what a bound cut off.
	truncatedText = "!TRUNCATED"
	// unencodableText prefixes the replacement of a value encoding/json
	// cannot encode (a func, a channel, NaN, a cycle, a failing or
	// panicking MarshalJSON): its type only, never its content.
	unencodableText = "!ERROR:cannot encode "
)

var errTruncated = errors.New("truncated")

// composite converts a value that the next handler would otherwise encode
// by reflection or through its own methods (a struct, pointer, map, slice,
// array, json.Marshaler, encoding.TextMarshaler, named type) into the form
// it is redacted in: its encoding/json form, decoded and redacted member by
// member (each member's key selects its key rules, camelCase keys included;
// the value rules also apply to the keys themselves),
// then handed on as a slog group (an object), a []any of plain maps,
// slices and scalars (an array) or a scalar. What the next handler encodes
// is therefore exactly what was redacted, whatever encoder it uses. A
// composite value under a sensitive key is replaced as a whole.
func (s slogRedactor) composite(key string, x any) slog.Value {
	if s.sensitive(key) {
		return slog.StringValue(otelbearer.Redacted)
	}
	data, err := marshalBounded(x)
	if err != nil {
		return slog.StringValue(unencodableText + reflect.TypeOf(x).String())
	}
	c := converter{s: s, dec: json.NewDecoder(bytes.NewReader(data))}
	c.dec.UseNumber()
	v, err := c.value(key, 0)
	if err != nil && !errors.Is(err, errTruncated) {
		return slog.StringValue(unencodableText + reflect.TypeOf(x).String())
	}
	return v
}

// marshalBounded is json.Marshal that turns a panic of a MarshalJSON or
// MarshalText method into an error and refuses output over
// maxCompositeBytes.
func marshalBounded(x any) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fmt.Errorf("panic in marshal: %T", p)
		}
	}()
	data, err = json.Marshal(x)
	if err == nil && len(data) > maxCompositeBytes {
		return nil, errors.New("value too large")
	}
	return data, err
}

// converter walks the JSON form of one value once, token by token.
type converter struct {
	s     slogRedactor
	dec   *json.Decoder
	nodes int
}

// value reads the next JSON value, found under key at depth, and returns
// it redacted. An object becomes a group (an empty one an empty map, which
// handlers print as {} rather than dropping it).
func (c *converter) value(key string, depth int) (slog.Value, error) {
	tok, err := c.dec.Token()
	if err != nil {
		return slog.Value{}, err
	}
	c.nodes++
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxCompositeDepth || c.nodes > maxCompositeNodes {
			if err := c.skip(1); err != nil {
				return slog.Value{}, err
			}
			return slog.StringValue(truncatedText), nil
		}
		if t == '{' {
			return c.object(depth)
		}
		return c.array(key, depth)
	case string:
		return slog.StringValue(c.s.leaf(key, t)), nil
	case json.Number:
		if c.s.sensitive(key) {
			return slog.StringValue(otelbearer.Redacted), nil
		}
		return number(t), nil
	case bool:
		if c.s.sensitive(key) {
			return slog.StringValue(otelbearer.Redacted), nil
		}
		return slog.BoolValue(t), nil
	}
	return slog.AnyValue(nil), nil // null
}

// object reads the members of an object whose '{' was read.
func (c *converter) object(depth int) (slog.Value, error) {
	var attrs []slog.Attr
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return slog.Value{}, err
		}
		k, _ := tok.(string)
		if c.nodes >= maxCompositeNodes {
			if err := c.skip(1); err != nil {
				return slog.Value{}, err
			}
			attrs = append(attrs, slog.String(truncatedText, truncatedText))
			return slog.GroupValue(attrs...), nil
		}
		var v slog.Value
		if c.s.sensitive(k) {
			// Whatever sits under a sensitive key goes, composite or not.
			if err := c.skipValue(); err != nil {
				return slog.Value{}, err
			}
			c.nodes++
			v = slog.StringValue(otelbearer.Redacted)
		} else if v, err = c.value(k, depth+1); err != nil {
			return slog.Value{}, err
		}
		if rk, ok := c.s.r.String("", k); ok {
			k = rk // a map keyed by credentials: value rules apply to keys
		}
		attrs = append(attrs, slog.Attr{Key: k, Value: v})
	}
	if _, err := c.dec.Token(); err != nil { // '}'
		return slog.Value{}, err
	}
	if len(attrs) == 0 {
		return slog.AnyValue(map[string]any{}), nil
	}
	return slog.GroupValue(attrs...), nil
}

// array reads the elements of an array whose '[' was read, found under key.
func (c *converter) array(key string, depth int) (slog.Value, error) {
	out := []any{}
	for c.dec.More() {
		if c.nodes >= maxCompositeNodes {
			if err := c.skip(1); err != nil {
				return slog.Value{}, err
			}
			return slog.AnyValue(append(out, truncatedText)), nil
		}
		v, err := c.value(key, depth+1)
		if err != nil {
			return slog.Value{}, err
		}
		out = append(out, plain(v))
	}
	if _, err := c.dec.Token(); err != nil { // ']'
		return slog.Value{}, err
	}
	return slog.AnyValue(out), nil
}

// skipValue consumes the next JSON value.
func (c *converter) skipValue() error {
	tok, err := c.dec.Token()
	if err != nil {
		return err
	}
	if _, ok := tok.(json.Delim); ok {
		return c.skip(1)
	}
	return nil
}

// skip consumes tokens until open nesting levels are closed, iteratively.
func (c *converter) skip(open int) error {
	for open > 0 {
		tok, err := c.dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				open++
			} else {
				open--
			}
		}
	}
	return nil
}

// plain turns a converted value into what encoding/json, fmt and otelslog
// all print the same way: a group becomes a map[string]any.
func plain(v slog.Value) any {
	if v.Kind() != slog.KindGroup {
		return v.Any()
	}
	g := v.Group()
	m := make(map[string]any, len(g))
	for _, a := range g {
		m[a.Key] = plain(a.Value)
	}
	return m
}

// number converts a JSON number to an int64, uint64 or float64 value, or
// keeps its text.
func number(n json.Number) slog.Value {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return slog.Int64Value(i)
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return slog.Uint64Value(u)
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return slog.Float64Value(f)
	}
	return slog.StringValue(string(n))
}

// leaf redacts a string member of a composite value. encoding/json prints
// a []byte as standard base64: such a string, when it decodes to text, is
// redacted as that text and encoded again.
func (s slogRedactor) leaf(key, v string) string {
	out, changed := s.str(key, v)
	if changed || !maybeBase64(v) {
		return out
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !utf8.Valid(raw) {
		return out
	}
	if red, ok := s.str(key, string(raw)); ok {
		return base64.StdEncoding.EncodeToString([]byte(red))
	}
	return out
}

// maybeBase64 reports whether s could be standard base64 of at least six
// bytes.
func maybeBase64(s string) bool {
	if len(s) < 8 || len(s)%4 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}
