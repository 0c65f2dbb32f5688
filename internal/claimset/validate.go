package claimset

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/otelbearer/otelbearer"
)

// NoAlgorithm is an algorithm name no token carries: the list
// [WithoutNone] returns when nothing is left, so a validator given no
// usable algorithm accepts no token (an empty list means "any algorithm"
// to golang-jwt and "RS256" to go-oidc).
const NoAlgorithm = "invalid: no algorithm allowed"

// WithoutNone returns a copy of algs without "none" in any spelling of
// its case, or []string{NoAlgorithm} when that leaves nothing. "none"
// is never accepted, whatever the options say.
func WithoutNone(algs []string) []string {
	out := slices.DeleteFunc(slices.Clone(algs), func(a string) bool { return strings.EqualFold(a, "none") })
	if len(out) == 0 {
		return []string{NoAlgorithm}
	}
	return out
}

// Precheck is the start of Validate: it refuses a token that is not a
// JWS in canonical compact form (see [CheckCompact]) with an error
// wrapping [otelbearer.ErrTokenInvalid], prefixed with pkg, the
// validator's package name.
func Precheck(pkg, token string) error {
	if err := CheckCompact(token); err != nil {
		return fmt.Errorf("%w: %s: %w", otelbearer.ErrTokenInvalid, pkg, err)
	}
	return nil
}

// Revoked is the revocation hook of both validators: it reports whether
// the token with identifier jti is revoked, or an error when it cannot
// tell.
type Revoked = func(ctx context.Context, jti string) (bool, error)

// Finish is the end of Validate, once the signature and the registered
// claims are verified: c are the claims read from the token and mapErr
// the error reading them. It returns c, or no claims and an error:
// mapErr wrapped in [otelbearer.ErrTokenInvalid]; a revoked jti as
// [otelbearer.ErrTokenRevoked]; a failing revoked hook (fail closed)
// wrapped in [otelbearer.ErrValidatorUnavailable]. A nil revoked checks
// nothing.
func Finish(ctx context.Context, pkg string, c otelbearer.Claims, mapErr error, revoked Revoked) (otelbearer.Claims, error) {
	if mapErr != nil {
		return otelbearer.Claims{}, fmt.Errorf("%w: %s: %w", otelbearer.ErrTokenInvalid, pkg, mapErr)
	}
	if revoked != nil {
		r, err := revoked(ctx, c.TokenID)
		if err != nil {
			return otelbearer.Claims{}, fmt.Errorf("%w: %s: revocation check: %w",
				otelbearer.ErrValidatorUnavailable, pkg, err)
		}
		if r {
			return otelbearer.Claims{}, otelbearer.ErrTokenRevoked
		}
	}
	return c, nil
}
