package otelbearer

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Info is what the middleware knows about a request's credential.
type Info struct {
	Fingerprint   string        // token.fingerprint, "" without a bearer token
	Source        TokenSource   // token.source
	Scheme        AuthScheme    // auth.scheme
	Event         AuthEvent     // auth.event
	Decision      AuthzDecision // authz.decision
	Reason        string        // authz.reason
	Resource      string        // authz.resource
	Optional      bool          // auth.optional
	ClientAddress string        // client.address
}

// FromContext returns the auth state of the request ctx belongs to; ok is
// false outside a request of [NewHandler] / [NewMiddleware].
func FromContext(ctx context.Context) (info Info, ok bool) {
	st := stateFrom(ctx)
	if st == nil {
		return Info{}, false
	}
	v := st.view.Load()
	return Info{
		Fingerprint: st.fingerprint, Source: st.source, Scheme: st.scheme,
		Event: v.event, Decision: v.decision, Reason: v.reason, Resource: v.resource,
		Optional: st.optional, ClientAddress: st.clientAddr,
	}, true
}

// ClaimsFromContext returns the validated claims of the request ctx belongs
// to, or false; their slices and map are shared: do not modify them.
func ClaimsFromContext(ctx context.Context) (Claims, bool) {
	if st := stateFrom(ctx); st != nil {
		if v := st.view.Load(); v.validated {
			c := v.claims
			c.Scopes = slices.Clip(c.Scopes)
			return c, true
		}
	}
	return Claims{}, false
}

// Attributes returns what is stamped on every span and log record of the
// request ctx belongs to (token.fingerprint, auth.event, authz.decision,
// user.id), nil outside one. The slice is shared: append, never modify.
func Attributes(ctx context.Context) []attribute.KeyValue {
	if st := stateFrom(ctx); st != nil {
		a := st.view.Load().attrs
		return a[:len(a):len(a)]
	}
	return nil
}

// RecordAuthn records the outcome of authentication done outside the
// middleware; claims are kept only with [AuthTokenValid], and shared.
func RecordAuthn(ctx context.Context, event AuthEvent, claims *Claims) {
	if st := stateFrom(ctx); st != nil {
		st.setAuthn(event, claims)
	}
}

// Allow records that access to resource was granted, as [Deny] does.
func Allow(ctx context.Context, reason, resource string) {
	recordDecision(ctx, AuthzAllow, reason, resource)
}

// Deny records that access to resource was refused, for reason (e.g.
// "not_owner"), on the spans and in an [AuditEventAuthz] record at WARN. A
// deny is sticky. The handler answers 403 itself.
func Deny(ctx context.Context, reason, resource string) {
	recordDecision(ctx, AuthzDeny, reason, resource)
}

// recordDecision records d on the request's state, its server span (an
// event for this decision, the attributes of the request's one) and in an
// audit record; outside the middleware on the current span only.
func recordDecision(ctx context.Context, d AuthzDecision, reason, resource string) {
	st := stateFrom(ctx)
	if st == nil {
		// Not under the middleware: annotate the current span only.
		attrs := []attribute.KeyValue{
			AuthzDecisionKey.String(string(d)),
			AuthzReasonKey.String(reason),
			AuthzResourceKey.String(resource),
		}
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(attrs...)
		span.AddEvent("authz.decision", trace.WithAttributes(attrs...))
		return
	}
	event, current := st.decide(d, reason, resource)
	span := st.serverSpan
	if span == nil {
		span = trace.SpanFromContext(ctx)
	}
	span.AddEvent("authz.decision", trace.WithAttributes(event...))
	span.SetAttributes(current...)
	st.countAuthz(ctx, d, reason)
	emitAuthz(ctx, st, d, reason, resource)
}
