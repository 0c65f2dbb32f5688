package otelbearer

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/felixge/httpsnoop"
	"github.com/realclientip/realclientip-go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// NewHandler wraps h in otelhttp's server instrumentation and adds the
// bearer-token auth context, as otelhttp.NewHandler does for plain HTTP.
// operation is passed to otelhttp. See [NewMiddleware].
func NewHandler(h http.Handler, operation string, opts ...Option) http.Handler {
	return NewMiddleware(operation, opts...)(h)
}

// NewMiddleware returns middleware that, for every request:
//
//  1. parses the bearer credential (Authorization header, access_token query
//     or form parameter) and fingerprints it, before otelhttp starts the
//     server span, so the span, a Sampler (via [FromContext] on the parent
//     context) and every child span see it;
//  2. starts the server span through otelhttp, as the root of a new trace
//     linked to the incoming one unless the peer is trusted (see
//     [WithTrustedTraceContext]);
//  3. runs the [Validator], if any, inside that span with a deadline
//     ([WithValidationTimeout]) and records the outcome; with a validator
//     and without [WithObserveOnly] it answers failures per RFC 6750 (400,
//     401, 503 with WWW-Authenticate) without calling the next handler;
//  4. emits an [AuditEventAuthn] log record when the request ends.
//
// Configuration is resolved once here; a request never fails because of the
// middleware and the middleware never panics.
func NewMiddleware(operation string, opts ...Option) func(http.Handler) http.Handler {
	cfg := newConfig(opts...)
	ip := newClientIP(cfg.trusted)
	return func(next http.Handler) http.Handler {
		h := &handler{cfg: cfg, next: next, clientIP: ip, public: cfg.publicMatcher(next)}
		h.traced = otelhttp.NewMiddleware(operation, cfg.serverOtelOpts()...)(http.HandlerFunc(h.serveTraced))
		return h
	}
}

type handler struct {
	cfg      *config
	next     http.Handler
	traced   http.Handler
	clientIP func(*http.Request) string
	public   func(*http.Request) bool // nil when no route is public
}

// ServeHTTP runs before otelhttp: it builds the request state.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := parseRequest(r, h.cfg.maxHeader, h.cfg.formTokens)
	optional := h.public != nil && h.public(r)
	_, xff := r.Header["X-Forwarded-For"]
	st := newRequestState(h.cfg, c, optional, xff, h.clientIP(r), methodName(r.Method), r.URL.Path, r.UserAgent())
	h.traced.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

var (
	errNotStamped = errors.New("otelbearer: the server span was not stamped: register " +
		"otelbearer.NewSpanProcessor on the TracerProvider (setting attributes on the server span only)")
	warnNotStamped sync.Once
)

// serveTraced runs inside the server span. It passes r itself to the next
// handler, so a ServeMux's r.Pattern reaches otelhttp's span name.
func (h *handler) serveTraced(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := stateFrom(ctx)
	span := trace.SpanFromContext(ctx)
	st.serverSpan = span
	st.req = r
	defer st.countAuthn(ctx, r)
	if span.IsRecording() && !st.stamped.Load() {
		warnNotStamped.Do(func() { otel.Handle(errNotStamped) })
		span.SetAttributes(st.serverStartAttrs()...)
	}
	// The audit record is emitted however the request ends, a panicking
	// validator or handler included.
	var status *statusRecorder
	if st.auditEnabled(ctx) {
		status = &statusRecorder{}
		w = status.wrap(w)
		defer func() { st.emitAuthn(ctx, status.final()) }()
	}
	if st.token != "" && h.cfg.validator != nil {
		claims, event, fault := validate(ctx, h.cfg.validator, st.token, h.cfg.validationTimeout)
		if fault != nil {
			st.why = fault.desc
			span.SetStatus(codes.Error, fault.desc)
			span.SetAttributes(errorTypeKey.String(fault.errorType))
		}
		if event == AuthTokenValid {
			st.setAuthn(event, &claims)
		} else {
			st.setAuthn(event, nil)
		}
	}
	st.token = ""

	if h.cfg.validator != nil && !h.cfg.observeOnly && reject(w, st, h.cfg.realm) {
		// The mux never sees a refused request; look its route up so that
		// otelhttp names the span after it as for any other request.
		if mux, ok := h.next.(*http.ServeMux); ok && r.Pattern == "" {
			_, r.Pattern = mux.Handler(r)
		}
		status.done()
		return
	}
	h.next.ServeHTTP(w, r)
	status.done()
}

// statusRecorder captures the response status for the audit record.
type statusRecorder struct {
	code     int
	finished bool
}

func (s *statusRecorder) wrap(w http.ResponseWriter) http.ResponseWriter {
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				if s.code == 0 && code >= 200 {
					s.code = code
				}
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				if s.code == 0 {
					s.code = http.StatusOK
				}
				return next(b)
			}
		},
	})
}

// done marks a normal return (nil-safe).
func (s *statusRecorder) done() {
	if s != nil {
		s.finished = true
	}
}

// final is the status code sent: 200 when the handler returned without
// writing, 0 when it panicked before writing.
func (s *statusRecorder) final() int {
	if s.code == 0 && s.finished {
		return http.StatusOK
	}
	return s.code
}

// newClientIP returns how client.address is found: the TCP peer, or with
// trusted proxies the rightmost untrusted X-Forwarded-For address when the
// peer is a trusted proxy.
func newClientIP(trusted []netip.Prefix) func(*http.Request) string {
	if len(trusted) == 0 {
		return func(r *http.Request) string { return peerHost(r.RemoteAddr) }
	}
	nets := make([]net.IPNet, 0, len(trusted))
	for _, p := range trusted {
		p = p.Masked()
		nets = append(nets, net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	strategy, err := realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", nets)
	if err != nil { // only for an invalid header name, which is fixed here
		otel.Handle(err)
		return func(r *http.Request) string { return peerHost(r.RemoteAddr) }
	}
	return func(r *http.Request) string {
		peer := peerHost(r.RemoteAddr)
		if a, err := netip.ParseAddr(peer); err == nil {
			a = a.Unmap()
			for _, p := range trusted {
				if p.Contains(a) {
					if ip := strategy.ClientIP(r.Header, r.RemoteAddr); ip != "" {
						return ip
					}
					break
				}
			}
		}
		return peer
	}
}

// peerHost strips the port from a RemoteAddr.
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// NewTransport wraps base (http.DefaultTransport when nil) in otelhttp's
// client instrumentation. When the outgoing request carries an
// Authorization: Bearer credential, its client span gets
// token.outgoing.fingerprint (never the token). token.fingerprint on the
// span is still that of the request being served, when the outgoing
// request's context comes from it. Of the options only the fingerprint key,
// the header cap and [WithOtelHTTPOptions] apply.
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
