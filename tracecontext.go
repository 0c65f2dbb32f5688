package otelbearer

import (
	"net/http"
	"net/netip"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// WithTracerProvider sets the TracerProvider of the server and client spans
// (default: the global one).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.otelhttpOpts = append(c.otelhttpOpts, otelhttp.WithTracerProvider(tp))
		}
	})
}

// serverOtelOpts returns the otelhttp options of the server middleware:
// the trace-context trust rule first, so that a WithPublicEndpointFn of the
// user's, applied later, takes precedence.
func (c *config) serverOtelOpts() []otelhttp.Option {
	opts := make([]otelhttp.Option, 0, 1+len(c.otelhttpOpts))
	opts = append(opts, otelhttp.WithPublicEndpointFn(untrustedTraceContext(c.traceTrusted)))
	return append(opts, c.otelhttpOpts...)
}

// untrustedTraceContext returns otelhttp's public-endpoint predicate: true
// (start a new root, link the incoming span context) unless the TCP peer
// is in trusted.
func untrustedTraceContext(trusted []netip.Prefix) func(*http.Request) bool {
	if len(trusted) == 0 {
		return func(*http.Request) bool { return true }
	}
	return func(r *http.Request) bool {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return true
		}
		a := ap.Addr().WithZone("").Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
}
