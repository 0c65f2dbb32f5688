package otelbearer

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// outgoingKey keys the fingerprint of the credential an outgoing request
// sends, for the span processor to stamp on its client span.
type outgoingKey struct{}

// NewTransport wraps base (nil: http.DefaultTransport) in otelhttp's client
// instrumentation and fingerprints the credential it sends. Of the options
// the fingerprint key, the header cap and the otelhttp ones apply.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	cfg := newConfig(opts...)
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{cfg: cfg, next: otelhttp.NewTransport(base, cfg.otelhttpOpts...)}
}

type transport struct {
	cfg  *config
	next http.RoundTripper
}

// RoundTrip fingerprints the outgoing credential and calls otelhttp.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if hs := r.Header["Authorization"]; len(hs) == 1 {
		if c := parseAuthorization(hs[0], t.cfg.maxHeader); c.token != "" && t.cfg.fp != nil {
			fp := t.cfg.fp.Fingerprint(c.token)
			r = r.WithContext(context.WithValue(r.Context(), outgoingKey{}, fp))
		}
	}
	return t.next.RoundTrip(r)
}
