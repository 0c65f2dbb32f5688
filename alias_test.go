package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// tenantSampler samples everything and, as a user's Sampler might, builds
// its attributes by appending to otelbearer.Attributes of the parent.
type tenantSampler struct{}

func (tenantSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	attrs := append(Attributes(p.ParentContext), attribute.String("tenant", "acme"), attribute.String("region", "eu"))
	return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Attributes: attrs[len(attrs)-2:]}
}

func (tenantSampler) Description() string { return "tenant" }

// TestAttributesDoNotAliasServerSpan: appending to Attributes(ctx) in a
// Sampler, before the server span starts, must not overwrite the server
// span's own start attributes (client.address, token.source, …).
func TestAttributesDoNotAliasServerSpan(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tenantSampler{}),
		sdktrace.WithSpanProcessor(NewSpanProcessor()), sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	handler := NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		a := Attributes(r.Context())
		n := len(a)
		b1 := append(a, attribute.String("x", "1"))
		b2 := append(a, attribute.String("x", "2"))
		assert.Equal(t, "1", b1[n].Value.AsString(), "appends do not share storage")
		assert.Equal(t, "2", b2[n].Value.AsString())
		assert.Len(t, Attributes(r.Context()), n)
	}), "api", WithFingerprintKey(testKey), WithOtelHTTPOptions(otelhttpTP(tp)))

	r := bearer(httptest.NewRequest(http.MethodGet, "/", nil), "c4n4ryTok")
	r.Header.Set("X-Forwarded-For", "203.0.113.9") // so that the middleware sets client.address
	serve(handler, r)
	ended := spans.Ended()
	require.Len(t, ended, 1)
	got := attrMap(ended[0].Attributes())
	assert.Equal(t, "192.0.2.1", got[ClientAddressKey], "the peer, not overwritten")
	assert.Equal(t, "header", got[TokenSourceKey])
	assert.Equal(t, "bearer", got[AuthSchemeKey])
	assert.Equal(t, "acme", got["tenant"])
	assert.Equal(t, "eu", got["region"])
	assert.Equal(t, newFingerprinter(newKey(testKey)).Fingerprint("c4n4ryTok"), got[TokenFingerprintKey])
}

// TestClaimsScopesNoSpareCapacity: the scopes of the claims a handler gets
// have no spare capacity, so two appends do not write over each other.
func TestClaimsScopesNoSpareCapacity(t *testing.T) {
	h := newHarness(t)
	v := ValidatorFunc(func(context.Context, string) (Claims, error) {
		scopes := make([]string, 1, 4) // a validator may return spare capacity
		scopes[0] = "read"
		return Claims{Subject: "alice", Scopes: scopes}, nil
	})
	handler := NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		c1, ok := ClaimsFromContext(r.Context())
		require.True(t, ok)
		c1.Scopes = append(c1.Scopes, "admin")
		c2, _ := ClaimsFromContext(r.Context())
		c2.Scopes = append(c2.Scopes, "write")
		assert.Equal(t, []string{"read", "admin"}, c1.Scopes)
		assert.Equal(t, []string{"read", "write"}, c2.Scopes)
		c3, _ := ClaimsFromContext(r.Context())
		assert.Equal(t, []string{"read"}, c3.Scopes)
	}), "api", h.opts(WithValidator(v))...)
	serve(handler, bearer(httptest.NewRequest(http.MethodGet, "/", nil), "tok"))
	assert.Equal(t, `["read"]`, attrMap(h.spans.Ended()[0].Attributes())[TokenScopesKey])
}
