package otelbearer

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Semantic-convention keys used by the audit records.
const (
	httpMethodKey = attribute.Key("http.request.method")
	urlPathKey    = attribute.Key("url.path")
	httpStatusKey = attribute.Key("http.response.status_code")
)

// auditEnabled reports whether an audit record would be kept at all; when
// false the middleware skips status capture and record building.
func auditEnabled(ctx context.Context, st *requestState) bool {
	return st.cfg.logger.Enabled(ctx, log.EnabledParameters{Severity: log.SeverityWarn, EventName: AuditEventAuthn})
}

// authnFailed reports whether the request's authentication outcome is a
// failure worth a WARN record.
func authnFailed(st *requestState, v *authView, status int) bool {
	switch {
	case v.event.failed():
		return true
	case status == http.StatusUnauthorized:
		return true
	case st.cfg.validator == nil:
		return false
	case v.event == AuthTokenMissing:
		return !st.optional
	case v.event == AuthTokenUnverified: // the validator was unavailable
		return true
	}
	return false
}

// emitAuthn emits the request's AuditEventAuthn record. status 0 means the
// handler panicked before writing a status.
func emitAuthn(ctx context.Context, st *requestState, status int) {
	v := st.view.Load()
	sev, text := log.SeverityInfo, "INFO"
	if authnFailed(st, v, status) {
		sev, text = log.SeverityWarn, "WARN"
	} else if !st.cfg.auditSuccess {
		return
	}
	body := authnBody(v.event)
	if st.why != "" {
		body += ": " + st.why
	}
	var rec log.Record
	rec.SetEventName(AuditEventAuthn)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(sev)
	rec.SetSeverityText(text)
	rec.SetBody(attribute.StringValue(body))
	attrs := make([]attribute.KeyValue, 0, 18)
	attrs = appendRequestAttrs(attrs, st, v)
	if status != 0 {
		attrs = append(attrs, httpStatusKey.Int(status))
	}
	if st.scheme != "" {
		attrs = append(attrs, AuthSchemeKey.String(string(st.scheme)))
	}
	if st.source != "" {
		attrs = append(attrs, TokenSourceKey.String(string(st.source)))
	}
	if st.optional {
		attrs = append(attrs, AuthOptionalKey.Bool(true))
	}
	if f := faultFor(st.why); f != nil {
		attrs = append(attrs, errorTypeKey.String(f.errorType))
	}
	if v.decision != AuthzNone {
		attrs = append(attrs, AuthzReasonKey.String(v.reason), AuthzResourceKey.String(v.resource))
	}
	if v.validated {
		attrs = appendTokenAttrs(attrs, &v.claims) // user.id is in v.attrs
	}
	rec.AddAttributes(attrs...)
	st.cfg.logger.Emit(ctx, rec)
}

// authnBody is the body of an AuditEventAuthn record for event, a constant
// for the known events so that the common record costs no string.
func authnBody(event AuthEvent) string {
	switch event {
	case AuthTokenValid:
		return "authentication result: token_valid"
	case AuthTokenMissing:
		return "authentication result: token_missing"
	case AuthTokenMalformed:
		return "authentication result: token_malformed"
	case AuthTokenInvalid:
		return "authentication result: token_invalid"
	case AuthTokenExpired:
		return "authentication result: token_expired"
	case AuthTokenRevoked:
		return "authentication result: token_revoked"
	case AuthTokenUnverified:
		return "authentication result: token_unverified"
	}
	return "authentication result: " + string(event)
}

// emitAuthz emits an AuditEventAuthz record for one decision.
func emitAuthz(ctx context.Context, st *requestState, d AuthzDecision, reason, resource string) {
	sev, text := log.SeverityInfo, "INFO"
	if d == AuthzDeny {
		sev, text = log.SeverityWarn, "WARN"
	} else if !st.cfg.auditSuccess {
		return
	}
	if !st.cfg.logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: AuditEventAuthz}) {
		return
	}
	v := st.view.Load()
	var rec log.Record
	rec.SetEventName(AuditEventAuthz)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(sev)
	rec.SetSeverityText(text)
	rec.SetBody(attribute.StringValue("authorization " + string(d) + ": " + reason))
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = appendRequestAttrs(attrs, st, v)
	// The record describes this decision, not the request's sticky one.
	for i := range attrs {
		if attrs[i].Key == AuthzDecisionKey {
			attrs[i] = AuthzDecisionKey.String(string(d))
		}
	}
	attrs = append(attrs, AuthzReasonKey.String(reason), AuthzResourceKey.String(resource))
	if v.validated && len(v.claims.Scopes) > 0 {
		attrs = append(attrs, TokenScopesKey.StringSlice(v.claims.Scopes))
	}
	rec.AddAttributes(attrs...)
	st.cfg.logger.Emit(ctx, rec)
}

// appendRequestAttrs appends the stamped set plus who and what.
func appendRequestAttrs(dst []attribute.KeyValue, st *requestState, v *authView) []attribute.KeyValue {
	dst = append(dst, v.attrs...)
	return append(dst,
		ClientAddressKey.String(st.clientAddr),
		httpMethodKey.String(st.method),
		urlPathKey.String(st.path),
	)
}

// methodName bounds the request method as semantic conventions ask.
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
