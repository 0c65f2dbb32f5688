package otelbearer

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

type stateKey struct{}

// requestState is the auth state of one request. It is created before the
// server span starts and shared by every goroutine of the request: readers
// load an immutable view atomically; writers (validation, RecordAuthn,
// Allow, Deny) publish a new view under mu. It is itself the context passed
// on (the request's own, plus itself as the value of stateKey), which saves
// a context value per request.
type requestState struct {
	context.Context // the request's context as it arrived

	cfg         *config
	fingerprint string // unsafe.String over fpBuf, or ""
	source      TokenSource
	scheme      AuthScheme
	optional    bool
	clientAddr  string
	method      string
	path        string
	why         string
	token       string // the raw token until validation ran; then ""

	serverSpan trace.Span
	req        *http.Request // the request passed on, for http.route in metrics
	stamped    atomic.Bool   // the SpanProcessor stamped the server span

	mu         sync.Mutex
	view       atomic.Pointer[authView]
	second     *heapView // storage for the first update's view, or nil
	usedSecond bool      // second holds a published view; guarded by mu

	// Inline storage, so a request costs one allocation for its state:
	// start holds the first view's attributes followed by the server-span
	// attributes known at start.
	first  authView
	nstart int
	start  [9]attribute.KeyValue
	fpBuf  [fingerprintHexLen]byte
}

// stateWithView is a request state allocated together with the storage of
// the view its validation will publish.
type stateWithView struct {
	requestState
	view heapView
}

// spanAttrs is a buffer where the server span's attributes are gathered
// for their one SetAttributes call (which copies them).
type spanAttrs [16]attribute.KeyValue

var spanAttrsPool = sync.Pool{New: func() any { return new(spanAttrs) }}

// String names st as the standard library's contexts do, never showing
// its fields (the raw token among them); GoString does the same for %#v.
func (st *requestState) String() string {
	if s, ok := st.Context.(fmt.Stringer); ok {
		return s.String() + ".WithValue(otelbearer request state)"
	}
	return "context.WithValue(otelbearer request state)"
}

// GoString is String.
func (st *requestState) GoString() string { return st.String() }

// Value returns st for stateKey, else the request context's value.
func (st *requestState) Value(key any) any {
	if key == (stateKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// authView is an immutable snapshot of what is known so far.
type authView struct {
	event     AuthEvent
	decision  AuthzDecision
	reason    string
	resource  string
	validated bool
	claims    Claims               // meaningful only when validated
	attrs     []attribute.KeyValue // stamped on every span and log record
}

// heapView is a view published by update, with inline storage for its
// attributes and for the server span's update, so publishing costs one
// allocation. (The first view lives in the request state instead.)
type heapView struct {
	authView
	buf [4]attribute.KeyValue
	upd [6]attribute.KeyValue
}

// Bounds of the request-derived strings the middleware records. Longer
// values are cut at a character boundary; invalid UTF-8 becomes U+FFFD
// first (an OTLP exporter refuses a batch holding invalid UTF-8).
const (
	maxPathBytes      = 2 << 10 // url.path
	maxAddrBytes      = 256     // client.address
	maxUserAgentBytes = 1 << 10 // user_agent.original, when otelhttp's must be replaced
)

// userAgentKey is otelhttp's semantic-convention key for the User-Agent.
const userAgentKey = attribute.Key("user_agent.original")

// newRequestState builds the state of one request. setClient says whether
// the server span needs our client.address: otelhttp already records the
// peer when there is no X-Forwarded-For to be fooled by. path and userAgent
// are the raw request's: when they are not valid UTF-8 within their bound,
// the server span gets the cleaned value in place of otelhttp's.
func newRequestState(ctx context.Context, cfg *config, c credential, optional, setClient bool, clientAddr, method, path, userAgent string) *requestState {
	rawPath, rawUA := path, userAgent
	path = cleanString(path, maxPathBytes)
	userAgent = cleanString(userAgent, maxUserAgentBytes)
	clientAddr = cleanString(clientAddr, maxAddrBytes)
	// A token to validate means an update: its view comes in the same
	// allocation (without one, the state stays half the size).
	var st *requestState
	if c.token != "" && cfg.validator != nil {
		sv := new(stateWithView)
		st = &sv.requestState
		st.second = &sv.view
	} else {
		st = new(requestState)
	}
	st.Context, st.cfg, st.source, st.scheme, st.optional = ctx, cfg, c.source, c.scheme, optional
	st.clientAddr, st.method, st.path, st.why, st.token = clientAddr, method, path, c.why, c.token
	if c.token != "" && cfg.fp != nil { // nil: the key was refused
		cfg.fp.fill(&st.fpBuf, c.token)
		st.fingerprint = unsafe.String(&st.fpBuf[0], fingerprintHexLen)
	}
	st.first = authView{event: c.event, decision: AuthzNone}
	a := st.first.appendAttrs(st.start[:0], st)
	// No spare capacity: it holds the server span's start attributes, which
	// an append to Attributes(ctx) would overwrite.
	st.first.attrs = a[:len(a):len(a)]
	if setClient {
		a = append(a, ClientAddressKey.String(clientAddr))
	}
	if c.source != "" {
		a = append(a, TokenSourceKey.String(string(c.source)))
	}
	if c.scheme != "" {
		a = append(a, AuthSchemeKey.String(string(c.scheme)))
	}
	if optional {
		a = append(a, AuthOptionalKey.Bool(true))
	}
	if path != rawPath {
		a = append(a, urlPathKey.String(path))
	}
	if userAgent != rawUA {
		a = append(a, userAgentKey.String(userAgent))
	}
	st.nstart = len(a)
	st.view.Store(&st.first)
	return st
}

// cleanString returns s as valid UTF-8 (each run of invalid bytes becomes
// U+FFFD) of at most max bytes, cut at a character boundary. It allocates
// only when s has to change.
func cleanString(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// appendAttrs appends the every-span attributes of v.
func (v *authView) appendAttrs(dst []attribute.KeyValue, st *requestState) []attribute.KeyValue {
	if st.fingerprint != "" {
		dst = append(dst, TokenFingerprintKey.String(st.fingerprint))
	}
	dst = append(dst, AuthEventKey.String(string(v.event)), AuthzDecisionKey.String(string(v.decision)))
	if v.validated && v.claims.Subject != "" && st.cfg.userID {
		dst = append(dst, UserIDKey.String(v.claims.Subject))
	}
	return dst
}

// setServerAttrs sets on span, in one call, what the server span carries
// once validation ran: the current view's stamped attributes, the
// server-span attributes known at start, the validated token's facts and
// errorType when not "".
func (st *requestState) setServerAttrs(span trace.Span, errorType string) {
	buf := spanAttrsPool.Get().(*spanAttrs)
	span.SetAttributes(st.serverAttrs(buf[:0], errorType)...)
	clear(buf[:]) // hold no request's strings while pooled
	spanAttrsPool.Put(buf)
}

// serverAttrs appends the attributes of setServerAttrs to dst.
func (st *requestState) serverAttrs(dst []attribute.KeyValue, errorType string) []attribute.KeyValue {
	v := st.view.Load()
	a := append(dst, v.attrs...)
	a = append(a, st.start[len(st.first.attrs):st.nstart]...)
	if v.validated {
		a = appendTokenAttrs(a, &v.claims)
	}
	if errorType != "" {
		a = append(a, errorTypeKey.String(errorType))
	}
	return a
}

// setServerSpan records the server span, to which later updates go.
func (st *requestState) setServerSpan(span trace.Span) {
	st.mu.Lock()
	st.serverSpan = span
	st.mu.Unlock()
}

// next returns a new view holding a copy of the current one, for the
// caller, which holds st.mu, to change and publish. The first one lives in
// st's allocation when there was a token to validate.
func (st *requestState) next() *heapView {
	h := st.second
	if h == nil || st.usedSecond {
		h = new(heapView)
	}
	st.usedSecond = true
	h.authView = *st.view.Load()
	return h
}

// publish fills the stamped attributes of h and makes it the current view.
// The caller holds st.mu.
func (st *requestState) publish(h *heapView) *authView {
	h.attrs = slices.Clip(h.appendAttrs(h.buf[:0], st))
	st.view.Store(&h.authView)
	return &h.authView
}

// setAuthn publishes the authentication outcome, sets it on the server
// span and returns the new view. claims are kept only with AuthTokenValid.
func (st *requestState) setAuthn(event AuthEvent, claims *Claims) *authView {
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.next()
	valid := event == AuthTokenValid && claims != nil
	h.event, h.validated, h.claims = event, valid, Claims{}
	if valid {
		h.claims = *claims
	}
	v := st.publish(h)
	// Before the middleware set the server span's attributes (during
	// validation) there is no span to update: they include this outcome.
	if span := st.serverSpan; span != nil {
		// The update lives in the new view's own storage, so building it
		// costs no allocation.
		upd := append(h.upd[:0], AuthEventKey.String(string(event)))
		if valid {
			upd = st.appendClaimAttrs(upd, &h.claims)
		}
		span.SetAttributes(upd...)
	}
	return v
}

// decide publishes decision d (a deny is sticky: a later allow does not
// replace it) and returns the attributes of this decision and those of the
// request's decision after it. Both live in the new view's storage, which
// is never written again once published, so a span may keep them.
func (st *requestState) decide(d AuthzDecision, reason, resource string) (this, current []attribute.KeyValue) {
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.next()
	if h.decision != AuthzDeny || d != AuthzAllow {
		h.decision, h.reason, h.resource = d, reason, resource
	}
	upd := append(h.upd[:0],
		AuthzDecisionKey.String(string(d)),
		AuthzReasonKey.String(reason),
		AuthzResourceKey.String(resource),
		AuthzDecisionKey.String(string(h.decision)),
		AuthzReasonKey.String(h.reason),
		AuthzResourceKey.String(h.resource),
	)
	st.publish(h)
	return upd[:3:3], upd[3:6:6]
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// appendClaimAttrs appends the attributes of validated claims.
func (st *requestState) appendClaimAttrs(attrs []attribute.KeyValue, c *Claims) []attribute.KeyValue {
	if c.Subject != "" && st.cfg.userID {
		attrs = append(attrs, UserIDKey.String(c.Subject))
	}
	return appendTokenAttrs(attrs, c)
}

// appendTokenAttrs appends the token facts of validated claims (all but the
// subject, which the stamped set already carries as user.id).
func appendTokenAttrs(attrs []attribute.KeyValue, c *Claims) []attribute.KeyValue {
	if c.TokenID != "" {
		attrs = append(attrs, TokenIDKey.String(c.TokenID))
	}
	if len(c.Scopes) > 0 {
		attrs = append(attrs, TokenScopesKey.StringSlice(c.Scopes))
	}
	if c.ClientID != "" {
		attrs = append(attrs, TokenClientIDKey.String(c.ClientID))
	}
	if c.Issuer != "" {
		attrs = append(attrs, TokenIssuerKey.String(c.Issuer))
	}
	return attrs
}
