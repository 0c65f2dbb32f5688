package otelbearer

import (
	"errors"
	"net/http"
	"sync"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// NewHandler wraps h as [NewMiddleware] does; operation goes to otelhttp.
func NewHandler(h http.Handler, operation string, opts ...Option) http.Handler {
	return NewMiddleware(operation, opts...)(h)
}

// NewMiddleware returns middleware that fingerprints the bearer credential
// before otelhttp starts the server span, validates it inside the span,
// answers failures per RFC 6750 unless [WithEnforcement] is off, and emits
// an [AuditEventAuthn] record at the end. Options are resolved once here;
// the middleware never fails a request nor panics.
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
	st := newRequestState(r.Context(), h.cfg, c, optional, xff, h.clientIP(r), methodName(r.Method), r.URL.Path, r.UserAgent())
	h.traced.ServeHTTP(w, r.WithContext(st))
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
	st.req = r
	defer st.countAuthn(ctx, r)
	// The audit record is emitted however the request ends, a panicking
	// validator or handler included.
	var status *statusRecorder
	if auditEnabled(ctx, st) {
		status, w = newStatusRecorder(w)
		defer func() { emitAuthn(ctx, st, status.final()) }()
	}
	var errorType string
	if st.token != "" && h.cfg.validator != nil {
		claims, event, fault := validate(ctx, h.cfg.validator, st.token, h.cfg.validationTimeout)
		if fault != nil {
			st.why = fault.desc
			span.SetStatus(codes.Error, fault.desc)
			errorType = fault.errorType
		}
		if event == AuthTokenValid {
			st.setAuthn(event, &claims)
		} else {
			st.setAuthn(event, nil)
		}
	}
	st.token = ""
	// The server span gets its attributes in one call, once validation
	// ran: a single growth of its attribute slice, no duplicate key.
	if span.IsRecording() {
		if !st.stamped.Load() && !shutDown(span) {
			warnNotStamped.Do(func() { otel.Handle(errNotStamped) })
		}
		st.setServerAttrs(span, errorType)
	}
	st.setServerSpan(span)

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

// shutDown reports whether span's TracerProvider has been shut down: an SDK
// provider then hands out no-op tracers and has unregistered every
// processor, ours included, so an unstamped span is no misconfiguration
// (requests still served during shutdown).
func shutDown(span trace.Span) bool {
	_, ok := span.TracerProvider().Tracer(ScopeName).(noop.Tracer)
	return ok
}
