package otelbearer

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The request state is the context the middleware passes on; printing that
// context, or one derived from it, never shows the token it holds before
// validation, nor its fingerprint.
func TestRequestContextPrintsNoState(t *testing.T) {
	h := newHarness(t)
	var printed []string
	v := ValidatorFunc(func(ctx context.Context, tok string) (Claims, error) {
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		st := stateFrom(ctx)
		for _, c := range []any{ctx, child, st} {
			printed = append(printed, fmt.Sprintf("%v|%+v|%#v|%s", c, c, c, c))
		}
		return testValidator.Validate(ctx, tok)
	})
	handler := NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), "api",
		h.opts(WithValidator(v))...)
	resp := serve(handler, bearer(get("/"), tokAlice))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	fp, ok := serverFingerprint(t, h)
	assert.True(t, ok)
	assert.Len(t, printed, 3)
	for _, p := range printed {
		assert.NotContains(t, p, tokAlice)
		assert.NotContains(t, p, fp)
		assert.Contains(t, p, "otelbearer request state")
	}
}

// serverFingerprint returns the token.fingerprint the server span got.
func serverFingerprint(t *testing.T, h *harness) (string, bool) {
	t.Helper()
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == TokenFingerprintKey {
				return kv.Value.AsString(), true
			}
		}
	}
	return "", false
}
