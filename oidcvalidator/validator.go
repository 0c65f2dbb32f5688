package oidcvalidator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/claimset"
)

// RevocationFunc reports whether the token with identifier jti (empty
// when the token has none) is revoked. A non-nil error means the answer
// is unknown (the revocation store is unreachable); the token is then
// neither accepted nor called invalid: Validate returns
// [otelbearer.ErrValidatorUnavailable]. It must be safe for concurrent use.
type RevocationFunc func(ctx context.Context, jti string) (revoked bool, err error)

// Validator validates JWTs issued by an OpenID Connect provider against
// its JWKS. It implements [otelbearer.Validator] and is safe for
// concurrent use. Create it with [New] or [NewFromKeySet].
type Validator struct {
	verifier *oidc.IDTokenVerifier // nil: no key set, every token invalid
	audience []string              // empty: not checked
	revoked  RevocationFunc
	client   *http.Client
}

var _ otelbearer.Validator = (*Validator)(nil)

// New discovers the provider at issuerURL (its
// /.well-known/openid-configuration, fetched with ctx and the client of
// [WithHTTPClient]) and returns a Validator for the tokens it issues,
// verified with the keys of its jwks_uri. The issuer in the discovery
// document must equal issuerURL. A discovery failure returns an error
// wrapping the cause.
//
// The JWKS is fetched when the first token arrives and again, at most
// once per [WithJWKSRefreshInterval], when a token names a key it does
// not hold; ctx bounds discovery only.
func New(ctx context.Context, issuerURL string, opts ...Option) (*Validator, error) {
	c := newConfig(opts)
	if c.client != nil {
		ctx = oidc.ClientContext(ctx, c.client)
	}
	p, err := oidc.NewProvider(ctx, issuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidcvalidator: discovering %q: %w", issuerURL, err)
	}
	var meta struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidcvalidator: discovering %q: %w", issuerURL, err)
	}
	if meta.JWKSURI == "" {
		return nil, fmt.Errorf("oidcvalidator: discovering %q: no jwks_uri", issuerURL)
	}
	if !c.algsSet {
		// As Provider.Verifier does: the advertised algorithms go-oidc
		// supports; none leaves go-oidc's default, RS256.
		c.algs = slices.DeleteFunc(meta.Algs, func(a string) bool { return !slices.Contains(supportedAlgs, a) })
	}
	return newValidator(issuerURL, newJWKSKeySet(meta.JWKSURI, c), c), nil
}

// NewFromJWKS returns a Validator for tokens issued by issuer and signed
// with a key of the JWKS at jwksURL, without discovery: the same key
// handling as [New] (see the package documentation), for a provider
// whose jwks_uri is known. Without [WithAlgorithms] it accepts RS256
// only. Nothing is fetched until the first token arrives.
func NewFromJWKS(issuer, jwksURL string, opts ...Option) *Validator {
	c := newConfig(opts)
	return newValidator(issuer, newJWKSKeySet(jwksURL, c), c)
}

// NewFromKeySet returns a Validator for tokens issued by issuer and
// signed with a key of keySet, without discovery: an [oidc.StaticKeySet]
// or a key set of the caller's own. For a known jwks_uri prefer
// [NewFromJWKS]: an [oidc.RemoteKeySet] fetches its JWKS again after
// every signature it cannot verify, so each forged token costs a fetch.
// Without [WithAlgorithms] it accepts RS256 only. A nil keySet makes
// every token invalid.
//
// A keySet of another type can report that it could not fetch its keys
// (rather than that the signature is wrong) by returning an error that
// wraps [otelbearer.ErrValidatorUnavailable]; Validate then returns
// ErrValidatorUnavailable.
func NewFromKeySet(issuer string, keySet oidc.KeySet, opts ...Option) *Validator {
	return newValidator(issuer, keySet, newConfig(opts))
}

func newValidator(issuer string, ks oidc.KeySet, c config) *Validator {
	v := &Validator{audience: c.audience, revoked: c.revoked, client: c.client}
	if ks != nil {
		v.verifier = oidc.NewVerifier(issuer, keySet{ks}, c.oidcConfig())
	}
	return v
}

// Validate verifies token and returns its claims. See the package
// documentation for the checks and the errors.
func (v *Validator) Validate(ctx context.Context, token string) (otelbearer.Claims, error) {
	if v.verifier == nil {
		return otelbearer.Claims{}, fmt.Errorf("%w: oidcvalidator: no key set", otelbearer.ErrTokenInvalid)
	}
	// go-jose decodes leniently (skipping whitespace, ignoring unused
	// bits) and verifies the signature over the re-encoded header and
	// payload: refuse every spelling but the canonical one first.
	if err := claimset.Precheck("oidcvalidator", token); err != nil {
		return otelbearer.Claims{}, err
	}
	if v.client != nil {
		ctx = oidc.ClientContext(ctx, v.client)
	}
	var fetchErr error
	idt, err := v.verifier.Verify(context.WithValue(ctx, fetchErrKey{}, &fetchErr), token)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case fetchErr != nil:
			return otelbearer.Claims{}, fmt.Errorf("%w: oidcvalidator: key set: %w",
				otelbearer.ErrValidatorUnavailable, fetchErr)
		case errors.As(err, &expired):
			return otelbearer.Claims{}, fmt.Errorf("%w: %w", otelbearer.ErrTokenExpired, err)
		}
		return otelbearer.Claims{}, fmt.Errorf("%w: %w", otelbearer.ErrTokenInvalid, err)
	}
	if len(v.audience) > 0 && !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(v.audience, a) }) {
		return otelbearer.Claims{}, fmt.Errorf("%w: oidcvalidator: audience %q is none of %q",
			otelbearer.ErrTokenInvalid, idt.Audience, v.audience)
	}
	claims, err := claimsOf(idt)
	return claimset.Finish(ctx, "oidcvalidator", claims, err, v.revoked)
}

// supportedAlgs are the signing algorithms go-oidc verifies.
var supportedAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// fetchErrKey keys the *error in which keySet records a failure to fetch
// keys. go-oidc formats the key set's error with %v into the error Verify
// returns, so the cause cannot be found with errors.Is / errors.As there;
// the context of Verify reaches the key set and carries it back instead.
type fetchErrKey struct{}

// keySet wraps the KeySet of the verifier to tell "could not fetch the
// keys" from "signature invalid".
type keySet struct{ oidc.KeySet }

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.KeySet.VerifySignature(ctx, jwt)
	if err != nil && couldNotFetch(k.KeySet, err) {
		if p, ok := ctx.Value(fetchErrKey{}).(*error); ok {
			*p = err
		}
	}
	return payload, err
}

// couldNotFetch reports whether err from ks means the keys were
// unavailable rather than the signature wrong. The key set of [New] and
// [NewFromJWKS] says so with a *fetchError. In go-oidc v3.21.0
// (jwks.go, RemoteKeySet.verify) the only error that wraps a cause is
// "fetching keys %w": a network error, a non-200 answer or an
// undecodable JWKS from the jwks_uri, or the request's context ending
// while waiting for the fetch. A signature no key verifies is a plain
// errors.New.
func couldNotFetch(ks oidc.KeySet, err error) bool {
	var fe *fetchError
	if errors.As(err, &fe) || errors.Is(err, otelbearer.ErrValidatorUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	_, remote := ks.(*oidc.RemoteKeySet)
	return remote && errors.Unwrap(err) != nil
}

// extraClaims are the claims Validate reads beyond those of oidc.IDToken.
type extraClaims struct {
	JTI      string          `json:"jti"`
	ClientID string          `json:"client_id"`
	AZP      string          `json:"azp"`
	Scope    json.RawMessage `json:"scope"`
	SCP      json.RawMessage `json:"scp"`
}

// claimsOf maps the verified token's claims. A claim of the wrong type
// makes the token invalid rather than silently empty.
func claimsOf(idt *oidc.IDToken) (otelbearer.Claims, error) {
	var x extraClaims
	if err := idt.Claims(&x); err != nil {
		return otelbearer.Claims{}, fmt.Errorf("claims: %w", err)
	}
	c := otelbearer.Claims{
		Subject:   idt.Subject,
		TokenID:   x.JTI,
		ClientID:  x.ClientID,
		Issuer:    idt.Issuer,
		ExpiresAt: idt.Expiry,
	}
	if c.ClientID == "" {
		c.ClientID = x.AZP
	}
	var err error
	if c.Scopes, err = scopesClaim(x.Scope, "scope"); err != nil || c.Scopes != nil {
		return c, err
	}
	c.Scopes, err = scopesClaim(x.SCP, "scp")
	return c, err
}

// scopesClaim reads a space-separated string or an array of strings.
func scopesClaim(raw json.RawMessage, name string) ([]string, error) {
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("claim %s: %w", name, err)
		}
	}
	return claimset.Scopes(name, v)
}

// config holds what the options set.
type config struct {
	audience []string
	algs     []string
	algsSet  bool
	revoked  RevocationFunc
	now      func() time.Time
	client   *http.Client

	jwksInterval time.Duration
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

func (c config) oidcConfig() *oidc.Config {
	oc := &oidc.Config{
		// Validate checks the audience itself: go-oidc takes one.
		SkipClientIDCheck: true,
		Now:               c.now,
	}
	if c.algsSet || len(c.algs) > 0 {
		oc.SupportedSigningAlgs = claimset.WithoutNone(c.algs)
	} // else go-oidc's default, RS256
	return oc
}
