package jwtvalidator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/claimset"
)

// DefaultMethods are the signing algorithms [New] accepts without
// [WithAlgorithms]: asymmetric ones only, so a public key can never be
// used as an HMAC secret (algorithm confusion).
var DefaultMethods = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// HMACMethods are the signing algorithms [NewHMAC] accepts.
var HMACMethods = []string{"HS256", "HS384", "HS512"}

// RevocationFunc reports whether the token with identifier jti (empty
// when the token has none) is revoked. A non-nil error means the answer
// is unknown (the revocation store is unreachable); the token is then
// neither accepted nor called invalid: Validate returns
// [otelbearer.ErrValidatorUnavailable]. It must be safe for concurrent use.
type RevocationFunc func(ctx context.Context, jti string) (revoked bool, err error)

// Validator validates JWTs. It implements [otelbearer.Validator] and is
// safe for concurrent use. Create it with [New] or [NewHMAC].
type Validator struct {
	keyFunc jwt.Keyfunc
	parser  *jwt.Parser
	revoked RevocationFunc
}

var _ otelbearer.Validator = (*Validator)(nil)

// New returns a Validator that verifies signatures with the key keyFunc
// returns for a token (see [jwt.Keyfunc]). Without [WithAlgorithms] it
// accepts only [DefaultMethods]. A nil keyFunc makes every token invalid.
func New(keyFunc jwt.Keyfunc, opts ...Option) *Validator {
	c := newConfig(DefaultMethods, opts)
	return &Validator{keyFunc: keyFunc, parser: jwt.NewParser(c.parserOptions()...), revoked: c.revoked}
}

// NewHMAC returns a Validator for tokens signed with the shared secret
// key by HS256, HS384 or HS512 (unless [WithAlgorithms] narrows them).
// The key is copied.
func NewHMAC(key []byte, opts ...Option) *Validator {
	k := slices.Clone(key)
	return New(func(*jwt.Token) (any, error) { return k, nil },
		append([]Option{WithValidMethods(HMACMethods...)}, opts...)...)
}

// Validate checks token and returns its claims. See the package
// documentation for the checks and the errors.
func (v *Validator) Validate(ctx context.Context, token string) (otelbearer.Claims, error) {
	if v.keyFunc == nil {
		return otelbearer.Claims{}, fmt.Errorf("%w: jwtvalidator: no key function", otelbearer.ErrTokenInvalid)
	}
	if err := claimset.Precheck("jwtvalidator", token); err != nil {
		return otelbearer.Claims{}, err
	}
	mc := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, mc, v.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return otelbearer.Claims{}, fmt.Errorf("%w: %w", otelbearer.ErrTokenExpired, err)
		}
		return otelbearer.Claims{}, fmt.Errorf("%w: %w", otelbearer.ErrTokenInvalid, err)
	}
	claims, err := claimsOf(mc)
	return claimset.Finish(ctx, "jwtvalidator", claims, err, v.revoked)
}

// claimsOf maps the registered and OAuth claims of mc. A claim of the
// wrong type makes the token invalid rather than silently empty.
func claimsOf(mc jwt.MapClaims) (otelbearer.Claims, error) {
	var c otelbearer.Claims
	var err error
	if c.Subject, err = mc.GetSubject(); err != nil {
		return c, err
	}
	if c.Issuer, err = mc.GetIssuer(); err != nil {
		return c, err
	}
	if exp, err := mc.GetExpirationTime(); err != nil {
		return c, err
	} else if exp != nil {
		c.ExpiresAt = exp.Time
	}
	if c.TokenID, err = stringClaim(mc, "jti"); err != nil {
		return c, err
	}
	for _, k := range []string{"client_id", "azp"} {
		if c.ClientID, err = stringClaim(mc, k); err != nil || c.ClientID != "" {
			break
		}
	}
	if err != nil {
		return c, err
	}
	for _, k := range []string{"scope", "scp"} {
		if c.Scopes, err = claimset.Scopes(k, mc[k]); err != nil || c.Scopes != nil {
			break
		}
	}
	return c, err
}

func stringClaim(mc jwt.MapClaims, name string) (string, error) {
	v, ok := mc[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("claim %s is not a string", name)
	}
	return s, nil
}

// config holds what the options set.
type config struct {
	methods     []string
	issuer      string
	audience    []string
	leeway      time.Duration
	expOptional bool
	timeFunc    func() time.Time
	revoked     RevocationFunc
}

func newConfig(methods []string, opts []Option) config {
	c := config{methods: methods}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

func (c config) parserOptions() []jwt.ParserOption {
	methods := claimset.WithoutNone(c.methods)
	// Strict decoding refuses non-zero unused bits in a segment's last
	// character; without WithPaddingAllowed, '=' padding is refused too.
	// Validate checks the canonical form first anyway (line breaks,
	// which even strict decoding skips).
	po := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithLeeway(c.leeway), jwt.WithStrictDecoding()}
	if !c.expOptional {
		po = append(po, jwt.WithExpirationRequired())
	}
	if c.issuer != "" {
		po = append(po, jwt.WithIssuer(c.issuer))
	}
	if len(c.audience) > 0 {
		po = append(po, jwt.WithAudience(c.audience...))
	}
	if c.timeFunc != nil {
		po = append(po, jwt.WithTimeFunc(c.timeFunc))
	}
	return po
}
