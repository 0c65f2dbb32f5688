package otelbearer

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Sentinel errors a [Validator] returns (wrapped or not) to say why a token
// was refused. Any other error means [AuthTokenInvalid].
var (
	// ErrTokenExpired maps to [AuthTokenExpired] (401 invalid_token).
	ErrTokenExpired = errors.New("otelbearer: token expired")
	// ErrTokenRevoked maps to [AuthTokenRevoked] (401 invalid_token).
	ErrTokenRevoked = errors.New("otelbearer: token revoked")
	// ErrTokenInvalid maps to [AuthTokenInvalid] (401 invalid_token).
	ErrTokenInvalid = errors.New("otelbearer: token invalid")
	// ErrValidatorUnavailable says the validator could not decide (JWKS or
	// revocation list unreachable). It is not a verdict on the token: the
	// request records [AuthTokenUnverified] and, when enforcing, fails
	// closed with 503.
	ErrValidatorUnavailable = errors.New("otelbearer: validator unavailable")
)

// Claims are the facts a validator established about a token. They reach
// telemetry and handlers only from a successful validation (or from
// [RecordAuthn] with [AuthTokenValid]); unvalidated claims are never used.
type Claims struct {
	Subject   string    // user.id
	Scopes    []string  // token.scopes
	TokenID   string    // token.id (JWT jti)
	ClientID  string    // token.client_id
	Issuer    string    // token.issuer
	ExpiresAt time.Time // not recorded as an attribute
}

// HasScope reports whether c grants scope.
func (c Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Validator checks a bearer token. Validate is called inside the request's
// server span with the request context, so spans it starts (a JWKS fetch, a
// revocation lookup) join the trace. It returns the token's claims, or an
// error: one of the sentinel errors (possibly wrapped) or any other error
// for an invalid token. The returned Claims (and their Scopes) belong to
// the middleware afterwards. It must be safe for concurrent use.
type Validator interface {
	Validate(ctx context.Context, token string) (Claims, error)
}

// ValidatorFunc adapts a function to [Validator].
type ValidatorFunc func(ctx context.Context, token string) (Claims, error)

// Validate calls f.
func (f ValidatorFunc) Validate(ctx context.Context, token string) (Claims, error) {
	return f(ctx, token)
}

// eventFor maps a validation error to its auth.event.
func eventFor(err error) AuthEvent {
	switch {
	case err == nil:
		return AuthTokenValid
	case errors.Is(err, ErrValidatorUnavailable):
		return AuthTokenUnverified
	case errors.Is(err, ErrTokenExpired):
		return AuthTokenExpired
	case errors.Is(err, ErrTokenRevoked):
		return AuthTokenRevoked
	}
	return AuthTokenInvalid
}
