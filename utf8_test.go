package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer/internal/otlptest"
)

func TestCleanString(t *testing.T) {
	long := strings.Repeat("é", maxPathBytes) // 2 bytes a character
	tests := []struct{ in, want string }{
		{"/ok", "/ok"},
		{"/\xff", "/\uFFFD"},
		{"/a\xff\xfeb", "/a\uFFFDb"},
		{"/\xe2\x82", "/\uFFFD"}, // a cut character
		{long, long[:maxPathBytes]},
		{"/" + long, ("/" + long)[:maxPathBytes-1]}, // cut before a split character
	}
	for _, tt := range tests {
		got := cleanString(tt.in, maxPathBytes)
		assert.Equal(t, tt.want, got)
		assert.True(t, utf8.ValidString(got))
		assert.LessOrEqual(t, len(got), maxPathBytes)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { cleanString("/api/data/alice-1", maxPathBytes) }))
}

// hostileRequests have a path, User-Agent and X-Forwarded-For that are not
// valid UTF-8, or too long. (RemoteAddr comes from the connection, and
// net/http refuses control bytes in header values, not bytes over 0x7f.)
func hostileRequests() []*http.Request {
	a := httptest.NewRequest(http.MethodGet, "/%ff", nil)
	a.Header.Set("User-Agent", "agent\xff\xfe")
	b := httptest.NewRequest(http.MethodGet, "/x/%c3%28/"+strings.Repeat("%e2%82", 3000), nil)
	b.Header.Set("X-Forwarded-For", "\xff\xfe, 198.51.100.1")
	c := bearer(httptest.NewRequest(http.MethodGet, "/"+strings.Repeat("p", 10000), nil), tokAlice)
	return []*http.Request{a, b, c}
}

// TestHandlerRecordsValidUTF8: a request to /%ff (r.URL.Path is invalid
// UTF-8) gives valid, bounded UTF-8 on the server span (ours and otelhttp's
// url.path and user_agent.original) and the audit record.
func TestHandlerRecordsValidUTF8(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(testValidator))...)
	for _, r := range hostileRequests() {
		serve(handler, r)
	}
	require.Len(t, h.spans.Ended(), 3)
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			assert.True(t, utf8.ValidString(kv.Value.String()), "%s=%q", kv.Key, kv.Value.String())
			if kv.Key == urlPathKey {
				assert.LessOrEqual(t, len(kv.Value.AsString()), maxPathBytes)
			}
		}
	}
	require.Len(t, h.logs.records(), 3)
	for _, r := range h.logs.records() {
		for k, v := range recordAttrs(r) {
			assert.True(t, utf8.ValidString(v), "%s=%q", k, v)
		}
	}
	assert.Equal(t, "/\uFFFD", recordAttrs(h.logs.records()[0])[urlPathKey])
}

// TestWireValidUTF8: the same requests exported with the real OTLP gRPC
// exporters reach the receiver: a string that is not valid UTF-8 would make
// the exporter drop the whole batch, with the spans of other requests.
func TestWireValidUTF8(t *testing.T) {
	rcv := otlptest.Start(t)
	tp, lp := wireProviders(t, rcv)
	handler := NewHandler(http.NotFoundHandler(), "api", WithFingerprintKey(testKey), WithValidator(testValidator),
		WithLoggerProvider(lp), WithOtelHTTPOptions(otelhttpTP(tp)))

	reqs := append(hostileRequests(), bearer(httptest.NewRequest(http.MethodGet, "/fine", nil), tokAlice))
	for _, r := range reqs {
		serve(handler, r)
	}
	require.NoError(t, tp.Shutdown(context.Background()))
	require.NoError(t, lp.Shutdown(context.Background()))
	assert.Equal(t, len(reqs), rcv.SpanCount(), "every span of the batch arrived")
	assert.Equal(t, len(reqs), rcv.LogCount(), "every audit record of the batch arrived")
	assert.True(t, rcv.Contains("/\uFFFD"))
	assert.False(t, rcv.Contains(tokAlice))
}
