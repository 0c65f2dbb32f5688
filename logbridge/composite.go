package logbridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"unicode/utf8"
	"unsafe"

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

// composite converts a value that the next handler would otherwise encode
// by reflection or through its own methods (a struct, pointer, map, slice,
// array, json.Marshaler, encoding.TextMarshaler, named type) into the form
// it is redacted in: its encoding/json form, decoded and redacted member by
// member (each member's key selects its key rules, camelCase keys
// included; the value rules also apply to the keys themselves), then
// handed on as a slog group (an object), a []any of plain maps, slices and
// scalars (an array) or a scalar. What the next handler encodes is
// therefore exactly what was redacted, whatever encoder it uses. A
// composite value under a sensitive key is replaced as a whole. Cost:
// linear in the size of the JSON form, which is refused above
// maxCompositeBytes.
func (s slogRedactor) composite(key string, x any) slog.Value {
	if s.sensitive(key) {
		return slog.StringValue(otelbearer.Redacted)
	}
	data, err := marshalBounded(x)
	if err != nil {
		return slog.StringValue(unencodableText + reflect.TypeOf(x).String())
	}
	c := converter{s: s, data: data}
	v, err := c.value(key, 0)
	if err != nil {
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

// converter walks the JSON form of one value once. The form comes from
// json.Marshal, so it is valid and compact (Marshaler output is checked and
// compacted by encoding/json); anything unexpected is still an error, never
// a panic or an out-of-range read.
type converter struct {
	s     slogRedactor
	data  []byte
	pos   int
	nodes int
}

var errSyntax = errors.New("unexpected JSON")

// value reads the JSON value at c.pos, found under key at depth, and
// returns it redacted. An object becomes a group (an empty one an empty
// map, which handlers print as {} rather than dropping it), an array a
// []any.
func (c *converter) value(key string, depth int) (slog.Value, error) {
	if c.pos >= len(c.data) {
		return slog.Value{}, errSyntax
	}
	c.nodes++
	switch b := c.data[c.pos]; b {
	case '{', '[':
		if depth >= maxCompositeDepth || c.nodes > maxCompositeNodes {
			if err := c.skip(); err != nil {
				return slog.Value{}, err
			}
			return slog.StringValue(truncatedText), nil
		}
		if b == '{' {
			return c.object(depth)
		}
		return c.array(key, depth)
	case '"':
		str, err := c.string()
		if err != nil {
			return slog.Value{}, err
		}
		return slog.StringValue(c.s.leaf(key, str)), nil
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(c.data[c.pos:], []byte(lit)) {
				c.pos += len(lit)
				switch {
				case lit == "null":
					return slog.AnyValue(nil), nil
				case c.s.sensitive(key):
					return slog.StringValue(otelbearer.Redacted), nil
				}
				return slog.BoolValue(lit == "true"), nil
			}
		}
		return slog.Value{}, errSyntax
	}
	start := c.pos
	for c.pos < len(c.data) && bytes.IndexByte([]byte("+-.0123456789eE"), c.data[c.pos]) >= 0 {
		c.pos++
	}
	if c.pos == start {
		return slog.Value{}, errSyntax
	}
	if c.s.sensitive(key) {
		return slog.StringValue(otelbearer.Redacted), nil
	}
	return number(string(c.data[start:c.pos])), nil
}

// object reads the members of the object at c.pos.
func (c *converter) object(depth int) (slog.Value, error) {
	c.pos++ // '{'
	attrs := make([]slog.Attr, 0, 4)
	for c.pos < len(c.data) && c.data[c.pos] != '}' {
		if len(attrs) > 0 {
			if c.data[c.pos] != ',' {
				return slog.Value{}, errSyntax
			}
			c.pos++
		}
		k, err := c.string()
		if err != nil {
			return slog.Value{}, err
		}
		if c.pos >= len(c.data) || c.data[c.pos] != ':' {
			return slog.Value{}, errSyntax
		}
		c.pos++
		var v slog.Value
		switch {
		case c.nodes >= maxCompositeNodes:
			k, v = truncatedText, slog.StringValue(truncatedText)
			if err := c.skipRest(); err != nil {
				return slog.Value{}, err
			}
			return slog.GroupValue(append(attrs, slog.Attr{Key: k, Value: v})...), nil
		case c.s.sensitive(k):
			// Whatever sits under a sensitive key goes, composite or not.
			if err := c.skip(); err != nil {
				return slog.Value{}, err
			}
			c.nodes++
			v = slog.StringValue(otelbearer.Redacted)
		default:
			if v, err = c.value(k, depth+1); err != nil {
				return slog.Value{}, err
			}
		}
		if rk, ok := c.s.r.String("", k); ok {
			k = rk // a map keyed by credentials: value rules apply to keys
		}
		attrs = append(attrs, slog.Attr{Key: k, Value: v})
	}
	if c.pos >= len(c.data) {
		return slog.Value{}, errSyntax
	}
	c.pos++ // '}'
	if len(attrs) == 0 {
		return slog.AnyValue(map[string]any{}), nil
	}
	return slog.GroupValue(attrs...), nil
}

// array reads the elements of the array at c.pos, found under key.
func (c *converter) array(key string, depth int) (slog.Value, error) {
	c.pos++ // '['
	out := []any{}
	for c.pos < len(c.data) && c.data[c.pos] != ']' {
		if len(out) > 0 {
			if c.data[c.pos] != ',' {
				return slog.Value{}, errSyntax
			}
			c.pos++
		}
		if c.nodes >= maxCompositeNodes {
			if err := c.skipRest(); err != nil {
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
	if c.pos >= len(c.data) {
		return slog.Value{}, errSyntax
	}
	c.pos++ // ']'
	return slog.AnyValue(out), nil
}

// string reads the JSON string at c.pos.
func (c *converter) string() (string, error) {
	if c.pos >= len(c.data) || c.data[c.pos] != '"' {
		return "", errSyntax
	}
	start, escaped := c.pos, false
	for i := start + 1; i < len(c.data); i++ {
		switch c.data[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			c.pos = i + 1
			if !escaped {
				if i == start+1 {
					return "", nil
				}
				// c.data is ours (json.Marshal's fresh output) and never
				// written again: strings may share it.
				return unsafe.String(&c.data[start+1], i-start-1), nil
			}
			var s string
			if err := json.Unmarshal(c.data[start:c.pos], &s); err != nil {
				return "", err
			}
			return s, nil
		}
	}
	return "", errSyntax
}

// skip consumes the value at c.pos, iteratively.
func (c *converter) skip() error {
	if c.pos < len(c.data) && c.data[c.pos] != '{' && c.data[c.pos] != '[' {
		if c.data[c.pos] == '"' {
			_, err := c.string()
			return err
		}
		for c.pos < len(c.data) && bytes.IndexByte([]byte(",}]"), c.data[c.pos]) < 0 {
			c.pos++
		}
		return nil
	}
	return c.skipNested(0)
}

// skipRest consumes the rest of the object or array c.pos is inside of
// (c.pos at a member's value or an element), closing bracket included.
func (c *converter) skipRest() error { return c.skipNested(1) }

// skipNested consumes brackets until open levels (plus those it opens)
// are closed, stepping over strings.
func (c *converter) skipNested(open int) error {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case '"':
			if _, err := c.string(); err != nil {
				return err
			}
			if open == 0 {
				return nil
			}
			continue
		case '{', '[':
			open++
		case '}', ']':
			open--
		}
		c.pos++
		if open == 0 {
			return nil
		}
	}
	return errSyntax
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
func number(n string) slog.Value {
	if i, err := strconv.ParseInt(n, 10, 64); err == nil {
		return slog.Int64Value(i)
	}
	if u, err := strconv.ParseUint(n, 10, 64); err == nil {
		return slog.Uint64Value(u)
	}
	if f, err := strconv.ParseFloat(n, 64); err == nil {
		return slog.Float64Value(f)
	}
	return slog.StringValue(n)
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
