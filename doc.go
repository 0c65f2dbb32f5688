// Package otelbearer makes bearer-token APIs observable without leaking
// credentials. It wraps [go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp]
// so that every span and every log record of a request says which token was
// used (a keyed fingerprint, never the token), what authentication
// concluded and what authorization decided, and it strips credentials from
// everything recorded before any exporter sees it.
//
// # Quick start
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
//		sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(
//			sdktrace.NewBatchSpanProcessor(exporter), redactor)),
//	)
//	h := otelbearer.NewHandler(mux, "api",
//		otelbearer.WithValidator(myValidator),
//		otelbearer.WithTokenOptionalPaths("/healthz"),
//		otelbearer.WithTracerProvider(tp),
//	)
//
// # Attributes
//
// The attribute keys and values in attributes.go are the package's public
// contract:
//
//   - token.fingerprint: HMAC-SHA256 of the token under a key
//     ([WithFingerprintKey] or [FingerprintKeyEnv]), 128 bits, lowercase hex.
//     Stable across processes for the same key; not reversible.
//   - auth.event: [AuthTokenMissing], [AuthTokenMalformed], [AuthTokenInvalid],
//     [AuthTokenExpired], [AuthTokenRevoked], [AuthTokenValid] or
//     [AuthTokenUnverified].
//   - authz.decision: [AuthzAllow], [AuthzDeny] or [AuthzNone], with
//     authz.reason and authz.resource from [Allow] and [Deny].
//   - user.id, token.id, token.scopes, token.client_id, token.issuer: only
//     from validated [Claims].
//   - client.address: the TCP peer unless [WithTrustedProxies] is set;
//     X-Forwarded-For is attacker-controlled.
//
// # Request flow
//
// The credential is parsed and fingerprinted before otelhttp starts the
// server span; validation runs inside it; the span processor of
// [NewSpanProcessor] stamps every span
// from the request's context (see its documentation for which values a span
// that starts early carries). Handlers read the outcome with [FromContext]
// and [ClaimsFromContext] and record object-level decisions with [Allow]
// and [Deny].
//
// # Enforcement
//
// With a [Validator], failures are answered per RFC 6750 §3.1: malformed
// requests 400 invalid_request, missing tokens 401 with no error code,
// invalid, expired and revoked tokens 401 invalid_token, insufficient scope
// 403 ([RequireScopes]); every 401 carries WWW-Authenticate: Bearer. A
// validation without a verdict ([ErrValidatorUnavailable], the
// [WithValidationTimeout] deadline, a cancelled request, a panic) fails
// closed with 503 and is recorded as [AuthTokenUnverified].
// [WithEnforcement](false) records without rejecting.
//
// # Logs
//
// The middleware emits one audit record per request ([AuditEventAuthn]) and
// one per decision ([AuditEventAuthz]) through the OpenTelemetry Logs API,
// regardless of trace sampling. Package logbridge stamps the same
// attributes on the application's own slog records and redacts them.
//
// # Redaction
//
// [Redactor] removes Authorization and cookie headers, API keys,
// access_token and other secret URL parameters, Bearer credentials and
// JWT-shaped strings from span names, attributes, events, links, status
// and resources ([NewRedactingSpanProcessor], [NewRedactingExporter]).
package otelbearer
