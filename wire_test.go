package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/otelbearer/otelbearer/internal/otlptest"
)

// TestMiddlewareNeverRecordsCredentials sends every way of carrying a
// credential through the middleware, exports spans and audit records with
// the real OTLP gRPC exporters and WITHOUT a redactor, and searches the
// bytes the receiver got: the middleware itself never records a raw
// credential; redaction is for what applications record.
func TestMiddlewareNeverRecordsCredentials(t *testing.T) {
	rcv := otlptest.Start(t)
	tp, lp := wireProviders(t, rcv)

	handler := NewHandler(dataMux(tp), "api", WithFingerprintKey(testKey), WithValidator(testValidator),
		WithLoggerProvider(lp), WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp)))
	const (
		hdr   = "c4n4ryHeaderTok"
		query = "c4n4ryQueryTok"
		form  = "c4n4ryFormTok"
		basic = "c4n4ryBasicCred"
		dup   = "c4n4ryDupTok"
		bad   = "c4n4ryBadTok"
	)
	reqs := []*http.Request{
		bearer(get("/api/data/alice-1"), hdr),
		bearer(get("/api/data/alice-1"), tokAlice),
		bearer(get("/api/data/bob-1"), tokAlice),
		get("/api/data/alice-1?access_token=" + query),
		func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/data/alice-1", strings.NewReader("access_token="+form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(),
		func() *http.Request {
			r := get("/api/data/alice-1")
			r.Header.Set("Authorization", "Basic "+basic)
			return r
		}(),
		func() *http.Request {
			r := bearer(get("/api/data/alice-1"), dup)
			r.Header.Add("Authorization", "Bearer "+dup)
			return r
		}(),
		func() *http.Request {
			r := get("/api/data/alice-1")
			r.Header.Set("Authorization", "Bearer "+bad+" x")
			return r
		}(),
	}
	for _, r := range reqs {
		serve(handler, r)
	}
	require.NoError(t, tp.Shutdown(context.Background()))
	require.NoError(t, lp.Shutdown(context.Background()))

	require.GreaterOrEqual(t, rcv.SpanCount(), len(reqs))
	require.GreaterOrEqual(t, rcv.LogCount(), len(reqs))
	require.True(t, rcv.Contains(newFingerprinter(newKey(testKey)).Fingerprint(hdr)), "the check must see what was exported")
	for _, secret := range []string{hdr, query, form, basic, dup, bad, tokAlice} {
		assert.False(t, rcv.Contains(secret), "%s reached the receiver", secret)
	}
}
