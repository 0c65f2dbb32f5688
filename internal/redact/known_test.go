package redact

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// ownClassKeys counts the keys listed in ownClass's switch, read from
// its source, so that a key added there must be added to ownKeys too.
func ownClassKeys(t *testing.T) int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "key.go", nil, 0)
	require.NoError(t, err)
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		if fd, ok := node.(*ast.FuncDecl); ok && fd.Name.Name != "ownClass" {
			return false
		}
		if cc, ok := node.(*ast.CaseClause); ok {
			n += len(cc.List)
		}
		return true
	})
	return n
}

// TestKnownClassMatchesRules pins that the table of well-known keys gives
// each key the class the key rules give it, that each is ASCII and short
// enough to skip the key checks, and that other keys are not in it.
func TestKnownClassMatchesRules(t *testing.T) {
	r := newTestRedactor(t)
	require.Len(t, ownKeys, ownClassKeys(t))
	seen := map[string]bool{}
	for _, k := range append(slices.Clone(knownKeys), ownKeys...) {
		require.False(t, seen[k], "listed twice: %s", k)
		seen[k] = true
		c, ok := knownClass(k)
		assert.True(t, ok, k)
		assert.Equal(t, r.classifyRules(k), c, k)
		assert.True(t, isASCII(k), k)
		assert.Less(t, len(k), minBound, k)
	}
	used := 0
	for _, i := range knownSlots {
		if i != 0 {
			used++
		}
	}
	assert.Equal(t, len(seen), used)
	assert.LessOrEqual(t, 3*used, knownSize)
	assert.Less(t, used, 256)
	for _, k := range []string{"", "a", "url", "url.path.password", "url.pat", "http.request.header.authorization",
		"db.password", "server.addresS", "token.fingerprint2", "user.password"} {
		_, ok := knownClass(k)
		assert.False(t, ok, k)
	}
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
