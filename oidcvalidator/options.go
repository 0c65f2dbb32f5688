package oidcvalidator

import (
	"net/http"
	"slices"
	"time"
)

// Option configures [New], [NewFromJWKS] and [NewFromKeySet]. A nil Option
// is ignored.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithAudience requires the aud claim to contain at least one of aud
// (the client ID or resource identifier the provider puts in tokens
// meant for this API).
//
// Without it, or with no non-empty aud, the audience is not checked at
// all and any token the issuer signed for any client is accepted: a
// token obtained by another application of the same provider would then
// work against this API. Set it unless every token of the issuer is
// meant for this API.
func WithAudience(aud ...string) Option {
	a := slices.DeleteFunc(slices.Clone(aud), func(s string) bool { return s == "" })
	return optionFunc(func(c *config) { c.audience = a })
}

// WithAlgorithms sets the signing algorithms ("RS256", "ES256", …) a
// token may use (its alg header), replacing the default: with [New], the
// algorithms the provider advertises in its discovery document (RS256
// when it lists none that go-oidc supports); with [NewFromJWKS] and
// [NewFromKeySet], RS256. "none" is dropped from the list; an empty list
// accepts no token at all.
func WithAlgorithms(algs ...string) Option {
	a := slices.Clone(algs)
	return optionFunc(func(c *config) { c.algs, c.algsSet = a, true })
}

// WithSupportedAlgs is [WithAlgorithms].
//
// Deprecated: Use [WithAlgorithms], the name jwtvalidator shares.
func WithSupportedAlgs(algs ...string) Option { return WithAlgorithms(algs...) }

// WithRevocation checks every otherwise valid token's jti with fn. A
// revoked token fails with otelbearer.ErrTokenRevoked; an error from fn
// fails with otelbearer.ErrValidatorUnavailable (fail closed). A nil fn
// checks nothing.
func WithRevocation(fn RevocationFunc) Option {
	return optionFunc(func(c *config) { c.revoked = fn })
}

// WithNow sets the clock used for exp and nbf and for the JWKS refresh
// interval (for tests). A nil now keeps time.Now.
func WithNow(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithJWKSRefreshInterval sets the shortest time between two JWKS fetches
// of [New] and [NewFromJWKS] that tokens naming a key not held trigger
// (default [DefaultJWKSRefreshInterval], one minute). Between them, such a
// token is invalid if the last fetch succeeded and unverifiable
// (otelbearer.ErrValidatorUnavailable) if it failed; after a failed fetch
// the next may start [MinJWKSRefreshInterval] (10 s) later. A shorter
// interval picks up a key the provider rotated in sooner after a burst of
// unknown kids, a longer one fetches less under such a burst. Values
// below MinJWKSRefreshInterval are raised to it; 0 keeps the default.
// [NewFromKeySet] ignores it.
func WithJWKSRefreshInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.jwksInterval = d })
}

// WithHTTPClient sets the HTTP client for OpenID Connect discovery and
// for the JWKS fetches of [New] and [NewFromJWKS]. Pass an otelhttp- or
// [otelbearer.NewTransport]-instrumented client to see these requests as
// client spans (see the package documentation for which trace they join).
// With [NewFromKeySet] the client is offered to the key set through the
// context of Validate ([oidc.ClientContext]); an [oidc.RemoteKeySet]
// ignores it and uses the client of the context given to
// [oidc.NewRemoteKeySet]. A nil c keeps http.DefaultClient.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(cfg *config) { cfg.client = c })
}
