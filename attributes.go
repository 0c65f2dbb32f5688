package otelbearer

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// Attribute keys, the package's public contract, which dashboards, alerts
// and tail sampling query. Fingerprints are keyed HMACs, 32 lowercase hex
// characters; user.id and token.* facts come from validated [Claims] only;
// redaction.* never carry the values.
const (
	TokenFingerprintKey         = attribute.Key(attrkey.TokenFingerprint)         // token.fingerprint: the request's credential
	TokenOutgoingFingerprintKey = attribute.Key(attrkey.TokenOutgoingFingerprint) // token.outgoing.fingerprint: what [NewTransport] sends
	TokenSourceKey              = attribute.Key(attrkey.TokenSource)              // token.source: a [TokenSource]
	AuthSchemeKey               = attribute.Key(attrkey.AuthScheme)               // auth.scheme: an [AuthScheme]
	AuthEventKey                = attribute.Key(attrkey.AuthEvent)                // auth.event: an [AuthEvent]
	AuthOptionalKey             = attribute.Key(attrkey.AuthOptional)             // auth.optional: true where a token is optional
	AuthzDecisionKey            = attribute.Key(attrkey.AuthzDecision)            // authz.decision: an [AuthzDecision]
	AuthzReasonKey              = attribute.Key(attrkey.AuthzReason)              // authz.reason: of the last [Allow] / [Deny]
	AuthzResourceKey            = attribute.Key(attrkey.AuthzResource)            // authz.resource: of the last [Allow] / [Deny]
	UserIDKey                   = attribute.Key(attrkey.UserID)                   // user.id: the subject, see [WithUserID]
	TokenIDKey                  = attribute.Key(attrkey.TokenID)                  // token.id: the JWT jti
	TokenScopesKey              = attribute.Key(attrkey.TokenScopes)              // token.scopes: a string slice
	TokenClientIDKey            = attribute.Key(attrkey.TokenClientID)            // token.client_id
	TokenIssuerKey              = attribute.Key(attrkey.TokenIssuer)              // token.issuer
	ClientAddressKey            = attribute.Key(attrkey.ClientAddress)            // client.address: the peer, see [WithTrustedProxies]
	RedactionCountKey           = attribute.Key(attrkey.RedactionCount)           // redaction.count: values replaced
	RedactionSanitizedKey       = attribute.Key(attrkey.RedactionSanitized)       // redaction.sanitized: values made UTF-8 or cut
)

// AuthEvent is a value of [AuthEventKey].
type AuthEvent string

// The values of [AuthEventKey], with the answer under enforcement (RFC 6750).
const (
	AuthTokenMissing    AuthEvent = "token_missing"    // no bearer credential (Basic counts as none): 401
	AuthTokenMalformed  AuthEvent = "token_malformed"  // duplicate headers, two methods, bad syntax, too long: 400
	AuthTokenInvalid    AuthEvent = "token_invalid"    // the validator refused the token: 401 invalid_token
	AuthTokenExpired    AuthEvent = "token_expired"    // 401 invalid_token
	AuthTokenRevoked    AuthEvent = "token_revoked"    // 401 invalid_token
	AuthTokenValid      AuthEvent = "token_valid"      // a validator accepted the token
	AuthTokenUnverified AuthEvent = "token_unverified" // not validated (yet), or the validator unavailable: 503
)

// failed reports whether e is an authentication failure of the token
// itself: malformed, invalid, expired or revoked.
func (e AuthEvent) failed() bool {
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

// AuthScheme is a value of [AuthSchemeKey], lowercased.
type AuthScheme string

// The values of [AuthSchemeKey].
const (
	AuthSchemeBearer AuthScheme = "bearer"
	AuthSchemeBasic  AuthScheme = "basic"
	AuthSchemeDigest AuthScheme = "digest"
	AuthSchemeOther  AuthScheme = "other"
)

// Event names of the audit log records: one per request at its end, with
// the outcome and status code, and one per [Allow] / [Deny].
const (
	AuditEventAuthn = "otelbearer.authn"
	AuditEventAuthz = "otelbearer.authz"
)
