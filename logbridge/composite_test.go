package logbridge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logJSON logs v through a Handler over slog.JSONHandler and returns the
// decoded "v" member.
func logJSON(t testing.TB, v any) any {
	t.Helper()
	var buf bytes.Buffer
	slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).Info("m", "v", v)
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m), buf.String())
	return m["v"]
}

// TestCompositeBoundaries cuts arrays and objects at and around the node
// budget and the depth limit: the output is always valid and bounded.
func TestCompositeBoundaries(t *testing.T) {
	for _, n := range []int{maxCompositeNodes - 2, maxCompositeNodes - 1, maxCompositeNodes, maxCompositeNodes + 1} {
		arr := make([]any, n)
		obj := make(map[string]int, n)
		for i := range arr {
			arr[i] = []int{}
			obj["k"+strconv.Itoa(i)] = i
		}
		got := logJSON(t, arr).([]any)
		assert.LessOrEqual(t, len(got), maxCompositeNodes+1)
		gotObj := logJSON(t, obj).(map[string]any)
		assert.LessOrEqual(t, len(gotObj), maxCompositeNodes+1)
		nested := logJSON(t, []any{[]any{arr}, "tail"}).([]any)
		assert.Len(t, nested, 2)
	}
	for _, d := range []int{maxCompositeDepth - 1, maxCompositeDepth, maxCompositeDepth + 1} {
		var v any = "leaf"
		for range d {
			v = []any{v}
		}
		out, err := json.Marshal(logJSON(t, v))
		require.NoError(t, err)
		assert.LessOrEqual(t, strings.Count(string(out), "["), maxCompositeDepth)
	}
}

// FuzzCompositeJSON feeds arbitrary JSON to the conversion as a
// json.RawMessage: it must never panic and always print valid JSON.
func FuzzCompositeJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `[1,"x",{"b":[true,false,null]}]`, `{"password":"qSecretValue9"}`,
		`{"accessToken":{"x":"qSecretValue9"}}`, `"\u0041\"\\"`, `{"":{"":[]}}`, `1e999`, `-0.5`,
		`{"a":"QXV0aG9yaXphdGlvbjogQmVhcmVyIHFTZWNyZXRWYWx1ZTk="}`, `{"a":"{AccessToken:qSecretValue9 TokenType:Bearer}"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).Info("m", "v", json.RawMessage(s))
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m), buf.String())
	})
}

// FuzzCamelFields runs the text rules on arbitrary text: never a panic,
// and a second pass changes nothing.
func FuzzCamelFields(f *testing.F) {
	for _, s := range []string{
		"{AccessToken:abc TokenType:Bearer}", `{"clientSecret":"a\"b","x":1}`, "apiKey=abc&x=1",
		"&{Creds:&{ClientSecret:x} RefreshToken:map[a:b]}", "AccessToken:", `"AccessToken":"`, "aB:c:d=e",
	} {
		f.Add(s)
	}
	s := slogRedactor{r: defaultRedactor()}
	f.Fuzz(func(t *testing.T, in string) {
		once, _ := s.str("", in)
		twice, changed := s.str("", once)
		assert.False(t, changed, "%q -> %q -> %q", in, once, twice)
	})
}
