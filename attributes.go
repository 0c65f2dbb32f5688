package otelbearer

import "go.opentelemetry.io/otel/attribute"

// Attribute keys. Together with the value constants below they are the
// package's public contract: dashboards, alerts and tail-sampling policies
// query them, so a key or value changes only with a note in the README.
const (
	// TokenFingerprintKey is the keyed, non-reversible fingerprint of the
	// bearer credential of the request being served: 32 lowercase hex
	// characters (128 bits). It is stamped on every span of the
	// request (client spans included) and every log record logged with the
	// request's context. Absent when the request carries no well-formed
	// bearer credential.
	TokenFingerprintKey = attribute.Key("token.fingerprint")

	// TokenOutgoingFingerprintKey is the fingerprint of the bearer credential
	// an outgoing request sends, on the client span of [NewTransport].
	TokenOutgoingFingerprintKey = attribute.Key("token.outgoing.fingerprint")

	// TokenSourceKey says where the bearer credential came from: a
	// [TokenSource].
	TokenSourceKey = attribute.Key("token.source")

	// AuthSchemeKey is the scheme of the Authorization header: an
	// [AuthScheme]. Absent when there is no Authorization header.
	AuthSchemeKey = attribute.Key("auth.scheme")

	// AuthEventKey is what authentication concluded about the request: one of
	// the AuthEvent constants.
	AuthEventKey = attribute.Key("auth.event")

	// AuthOptionalKey is true on public routes, where a token is optional
	// (see [WithTokenOptionalPaths]). Tail-sampling policies use it not to keep
	// token_missing traces of health checks as failures.
	AuthOptionalKey = attribute.Key("auth.optional")

	// AuthzDecisionKey is the authorization decision: [AuthzAllow],
	// [AuthzDeny] or [AuthzNone] (no decision recorded yet). A deny is
	// sticky: a later allow in the same request does not undo it.
	AuthzDecisionKey = attribute.Key("authz.decision")

	// AuthzReasonKey is the application's reason for the last decision,
	// e.g. "owner" or "not_owner" or "insufficient_scope".
	AuthzReasonKey = attribute.Key("authz.reason")

	// AuthzResourceKey names the resource the last decision was about.
	AuthzResourceKey = attribute.Key("authz.resource")

	// UserIDKey is the subject of a validated token (OpenTelemetry semantic
	// convention user.id). Never set from unvalidated claims; see
	// [WithUserID] to leave it out as personal data.
	UserIDKey = attribute.Key("user.id")

	// TokenIDKey is the token identifier (JWT jti) of a validated token.
	TokenIDKey = attribute.Key("token.id")

	// TokenScopesKey lists the scopes of a validated token (string slice).
	TokenScopesKey = attribute.Key("token.scopes")

	// TokenClientIDKey is the OAuth client the validated token was issued to.
	TokenClientIDKey = attribute.Key("token.client_id")

	// TokenIssuerKey is the issuer of the validated token.
	TokenIssuerKey = attribute.Key("token.issuer")

	// ClientAddressKey is the semantic-convention client.address. On the
	// server span and the audit records it is the TCP peer address, unless
	// [WithTrustedProxies] names proxies whose X-Forwarded-For is believed.
	ClientAddressKey = attribute.Key("client.address")

	// RedactionCountKey counts the values the redactor replaced on a span
	// or record. It never carries the values themselves.
	RedactionCountKey = attribute.Key("redaction.count")
)

// AuthEvent is a value of [AuthEventKey].
type AuthEvent string

// The values of [AuthEventKey].
const (
	// AuthTokenMissing: no bearer credential (also a non-Bearer scheme such
	// as Basic, whose credential is dropped). RFC 6750: 401, no error code.
	AuthTokenMissing AuthEvent = "token_missing"
	// AuthTokenMalformed: the request is malformed as a bearer request:
	// duplicate Authorization headers, more than one credential method,
	// "Bearer" with no token, bytes outside the b64token syntax, or a header
	// over the size cap. RFC 6750: 400 invalid_request.
	AuthTokenMalformed AuthEvent = "token_malformed"
	// AuthTokenInvalid: the validator rejected the token (bad signature,
	// wrong audience, unknown token). RFC 6750: 401 invalid_token.
	AuthTokenInvalid AuthEvent = "token_invalid"
	// AuthTokenExpired: the token is past its expiry. 401 invalid_token.
	AuthTokenExpired AuthEvent = "token_expired"
	// AuthTokenRevoked: the token was revoked. 401 invalid_token.
	AuthTokenRevoked AuthEvent = "token_revoked"
	// AuthTokenValid: a validator accepted the token.
	AuthTokenValid AuthEvent = "token_valid"
	// AuthTokenUnverified: a well-formed token is present but nothing
	// validated it: no validator is configured, validation has not run yet,
	// or the validator was unavailable (then 503, fail closed). Never a
	// reason to trust the token's claims.
	AuthTokenUnverified AuthEvent = "token_unverified"
)

// Failed reports whether e is an authentication failure worth an alert:
// malformed, invalid, expired or revoked. Missing and unverified are not
// failures of the token itself.
func (e AuthEvent) Failed() bool {
	switch e {
	case AuthTokenMalformed, AuthTokenInvalid, AuthTokenExpired, AuthTokenRevoked:
		return true
	}
	return false
}

// AuthzDecision is a value of [AuthzDecisionKey].
type AuthzDecision string

// The values of [AuthzDecisionKey].
const (
	AuthzAllow AuthzDecision = "allow" // access granted
	AuthzDeny  AuthzDecision = "deny"  // access refused (RFC 6750 403)
	AuthzNone  AuthzDecision = "none"  // no decision recorded (yet)
)

// TokenSource is a value of [TokenSourceKey].
type TokenSource string

// The values of [TokenSourceKey].
const (
	TokenSourceHeader TokenSource = "header" // Authorization: Bearer (RFC 6750 §2.1)
	TokenSourceQuery  TokenSource = "query"  // ?access_token= (RFC 6750 §2.3)
	TokenSourceForm   TokenSource = "form"   // form-encoded body access_token (§2.2)
)

// AuthScheme is a value of [AuthSchemeKey]: the scheme of the
// Authorization header, lowercased and bounded to these values.
type AuthScheme string

// The values of [AuthSchemeKey].
const (
	AuthSchemeBearer AuthScheme = "bearer"
	AuthSchemeBasic  AuthScheme = "basic"
	AuthSchemeDigest AuthScheme = "digest"
	AuthSchemeOther  AuthScheme = "other"
)

// Event names of the audit log records the middleware emits.
const (
	// AuditEventAuthn names the record emitted once per request, at its
	// end, with the authentication outcome and the response status code.
	AuditEventAuthn = "otelbearer.authn"
	// AuditEventAuthz names the record emitted for every [Allow] / [Deny].
	AuditEventAuthz = "otelbearer.authz"
)
