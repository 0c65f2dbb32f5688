package logbridge_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer/logbridge"
)

// panicJSON panics in MarshalJSON after the secret was in reach.
type panicJSON struct{ v string }

func (p panicJSON) MarshalJSON() ([]byte, error) { panic("boom " + p.v) }

// badJSON returns invalid JSON holding the secret.
type badJSON struct{ v string }

func (b badJSON) MarshalJSON() ([]byte, error) { return []byte(`{"x":` + b.v), nil }

// errJSON fails with an error whose text holds the secret.
type errJSON struct{ v string }

func (e errJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot: " + e.v) }

// panicString panics in String.
type panicString struct{ v string }

func (p *panicString) String() string { return "ok " + p.v }

type cyclic struct {
	Name string
	Next *cyclic
}

type withFunc struct {
	ClientSecret string
	F            func()
}

// nest returns a value nested depth levels deep with the secret at the
// bottom, under a harmless key.
func nest(depth int, secret string) any {
	var v any = map[string]any{"note": secret}
	for range depth {
		v = map[string]any{"n": v}
	}
	return v
}

// TestHandlerHostileValues logs values built to break the conversion: the
// handler must not panic, must stay bounded and must not print the
// secret, through both handlers.
func TestHandlerHostileValues(t *testing.T) {
	loop := &cyclic{Name: "a"}
	loop.Next = loop
	m := map[string]any{"name": "m"}
	m["self"] = m
	tests := []struct {
		name string
		v    func(c string) any
		want string // in both outputs
	}{
		{"MarshalJSON panics", func(c string) any { return panicJSON{c} }, "!ERROR:cannot encode"},
		{"MarshalJSON returns invalid JSON", func(c string) any { return badJSON{c} }, "!ERROR:cannot encode"},
		{"MarshalJSON error holds the secret", func(c string) any { return errJSON{c} }, "!ERROR:cannot encode"},
		{"nested MarshalJSON panics", func(c string) any { return []any{"ok", panicJSON{c}} }, "!ERROR:cannot encode"},
		{"pointer cycle", func(string) any { return loop }, "!ERROR:cannot encode"},
		{"map cycle", func(string) any { return m }, "!ERROR:cannot encode"},
		{"func field", func(c string) any { return withFunc{ClientSecret: c} }, "!ERROR:cannot encode"},
		{"too deep", func(c string) any { return nest(100, c) }, "!TRUNCATED"},
		{"too wide", func(c string) any {
			s := make([]string, 20000)
			for i := range s {
				s[i] = "x"
			}
			return []any{s, c}
		}, "!TRUNCATED"},
		{"too large", func(c string) any { return []any{strings.Repeat("x", 300<<10), c} }, "!ERROR:cannot encode"},
		{"nil pointer Stringer", func(string) any { return (*panicString)(nil) }, "<nil>"},
		{"map keyed by a JWT", func(string) any {
			return map[string]int{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbnJ5In0.cnryKeySig0001": 1}
		}, "REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCanary(t)
			v := tt.v(c)
			var js, txt bytes.Buffer
			require.NotPanics(t, func() {
				slog.New(logbridge.NewHandler(slog.NewJSONHandler(&js, nil))).Info("m", "v", v, "after", "kept")
				slog.New(logbridge.NewHandler(slog.NewTextHandler(&txt, nil))).Info("m", "v", v, "after", "kept")
			})
			for _, out := range []string{js.String(), txt.String()} {
				assert.NotContains(t, out, c)
				assert.NotContains(t, out, "cnryKeySig0001")
				assert.Contains(t, out, tt.want)
				assert.Contains(t, out, "kept")
				assert.Less(t, len(out), 200<<10, "output is bounded")
			}
			decode(t, js.Bytes())
		})
	}
}

// TestHandlerKeepsShapes pins what the next handler receives for common
// values: the JSON shape of structs, maps and slices is kept, plain
// values pass as they are.
func TestHandlerKeepsShapes(t *testing.T) {
	type item struct {
		ID    int      `json:"id"`
		Tags  []string `json:"tags"`
		Price float64  `json:"price"`
		Owner *string  `json:"owner"`
		Empty struct{} `json:"empty"`
	}
	type code int
	var buf bytes.Buffer
	jsonLogger(&buf).Info("m",
		"item", item{ID: 7, Tags: []string{"a", "b"}, Price: 1.5},
		"codes", map[string]code{"ok": 200},
		"code", code(404),
		"err", fmt.Errorf("wrapped: %w", errors.New("inner")),
		"hdr", http.Header{"Accept": {"*/*"}},
	)
	got := decode(t, buf.Bytes())
	assert.Equal(t, map[string]any{"id": 7.0, "tags": []any{"a", "b"}, "price": 1.5, "owner": nil, "empty": map[string]any{}}, got["item"])
	assert.Equal(t, map[string]any{"ok": 200.0}, got["codes"])
	assert.Equal(t, 404.0, got["code"])
	assert.Equal(t, "wrapped: inner", got["err"])
	assert.Equal(t, map[string]any{"Accept": []any{"*/*"}}, got["hdr"])
}

// TestHandlerPlainValuesNoAllocs pins the cheap path: strings, numbers,
// durations and times through the handler cost no allocation of
// logbridge's beyond the record's own.
func TestHandlerPlainValuesNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not pinned under -race")
	}
	h := logbridge.NewHandler(slog.NewJSONHandler(discardWriter{}, nil))
	l := slog.New(h)
	allocs := testing.AllocsPerRun(100, func() {
		l.Info("loaded item", "item.id", "42", "count", 3, "ok", true, "userId", "u-1")
	})
	assert.Zero(t, allocs)
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
