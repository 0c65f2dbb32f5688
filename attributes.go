package otelbearer

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// Attribute keys: with the values below, the package's public contract,
// which dashboards, alerts and tail-sampling policies query.
const (
	// TokenFingerprintKey is the keyed, non-reversible fingerprint of the
	// bearer credential of the request being served (32 lowercase hex
	// characters), on every span and log record of the request. Absent
	// without a well-formed bearer credential.
	TokenFingerprintKey = attribute.Key(attrkey.TokenFingerprint)
	// TokenOutgoingFingerprintKey is the fingerprint of the credential an
	// outgoing request sends, on the client span of [NewTransport].
	TokenOutgoingFingerprintKey = attribute.Key(attrkey.TokenOutgoingFingerprint)
	TokenSourceKey              = attribute.Key(attrkey.TokenSource) // a [TokenSource]
	AuthSchemeKey               = attribute.Key(attrkey.AuthScheme)  // an [AuthScheme]
	AuthEventKey                = attribute.Key(attrkey.AuthEvent)   // an [AuthEvent]
	// AuthOptionalKey is true where a token is optional
	// ([WithTokenOptionalPaths]), so that tail sampling does not keep
	// token_missing traces of health checks as failures.
	AuthOptionalKey = attribute.Key(attrkey.AuthOptional)
	// AuthzDecisionKey is the request's [AuthzDecision]; a deny is sticky.
	AuthzDecisionKey = attribute.Key(attrkey.AuthzDecision)
	AuthzReasonKey   = attribute.Key(attrkey.AuthzReason)   // of the last [Allow] / [Deny]
	AuthzResourceKey = attribute.Key(attrkey.AuthzResource) // of the last [Allow] / [Deny]
	// UserIDKey, TokenIDKey (jti), TokenScopesKey (string slice),
	// TokenClientIDKey and TokenIssuerKey come from validated [Claims] only.
	UserIDKey        = attribute.Key(attrkey.UserID)
	TokenIDKey       = attribute.Key(attrkey.TokenID)
	TokenScopesKey   = attribute.Key(attrkey.TokenScopes)
	TokenClientIDKey = attribute.Key(attrkey.TokenClientID)
	TokenIssuerKey   = attribute.Key(attrkey.TokenIssuer)
	// ClientAddressKey is client.address: the TCP peer, unless
	// [WithTrustedProxies] names proxies whose X-Forwarded-For is believed.
	ClientAddressKey = attribute.Key(attrkey.ClientAddress)
	// RedactionCountKey counts the values redaction replaced on a span or
	// record ([WithRedactionSummary]); RedactionSanitizedKey those it made
	// valid UTF-8 or cut to a bound. Neither carries the values.
	RedactionCountKey     = attribute.Key(attrkey.RedactionCount)
	RedactionSanitizedKey = attribute.Key(attrkey.RedactionSanitized)
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
