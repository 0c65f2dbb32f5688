package oidcvalidator

import (
	"net/http"
	"slices"
	"time"
)

// Option configures [New] and [NewFromKeySet]. A nil Option is ignored.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithAudience requires the aud claim to contain clientID (the client ID
// or resource identifier the provider puts in tokens meant for this API).
//
// Without it, or with an empty clientID, the audience is not checked at
// all and any token the issuer signed for any client is accepted: a
// token obtained by another application of the same provider would then
// work against this API. Set it unless every token of the issuer is
// meant for this API.
func WithAudience(clientID string) Option {
	return optionFunc(func(c *config) { c.clientID = clientID })
}

// WithSupportedAlgs sets the signing algorithms ("RS256", "ES256", …) a
// token may use, replacing the default: with [New], the algorithms the
// provider advertises in its discovery document (RS256 when it lists
// none that go-oidc supports); with [NewFromKeySet], RS256. "none" is
// dropped from the list; an empty list accepts no token at all.
func WithSupportedAlgs(algs ...string) Option {
	a := slices.Clone(algs)
	return optionFunc(func(c *config) { c.algs, c.algsSet = a, true })
}

// WithRevocation checks every otherwise valid token's jti with fn. A
// revoked token fails with otelbearer.ErrTokenRevoked; an error from fn
// fails with otelbearer.ErrValidatorUnavailable (fail closed). A nil fn
// checks nothing.
func WithRevocation(fn RevocationFunc) Option {
	return optionFunc(func(c *config) { c.revoked = fn })
}

// WithNow sets the clock used for exp and nbf (for tests). A nil now
// keeps time.Now.
func WithNow(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithHTTPClient sets the HTTP client for OpenID Connect discovery and
// for JWKS fetches of the key set [New] creates. Pass an otelhttp- or
// [otelbearer.NewTransport]-instrumented client to see these requests as
// client spans (see the package documentation for which trace they join).
// With [NewFromKeySet] the client is offered to the key set through the
// context of Validate ([oidc.ClientContext]); an [oidc.RemoteKeySet]
// ignores it and uses the client of the context given to
// [oidc.NewRemoteKeySet]. A nil c keeps http.DefaultClient.
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(cfg *config) { cfg.client = c })
}
