package oidcvalidator_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
)

var sentinels = []error{otelbearer.ErrTokenExpired, otelbearer.ErrTokenRevoked,
	otelbearer.ErrTokenInvalid, otelbearer.ErrValidatorUnavailable}

// checkErr asserts that err matches want and no other sentinel, returns no
// claims and does not contain the token.
func checkErr(t *testing.T, tok string, c otelbearer.Claims, err, want error) {
	t.Helper()
	require.ErrorIs(t, err, want)
	for _, s := range sentinels {
		if s != want {
			assert.NotErrorIs(t, err, s)
		}
	}
	assert.Empty(t, c.Subject, "claims returned with an error")
	if tok != "" {
		assert.NotContains(t, err.Error(), tok, "error text contains the token")
	}
}

type keySetFunc func(ctx context.Context, jwt string) ([]byte, error)

func (f keySetFunc) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	return f(ctx, jwt)
}

func TestValidate(t *testing.T) {
	revoked := func(_ context.Context, jti string) (bool, error) { return jti == "revoked-1", nil }
	storeDown := func(context.Context, string) (bool, error) { return false, errors.New("store down") }
	discover := func(opts ...oidcvalidator.Option) func(*testing.T, *provider) *oidcvalidator.Validator {
		return func(t *testing.T, p *provider) *oidcvalidator.Validator {
			v, err := oidcvalidator.New(t.Context(), p.issuer(), opts...)
			require.NoError(t, err)
			return v
		}
	}
	valid := func(t *testing.T, p *provider) string {
		return sign(t, providerKey, kid, claims(p.issuer(), time.Hour))
	}
	signed := func(f func(iss string) jwt.MapClaims) func(*testing.T, *provider) string {
		return func(t *testing.T, p *provider) string { return sign(t, providerKey, kid, f(p.issuer())) }
	}
	none := func(t *testing.T, p *provider) string {
		return sign(t, jwt.UnsafeAllowNoneSignatureType, kid, claims(p.issuer(), time.Hour), jwt.SigningMethodNone)
	}
	fixed := func(s string) func(*testing.T, *provider) string {
		return func(*testing.T, *provider) string { return s }
	}

	tests := []struct {
		name  string
		setup func(*testing.T, *provider) // before the validator is built
		v     func(*testing.T, *provider) *oidcvalidator.Validator
		down  func(*provider) // after the validator is built
		token func(*testing.T, *provider) string
		want  error // nil: valid
	}{
		{name: "valid", v: discover(), token: valid},
		{name: "valid with audience", v: discover(oidcvalidator.WithAudience("api")), token: valid},
		{name: "valid, remote key set", v: func(t *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), oidc.NewRemoteKeySet(t.Context(), p.issuer()+"/keys"))
		}, token: valid},
		{name: "valid, JWKS URL", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromJWKS(p.issuer(), p.issuer()+"/keys")
		}, token: valid},
		{name: "JWKS URL down", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromJWKS(p.issuer(), p.issuer()+"/keys")
		}, down: func(p *provider) { p.srv.Close() }, token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "JWKS URL unusable", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromJWKS(p.issuer(), "://no-url")
		}, token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "valid, static key set", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&providerKey.PublicKey}})
		}, token: valid},
		{name: "expired", v: discover(), token: signed(func(iss string) jwt.MapClaims { return claims(iss, -time.Minute) }),
			want: otelbearer.ErrTokenExpired},
		{name: "missing exp counts as expired", v: discover(), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "exp", nil)
		}), want: otelbearer.ErrTokenExpired},
		{name: "expired and bad signature", v: discover(), token: func(t *testing.T, p *provider) string {
			return sign(t, otherKey, kid, claims(p.issuer(), -time.Minute))
		}, want: otelbearer.ErrTokenInvalid},
		{name: "expired beats revocation", v: discover(oidcvalidator.WithRevocation(revoked)), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, -time.Minute), "jti", "revoked-1")
		}), want: otelbearer.ErrTokenExpired},
		{name: "wrong audience", v: discover(oidcvalidator.WithAudience("api")), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "aud", "other")
		}), want: otelbearer.ErrTokenInvalid},
		{name: "audience among several", v: discover(oidcvalidator.WithAudience("api")), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "aud", []string{"x", "api"})
		})},
		{name: "one of several audiences", v: discover(oidcvalidator.WithAudience("api2", "api")), token: valid},
		{name: "none of several audiences", v: discover(oidcvalidator.WithAudience("api2", "api3")), token: valid,
			want: otelbearer.ErrTokenInvalid},
		{name: "empty audience checks nothing", v: discover(oidcvalidator.WithAudience("")), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "aud", "other")
		})},
		{name: "no audience when required", v: discover(oidcvalidator.WithAudience("api")), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "aud", nil)
		}), want: otelbearer.ErrTokenInvalid},
		{name: "wrong issuer", v: discover(), token: signed(func(string) jwt.MapClaims {
			return claims("https://evil.example", time.Hour)
		}), want: otelbearer.ErrTokenInvalid},
		{name: "bad signature", v: discover(), token: func(t *testing.T, p *provider) string {
			return sign(t, otherKey, kid, claims(p.issuer(), time.Hour))
		}, want: otelbearer.ErrTokenInvalid},
		{name: "unknown kid", v: discover(), token: func(t *testing.T, p *provider) string {
			return sign(t, otherKey, "k2", claims(p.issuer(), time.Hour))
		}, want: otelbearer.ErrTokenInvalid},
		{name: "alg none", v: discover(), token: none, want: otelbearer.ErrTokenInvalid},
		{name: "alg none even when listed", v: discover(oidcvalidator.WithAlgorithms("none", "RS256")), token: none,
			want: otelbearer.ErrTokenInvalid},
		{name: "alg not allowed", v: discover(oidcvalidator.WithAlgorithms("RS512")), token: valid,
			want: otelbearer.ErrTokenInvalid},
		{name: "alg not allowed, deprecated name", v: discover(oidcvalidator.WithSupportedAlgs("RS512")), token: valid,
			want: otelbearer.ErrTokenInvalid},
		{name: "empty alg list accepts nothing", v: discover(oidcvalidator.WithAlgorithms()), token: valid,
			want: otelbearer.ErrTokenInvalid},
		{name: "HS256 with the public key as secret", v: discover(), token: func(t *testing.T, p *provider) string {
			return sign(t, jwksJSON(&providerKey.PublicKey, kid), kid, claims(p.issuer(), time.Hour), jwt.SigningMethodHS256)
		}, want: otelbearer.ErrTokenInvalid},
		{name: "not yet valid", v: discover(), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, 2*time.Hour), "nbf", time.Now().Add(time.Hour).Unix())
		}), want: otelbearer.ErrTokenInvalid},
		{name: "sub of wrong type", v: discover(), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "sub", 42)
		}), want: otelbearer.ErrTokenInvalid},
		{name: "scope of wrong type", v: discover(), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "scope", 42)
		}), want: otelbearer.ErrTokenInvalid},
		{name: "jti of wrong type", v: discover(), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "jti", 42)
		}), want: otelbearer.ErrTokenInvalid},
		{name: "garbage", v: discover(), token: fixed("not-a-jwt"), want: otelbearer.ErrTokenInvalid},
		{name: "garbage three parts", v: discover(), token: fixed("eyJhbGciOi.e30.c2ln"), want: otelbearer.ErrTokenInvalid},
		{name: "empty", v: discover(), token: fixed(""), want: otelbearer.ErrTokenInvalid},
		{name: "JWKS 500", setup: func(_ *testing.T, p *provider) { p.jwksStatus.Store(http.StatusInternalServerError) },
			v: discover(), token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "JWKS 404", setup: func(_ *testing.T, p *provider) { p.jwksStatus.Store(http.StatusNotFound) },
			v: discover(), token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "JWKS undecodable", setup: func(_ *testing.T, p *provider) { s := "<html>"; p.jwksBody.Store(&s) },
			v: discover(), token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "provider down", v: discover(), down: func(p *provider) { p.srv.Close() },
			token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "remote key set down", v: func(t *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), oidc.NewRemoteKeySet(t.Context(), p.issuer()+"/keys"))
		}, down: func(p *provider) { p.srv.Close() }, token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "JWKS down, bad signature", setup: func(_ *testing.T, p *provider) { p.jwksStatus.Store(http.StatusBadGateway) },
			v: discover(), token: func(t *testing.T, p *provider) string {
				return sign(t, otherKey, kid, claims(p.issuer(), time.Hour))
			}, want: otelbearer.ErrValidatorUnavailable},
		{name: "custom key set unavailable", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), keySetFunc(func(context.Context, string) ([]byte, error) {
				return nil, fmt.Errorf("vault sealed: %w", otelbearer.ErrValidatorUnavailable)
			}))
		}, token: valid, want: otelbearer.ErrValidatorUnavailable},
		{name: "custom key set refuses", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), keySetFunc(func(context.Context, string) ([]byte, error) {
				return nil, fmt.Errorf("wrapped: %w", errors.New("no key"))
			}))
		}, token: valid, want: otelbearer.ErrTokenInvalid},
		{name: "nil key set", v: func(_ *testing.T, p *provider) *oidcvalidator.Validator {
			return oidcvalidator.NewFromKeySet(p.issuer(), nil)
		}, token: valid, want: otelbearer.ErrTokenInvalid},
		{name: "revoked", v: discover(oidcvalidator.WithRevocation(revoked)), token: signed(func(iss string) jwt.MapClaims {
			return with(claims(iss, time.Hour), "jti", "revoked-1")
		}), want: otelbearer.ErrTokenRevoked},
		{name: "not revoked", v: discover(oidcvalidator.WithRevocation(revoked)), token: valid},
		{name: "revocation store down", v: discover(oidcvalidator.WithRevocation(storeDown)), token: valid,
			want: otelbearer.ErrValidatorUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			if tt.setup != nil {
				tt.setup(t, p)
			}
			v := tt.v(t, p)
			tok := tt.token(t, p)
			if tt.down != nil {
				tt.down(p)
			}
			c, err := v.Validate(t.Context(), tok)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "alice", c.Subject)
				assert.Equal(t, "jti-1", c.TokenID)
				return
			}
			checkErr(t, tok, c, err, tt.want)
		})
	}
}

// Keys already fetched keep working while the JWKS endpoint is down, and
// a token naming one of them with a bad signature stays invalid. A token
// naming a key not held needs a fetch: while the endpoint is down it
// cannot be decided, and each call that starts a fetch gets that fetch's
// own outcome (never the previous one's).
func TestCachedKeysOutlastOutage(t *testing.T) {
	p := newProvider(t)
	c := newClock()
	v := validated(t, p, c)
	good := sign(t, providerKey, kid, claims(p.issuer(), time.Hour))
	forged := sign(t, otherKey, kid, claims(p.issuer(), time.Hour))
	newKid := sign(t, otherKey, "k2", claims(p.issuer(), time.Hour))

	steps := []struct {
		name    string
		status  int32 // JWKS status from this step on; 0: serving
		advance time.Duration
		tok     string
		want    error // nil: valid
		fetches int32 // JWKS requests the step makes
	}{
		{"cached key while down", http.StatusServiceUnavailable, refresh, good, nil, 0},
		{"held kid, bad signature, while down", http.StatusServiceUnavailable, 0, forged, otelbearer.ErrTokenInvalid, 0},
		{"new kid while down", http.StatusServiceUnavailable, 0, newKid, otelbearer.ErrValidatorUnavailable, 1},
		{"new kid, failure retried only after 10 s", http.StatusServiceUnavailable, 5 * time.Second, newKid, otelbearer.ErrValidatorUnavailable, 0},
		{"new kid, endpoint back, within 10 s", 0, 4 * time.Second, newKid, otelbearer.ErrValidatorUnavailable, 0},
		{"new kid, endpoint back, retry", 0, time.Second, newKid, otelbearer.ErrTokenInvalid, 1},
		{"new kid, endpoint down again, within interval", http.StatusServiceUnavailable, 10 * time.Second, newKid, otelbearer.ErrTokenInvalid, 0},
		{"new kid, endpoint down again, after interval", http.StatusServiceUnavailable, refresh, newKid, otelbearer.ErrValidatorUnavailable, 1},
		{"cached key still works", http.StatusServiceUnavailable, 0, good, nil, 0},
	}
	for _, s := range steps {
		p.jwksStatus.Store(s.status)
		c.Advance(s.advance)
		hits := p.jwksHits.Load()
		got, err := v.Validate(t.Context(), s.tok)
		assert.Equal(t, s.fetches, p.jwksHits.Load()-hits, "%s: JWKS fetches", s.name)
		if s.want == nil {
			require.NoError(t, err, s.name)
			continue
		}
		checkErr(t, s.tok, got, err, s.want)
	}
}

// A request whose context ends while the key fetch is under way could not
// be decided.
func TestContextEndsDuringFetch(t *testing.T) {
	p := newProvider(t)
	release := make(chan struct{})
	p.block.Store(&release)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	v, err := oidcvalidator.New(t.Context(), p.issuer())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tok := sign(t, providerKey, kid, claims(p.issuer(), time.Hour))
	c, err := v.Validate(ctx, tok)
	checkErr(t, tok, c, err, otelbearer.ErrValidatorUnavailable)
	require.ErrorIs(t, err, context.Canceled)
	once.Do(func() { close(release) })
}

func TestNewDiscoveryFailure(t *testing.T) {
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		check func(t *testing.T, err error)
	}{
		{"provider down", func(t *testing.T) string {
			p := newProvider(t)
			p.srv.Close()
			return p.issuer()
		}, func(t *testing.T, err error) {
			var ue *url.Error
			assert.ErrorAs(t, err, &ue)
		}},
		{"issuer mismatch", func(t *testing.T) string {
			return newProvider(t).issuer() + "/"
		}, func(t *testing.T, err error) {
			var me *oidc.IssuerMismatchError
			assert.ErrorAs(t, err, &me)
		}},
		{"no discovery document", func(t *testing.T) string {
			return newProvider(t).issuer() + "/tenant"
		}, func(t *testing.T, err error) { assert.Contains(t, err.Error(), "404") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := oidcvalidator.New(t.Context(), tt.url(t))
			require.Error(t, err)
			assert.Nil(t, v)
			tt.check(t, err)
		})
	}
}

type countingTransport struct {
	mu    sync.Mutex
	paths []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestHTTPClientUsedForDiscoveryAndJWKS(t *testing.T) {
	p := newProvider(t)
	ct := &countingTransport{}
	v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithHTTPClient(&http.Client{Transport: ct}))
	require.NoError(t, err)
	_, err = v.Validate(t.Context(), sign(t, providerKey, kid, claims(p.issuer(), time.Hour)))
	require.NoError(t, err)
	ct.mu.Lock()
	defer ct.mu.Unlock()
	assert.Equal(t, []string{"/.well-known/openid-configuration", "/keys"}, ct.paths)
}

func TestClaims(t *testing.T) {
	p := newProvider(t)
	v, err := oidcvalidator.New(t.Context(), p.issuer())
	require.NoError(t, err)
	iss := p.issuer()
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   otelbearer.Claims
	}{
		{"scope string and client_id", jwt.MapClaims{
			"sub": "alice", "iss": iss, "jti": "j1", "scope": "read  write", "client_id": "c1", "azp": "a1", "exp": exp.Unix(),
		}, otelbearer.Claims{Subject: "alice", Issuer: iss, TokenID: "j1", Scopes: []string{"read", "write"}, ClientID: "c1", ExpiresAt: exp}},
		{"scp array and azp", jwt.MapClaims{
			"sub": "bob", "iss": iss, "scp": []string{"read", "admin"}, "azp": "a1", "exp": exp.Unix(),
		}, otelbearer.Claims{Subject: "bob", Issuer: iss, Scopes: []string{"read", "admin"}, ClientID: "a1", ExpiresAt: exp}},
		{"scp string", jwt.MapClaims{"sub": "carol", "iss": iss, "scp": "read", "exp": exp.Unix()},
			otelbearer.Claims{Subject: "carol", Issuer: iss, Scopes: []string{"read"}, ExpiresAt: exp}},
		{"no optional claims", jwt.MapClaims{"sub": "dave", "iss": iss, "exp": exp.Unix()},
			otelbearer.Claims{Subject: "dave", Issuer: iss, ExpiresAt: exp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Validate(t.Context(), sign(t, providerKey, kid, tt.claims))
			require.NoError(t, err)
			assert.True(t, got.ExpiresAt.Equal(tt.want.ExpiresAt), "ExpiresAt = %v, want %v", got.ExpiresAt, tt.want.ExpiresAt)
			assert.Equal(t, tt.claims["sub"], got.Extra["sub"], "Extra holds the verified claims")
			got.ExpiresAt, tt.want.ExpiresAt, got.Extra = time.Time{}, time.Time{}, nil
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRevocationGetsContextAndJTI(t *testing.T) {
	p := newProvider(t)
	type key struct{}
	var gotJTI string
	var gotCtx bool
	v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithRevocation(func(ctx context.Context, jti string) (bool, error) {
		gotJTI, gotCtx = jti, ctx.Value(key{}) == "x"
		return false, nil
	}))
	require.NoError(t, err)
	ctx := context.WithValue(t.Context(), key{}, "x")
	_, err = v.Validate(ctx, sign(t, providerKey, kid, claims(p.issuer(), time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, "jti-1", gotJTI)
	assert.True(t, gotCtx, "revocation got the request context")
}

func TestNow(t *testing.T) {
	p := newProvider(t)
	tok := sign(t, providerKey, kid, claims(p.issuer(), time.Hour))
	v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithNow(func() time.Time { return time.Now().Add(2 * time.Hour) }))
	require.NoError(t, err)
	c, err := v.Validate(t.Context(), tok)
	checkErr(t, tok, c, err, otelbearer.ErrTokenExpired)
}

// TestAudienceAndExtra: Audience and Extra come from a verified token
// only; a token that fails any check returns neither.
func TestAudienceAndExtra(t *testing.T) {
	p := newProvider(t)
	v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithAudience("api"))
	require.NoError(t, err)
	claims := jwt.MapClaims{"sub": "alice", "iss": p.issuer(), "aud": []string{"api", "other"},
		"roles": []string{"admin"}, "tenant": "t1", "exp": time.Now().Add(time.Hour).Unix()}
	got, err := v.Validate(t.Context(), sign(t, providerKey, kid, claims))
	require.NoError(t, err)
	assert.Equal(t, []string{"api", "other"}, got.Audience)
	assert.Equal(t, "t1", got.Extra["tenant"])
	assert.Equal(t, []any{"admin"}, got.Extra["roles"])

	wrongAud := maps.Clone(claims)
	wrongAud["aud"] = "someone-else"
	expired := maps.Clone(claims)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	for name, c := range map[string]jwt.MapClaims{"wrong audience": wrongAud, "expired": expired} {
		got, err := v.Validate(t.Context(), sign(t, providerKey, kid, c))
		require.Error(t, err, name)
		assert.Nil(t, got.Extra, name)
		assert.Nil(t, got.Audience, name)
	}
}
