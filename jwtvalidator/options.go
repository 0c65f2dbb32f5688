package jwtvalidator

import (
	"slices"
	"time"
)

// Option configures [New] and [NewHMAC]. A nil Option is ignored.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithAlgorithms sets the signing algorithms ("RS256", "HS256", …) a
// token may use (its alg header), replacing the default. "none" is
// dropped from the list; an empty list accepts no token at all.
func WithAlgorithms(algs ...string) Option {
	m := slices.Clone(algs)
	return optionFunc(func(c *config) { c.methods = m })
}

// WithValidMethods is [WithAlgorithms].
//
// Deprecated: Use [WithAlgorithms], the name oidcvalidator shares.
func WithValidMethods(methods ...string) Option { return WithAlgorithms(methods...) }

// WithIssuer requires the iss claim to equal iss. An empty iss checks
// nothing.
func WithIssuer(iss string) Option {
	return optionFunc(func(c *config) { c.issuer = iss })
}

// WithAudience requires the aud claim to contain at least one of aud.
// Without it, or with no non-empty aud, the audience is not checked.
func WithAudience(aud ...string) Option {
	a := slices.DeleteFunc(slices.Clone(aud), func(s string) bool { return s == "" })
	return optionFunc(func(c *config) { c.audience = a })
}

// WithLeeway allows clock skew of d when checking exp, nbf and iat.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(c *config) { c.leeway = d })
}

// WithoutExpirationRequired accepts tokens without an exp claim (by
// default they are invalid). An exp that is present is still checked.
func WithoutExpirationRequired() Option {
	return optionFunc(func(c *config) { c.expOptional = true })
}

// WithNow sets the clock used for exp, nbf and iat (for tests). A nil now
// keeps time.Now.
func WithNow(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.timeFunc = now })
}

// WithTimeFunc is [WithNow].
//
// Deprecated: Use [WithNow], the name oidcvalidator shares.
func WithTimeFunc(f func() time.Time) Option { return WithNow(f) }

// WithRevocation checks every otherwise valid token's jti with fn. A
// revoked token fails with otelbearer.ErrTokenRevoked; an error from fn
// fails with otelbearer.ErrValidatorUnavailable (fail closed). A nil fn
// checks nothing.
func WithRevocation(fn RevocationFunc) Option {
	return optionFunc(func(c *config) { c.revoked = fn })
}
