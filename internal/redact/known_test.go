package redact

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// knownKeys returns every key listed in knownClass's switch, read from
// its source so that a key added there is checked here too.
func knownKeys(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "known.go", nil, 0)
	require.NoError(t, err)
	var keys []string
	ast.Inspect(f, func(n ast.Node) bool {
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				lit, ok := e.(*ast.BasicLit)
				require.True(t, ok)
				k, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				keys = append(keys, k)
			}
		}
		return true
	})
	require.Greater(t, len(keys), 50)
	return keys
}

// TestKnownClassMatchesRules pins that the table of well-known keys gives
// each key the class the key rules give it, and that each is ASCII and
// short enough to skip the key checks.
func TestKnownClassMatchesRules(t *testing.T) {
	r := newTestRedactor(t)
	for _, k := range knownKeys(t) {
		c, ok := knownClass(k)
		assert.True(t, ok, k)
		assert.Equal(t, r.classifyRules(k), c, k)
		assert.True(t, isASCII(k), k)
		assert.Less(t, len(k), minBound, k)
	}
	_, ok := knownClass("url.path.password")
	assert.False(t, ok)
}

// TestKnownKeysYieldToOperatorKeys pins that WithSensitiveKeys still
// applies to a well-known key, by full name or last segment.
func TestKnownKeysYieldToOperatorKeys(t *testing.T) {
	cases := []struct {
		operator, key, value string
		redacted             bool
	}{
		{"url.path", "url.path", "/items/42", true},
		{"PATH", "url.path", "/items/42", true},
		{"PATH", "user_agent.original", "curl/8", false},
		{"user_agent.original", "user_agent.original", "curl/8", true},
		{"original", "user_agent.original", "curl/8", true},
		{"token.fingerprint", "token.fingerprint", testFP, true},
		{"url.path", "token.fingerprint", testFP, false},
	}
	for _, c := range cases {
		r, err := New(Config{Keys: []string{c.operator}})
		require.NoError(t, err)
		out, changed := r.KeyValue(attribute.String(c.key, c.value))
		assert.Equal(t, c.redacted, changed, "%s under %s", c.key, c.operator)
		if c.redacted {
			assert.Equal(t, Redacted, out.Value.AsString())
		}
	}
}

// TestPlainFastPathKeepsRules pins that a plain value with a trigger byte,
// a non-ASCII byte or an operator pattern still goes through the rules.
func TestPlainFastPathKeepsRules(t *testing.T) {
	r := newTestRedactor(t)
	out, changed := r.String("url.path", "/x?access_token=abc")
	assert.True(t, changed)
	assert.NotContains(t, out, "abc")
	out, changed = r.String("url.path", "/x\xff")
	assert.True(t, changed)
	assert.Equal(t, "/x\uFFFD", out)
	out, changed = r.String("url.path", "/über")
	assert.False(t, changed)
	assert.Equal(t, "/über", out)
	rp, err := New(Config{Patterns: []string{`secret[0-9]+`}})
	require.NoError(t, err)
	out, changed = rp.String("url.path", "/items/secret42")
	assert.True(t, changed)
	assert.Equal(t, "/items/"+Redacted, out)
	long := make([]byte, rp.maxValue+1)
	for i := range long {
		long[i] = 'a'
	}
	out, changed = r.String("url.path", string(long))
	assert.True(t, changed)
	assert.Len(t, out, r.maxValue)
}
