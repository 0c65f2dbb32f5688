package otelbearer

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RecordAuthn records the authentication outcome for applications whose
// authentication runs outside the middleware (no [WithValidator]): it sets
// auth.event on the server span and on spans and records started
// afterwards. claims are kept only with [AuthTokenValid]; with any other
// event they are ignored, so identity never comes from unvalidated claims.
// It does nothing outside a request served by [NewHandler]. The claims are
// copied; their Scopes slice is shared and must not be modified afterwards.
func RecordAuthn(ctx context.Context, event AuthEvent, claims *Claims) {
	if st := stateFrom(ctx); st != nil {
		st.setAuthn(event, claims)
	}
}

func (st *requestState) setAuthn(event AuthEvent, claims *Claims) {
	valid := event == AuthTokenValid && claims != nil
	var update []attribute.KeyValue
	st.update(func(v *authView, upd []attribute.KeyValue) {
		v.event, v.validated, v.claims = event, valid, Claims{}
		// The server span's update lives in the new view's own storage, so
		// building it costs no allocation.
		update = append(upd, AuthEventKey.String(string(event)))
		if valid {
			v.claims = *claims
			update = st.appendClaimAttrs(update, &v.claims)
		}
	})
	if span := st.serverSpan; span != nil {
		span.SetAttributes(update...)
	}
}

// Allow records that access to resource was granted, for reason (e.g.
// "owner"). See [Deny].
func Allow(ctx context.Context, reason, resource string) {
	decide(ctx, AuthzAllow, reason, resource)
}

// Deny records that access to resource was refused, for reason (e.g.
// "not_owner", the seeds' broken-object-level-authorization check). It sets
// authz.decision, authz.reason and authz.resource on the server span, adds
// an "authz.decision" span event, makes the decision visible to spans and
// log records started afterwards, and emits an [AuditEventAuthz] record at
// WARN. A deny is sticky: a later [Allow] in the same request is recorded
// as an event and an audit record but does not turn the request's decision
// back to allow. Deny does not write a response: the handler answers 403.
func Deny(ctx context.Context, reason, resource string) {
	decide(ctx, AuthzDeny, reason, resource)
}

func decide(ctx context.Context, d AuthzDecision, reason, resource string) {
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
	// The event describes this decision; the span attributes the request's
	// (sticky) one. Both live in the new view's storage, which is never
	// written again once published, so the span may keep referring to it.
	var event, current []attribute.KeyValue
	st.update(func(v *authView, upd []attribute.KeyValue) {
		if v.decision != AuthzDeny || d != AuthzAllow {
			v.decision, v.reason, v.resource = d, reason, resource
		}
		upd = append(upd,
			AuthzDecisionKey.String(string(d)),
			AuthzReasonKey.String(reason),
			AuthzResourceKey.String(resource),
			AuthzDecisionKey.String(string(v.decision)),
			AuthzReasonKey.String(v.reason),
			AuthzResourceKey.String(v.resource),
		)
		event, current = upd[:3:3], upd[3:6:6]
	})
	span := st.serverSpan
	if span == nil {
		span = trace.SpanFromContext(ctx)
	}
	span.AddEvent("authz.decision", trace.WithAttributes(event...))
	span.SetAttributes(current...)
	st.countAuthz(ctx, d, reason)
	st.emitAuthz(ctx, d, reason, resource)
}
