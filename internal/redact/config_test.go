package redact

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// The tests configure the engine as the root package's options do; each
// option there is one call of the same Config method.

type RedactOption func(*Config)

func WithSensitiveKeys(names ...string) RedactOption {
	return func(c *Config) { c.Keys = append(c.Keys, c.CheckNames("sensitive key", names)...) }
}

func WithSensitiveHeaders(names ...string) RedactOption {
	return func(c *Config) { c.Headers = append(c.Headers, c.CheckNames("sensitive header", names)...) }
}

func WithSensitiveQueryParams(names ...string) RedactOption {
	return func(c *Config) {
		c.CheckParams(names)
		c.Params = append(c.Params, c.CheckNames("query parameter", names)...)
	}
}

func WithValuePatterns(exprs ...string) RedactOption {
	return func(c *Config) { c.Patterns = append(c.Patterns, c.CheckNames("value pattern", exprs)...) }
}

func WithHeaderAllowList(names ...string) RedactOption {
	return func(c *Config) {
		c.AllowMode = true
		c.Allow = append(c.Allow, c.CheckNames("allowed header", names)...)
	}
}

func WithRedactionSummary(on bool) RedactOption { return func(c *Config) { c.Summary = on } }

func WithMaxValueBytes(n int) RedactOption {
	return func(c *Config) { c.MaxValue = c.CheckBound("value", n) }
}

func WithMaxRecordBytes(n int) RedactOption {
	return func(c *Config) { c.MaxRecord = c.CheckBound("record", n) }
}

func NewRedactor(opts ...RedactOption) (*Redactor, error) {
	var c Config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return New(c)
}

var (
	errRedactConfig           = ErrConfig
	NewRedactingSpanProcessor = NewSpanProcessor
	NewRedactingExporter      = NewExporter
)

// The package's own attribute keys, as the root package defines them.
const (
	TokenFingerprintKey         = attribute.Key(attrkey.TokenFingerprint)
	TokenOutgoingFingerprintKey = attribute.Key(attrkey.TokenOutgoingFingerprint)
	TokenSourceKey              = attribute.Key(attrkey.TokenSource)
	AuthSchemeKey               = attribute.Key(attrkey.AuthScheme)
	AuthEventKey                = attribute.Key(attrkey.AuthEvent)
	AuthOptionalKey             = attribute.Key(attrkey.AuthOptional)
	AuthzDecisionKey            = attribute.Key(attrkey.AuthzDecision)
	AuthzReasonKey              = attribute.Key(attrkey.AuthzReason)
	AuthzResourceKey            = attribute.Key(attrkey.AuthzResource)
	UserIDKey                   = attribute.Key(attrkey.UserID)
	TokenIDKey                  = attribute.Key(attrkey.TokenID)
	TokenScopesKey              = attribute.Key(attrkey.TokenScopes)
	TokenClientIDKey            = attribute.Key(attrkey.TokenClientID)
	TokenIssuerKey              = attribute.Key(attrkey.TokenIssuer)
	ClientAddressKey            = attribute.Key(attrkey.ClientAddress)
	RedactionCountKey           = attribute.Key(attrkey.RedactionCount)
	RedactionSanitizedKey       = attribute.Key(attrkey.RedactionSanitized)

	AuthTokenValid = "token_valid"
)

func TokenFingerprint(fp string) attribute.KeyValue { return TokenFingerprintKey.String(fp) }

func AuthEventAttr(e string) attribute.KeyValue { return AuthEventKey.String(e) }
