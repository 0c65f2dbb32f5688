package otelbearer

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// sentParent is the span context a client claims in its traceparent.
var sentParent = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
	SpanID:     trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
	TraceFlags: trace.FlagsSampled,
})

const sentTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// A client chooses the trace id it sends; by default the server span is a
// new root linked to it, and only trusted peers continue their trace.
// Before, every client's trace id was continued.
func TestTraceContextTrust(t *testing.T) {
	lan := netip.MustParsePrefix("10.0.0.0/8")
	never := otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return false })
	always := otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true })
	tests := []struct {
		name   string
		remote string
		opts   []Option
		cont   bool
	}{
		{"default: any peer starts a new trace", "192.0.2.1:1234", nil, false},
		{"default: loopback too", "127.0.0.1:1234", nil, false},
		{"trusted peer continues", "10.1.2.3:4000", []Option{WithTrustedTraceContext(lan)}, true},
		{"trusted ipv4-mapped peer continues", "[::ffff:10.1.2.3]:4000", []Option{WithTrustedTraceContext(lan)}, true},
		{"trusted ipv6 peer with zone continues", "[fe80::1%eth0]:4000",
			[]Option{WithTrustedTraceContext(netip.MustParsePrefix("fe80::/10"))}, true},
		{"untrusted peer with a trust list", "203.0.113.9:4000", []Option{WithTrustedTraceContext(lan)}, false},
		{"trusted proxies are not trusted for trace context", "10.1.2.3:4000", []Option{WithTrustedProxies(lan)}, false},
		{"invalid prefix is ignored", "10.1.2.3:4000", []Option{WithTrustedTraceContext(netip.Prefix{})}, false},
		{"unparsable peer address", "pipe", []Option{WithTrustedTraceContext(lan)}, false},
		{"user's public-endpoint rule wins: continue", "192.0.2.1:1234", []Option{WithOtelHTTPOptions(never)}, true},
		{"user's public-endpoint rule wins: new root", "10.1.2.3:4000",
			[]Option{WithTrustedTraceContext(lan), WithOtelHTTPOptions(always)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			opts := append(h.opts(WithValidator(testValidator),
				WithOtelHTTPOptions(otelhttp.WithPropagators(propagation.TraceContext{}))), tt.opts...)
			handler := NewHandler(http.NotFoundHandler(), "api", opts...)
			r := bearer(get("/"), "forged.token")
			r.RemoteAddr = tt.remote
			r.Header.Set("Traceparent", sentTraceparent)
			assert.Equal(t, http.StatusUnauthorized, serve(handler, r).StatusCode)

			server := serverSpan(t, h)
			assert.Equal(t, "token_invalid", attrMap(server.Attributes())[AuthEventKey])
			if tt.cont {
				assert.Equal(t, sentParent.TraceID(), server.SpanContext().TraceID())
				assert.Equal(t, sentParent.SpanID(), server.Parent().SpanID())
				assert.True(t, server.Parent().IsRemote())
				assert.Empty(t, server.Links())
				return
			}
			assert.NotEqual(t, sentParent.TraceID(), server.SpanContext().TraceID())
			assert.False(t, server.Parent().IsValid(), "a new root")
			require.Len(t, server.Links(), 1, "linked to the sent span context")
			link := server.Links()[0].SpanContext
			assert.Equal(t, sentParent.TraceID(), link.TraceID())
			assert.Equal(t, sentParent.SpanID(), link.SpanID())
			h.requireAbsent(t, "forged.token")
		})
	}
}

// Without an incoming trace context there is nothing to link.
func TestTraceContextNoneSent(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(http.NotFoundHandler(), "api",
		h.opts(WithOtelHTTPOptions(otelhttp.WithPropagators(propagation.TraceContext{})))...)
	serve(handler, get("/"))
	server := serverSpan(t, h)
	assert.False(t, server.Parent().IsValid())
	assert.Empty(t, server.Links())
}

// Under the SDK's default parent-based sampler, a client that sends an
// unsampled traceparent would have the server span not recorded at all;
// by default its request is recorded as a root of its own.
func TestTraceContextUnsampledParent(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     []Option
		recorded bool
	}{
		{"untrusted peer: recorded", nil, true},
		{"trusted peer: follows its parent", []Option{WithTrustedTraceContext(netip.MustParsePrefix("192.0.2.0/24"))}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t) // default sampler: ParentBased(AlwaysSample)
			opts := append(h.opts(WithValidator(testValidator),
				WithOtelHTTPOptions(otelhttp.WithPropagators(propagation.TraceContext{}))), tt.opts...)
			r := bearer(get("/"), "forged.token")
			r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
			serve(NewHandler(http.NotFoundHandler(), "api", opts...), r)
			assert.Equal(t, tt.recorded, len(h.spans.Ended()) == 1)
			// The audit record is there either way.
			assert.Equal(t, "token_invalid", recordAttrs(authnRecord(t, h))[AuthEventKey])
		})
	}
}
