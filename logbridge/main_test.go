package logbridge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Fixed tokens of testValidator.
const (
	tokGood    = "good-token-1"
	tokExpired = "expired-token-1"
	tokRevoked = "revoked-token-1"
	tokBad     = "bad-token-1"
)

var testKey = []byte("logbridge-test-key")

// testValidator maps the fixed tokens to claims or refusals.
var testValidator = otelbearer.ValidatorFunc(func(_ context.Context, tok string) (otelbearer.Claims, error) {
	switch tok {
	case tokGood:
		return otelbearer.Claims{Subject: "alice", Scopes: []string{"items:read"}, TokenID: "jti-1"}, nil
	case tokExpired:
		return otelbearer.Claims{}, otelbearer.ErrTokenExpired
	case tokRevoked:
		return otelbearer.Claims{}, otelbearer.ErrTokenRevoked
	}
	return otelbearer.Claims{}, fmt.Errorf("unknown token: %w", otelbearer.ErrTokenInvalid)
})

// fingerprint is the fingerprint of tok under testKey.
func fingerprint(tok string) string {
	f, err := otelbearer.NewFingerprinter(testKey)
	if err != nil {
		panic(err)
	}
	return f.Fingerprint(tok)
}

// serve runs fn as the handler of one GET request carrying the
// Authorization header auth ("" for none) through otelbearer.NewHandler,
// and returns the response status.
func serve(t testing.TB, auth, path string, fn func(w http.ResponseWriter, r *http.Request), opts ...otelbearer.Option) int {
	t.Helper()
	opts = append([]otelbearer.Option{
		otelbearer.WithFingerprintKey(testKey),
		otelbearer.WithValidator(testValidator),
	}, opts...)
	h := otelbearer.NewHandler(http.HandlerFunc(fn), "test", opts...)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// requestContext returns the context of a request with a valid token, kept
// after the request ended (for benchmarks and examples of stamping).
func requestContext(t testing.TB) context.Context {
	var ctx context.Context
	serve(t, "Bearer "+tokGood, "/items/1", func(_ http.ResponseWriter, r *http.Request) {
		otelbearer.Allow(r.Context(), "owner", "item/1")
		ctx = r.Context()
	})
	return ctx
}
