// Package attrkey spells the attribute keys of otelbearer once. The root
// package's exported keys and the redaction engine, which exempts them from
// its default key rules, both use these strings.
package attrkey

// Attribute keys (see the root package's attributes.go for their meaning).
const (
	TokenFingerprint         = "token.fingerprint"
	TokenOutgoingFingerprint = "token.outgoing.fingerprint"
	TokenSource              = "token.source"
	AuthScheme               = "auth.scheme"
	AuthEvent                = "auth.event"
	AuthOptional             = "auth.optional"
	AuthzDecision            = "authz.decision"
	AuthzReason              = "authz.reason"
	AuthzResource            = "authz.resource"
	UserID                   = "user.id"
	TokenID                  = "token.id"
	TokenScopes              = "token.scopes"
	TokenClientID            = "token.client_id"
	TokenIssuer              = "token.issuer"
	ClientAddress            = "client.address"
	RedactionCount           = "redaction.count"
	RedactionSanitized       = "redaction.sanitized"
)

// FingerprintHexLen is the length of a token.fingerprint value: 128 bits
// in lowercase hex.
const FingerprintHexLen = 32
