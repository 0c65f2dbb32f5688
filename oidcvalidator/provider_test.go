package oidcvalidator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The RSA keys are generated once per test run, in TestMain.
var (
	providerKey *rsa.PrivateKey // the provider's signing key, kid "k1"
	otherKey    *rsa.PrivateKey // a key the provider does not publish
)

func TestMain(m *testing.M) {
	providerKey, otherKey = mustRSAKey(), mustRSAKey()
	goleak.VerifyTestMain(m)
}

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

const kid = "k1"

// provider is a local OpenID Connect provider: a discovery document and a
// JWKS with providerKey. jwksStatus, when not 0, is the status the JWKS
// endpoint answers with instead; jwksBody, when set, replaces the JWKS;
// jwksBudget, when not 0, is the number of JWKS requests answered before
// the endpoint rate-limits with 429.
type provider struct {
	srv        *httptest.Server
	jwksStatus atomic.Int32
	jwksBody   atomic.Pointer[string]
	jwksHits   atomic.Int32
	jwksBudget atomic.Int32
	block      atomic.Pointer[chan struct{}] // when set, the JWKS endpoint waits for it to close
}

func newProvider(t testing.TB) *provider {
	t.Helper()
	p := &provider{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"jwks_uri":                              p.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if b := p.block.Load(); b != nil {
			select {
			case <-*b:
			case <-r.Context().Done():
			}
		}
		if b := p.jwksBudget.Load(); b != 0 && p.jwksHits.Load() > b {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		if s := p.jwksStatus.Load(); s != 0 {
			http.Error(w, "jwks down", int(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if b := p.jwksBody.Load(); b != nil {
			_, _ = w.Write([]byte(*b))
			return
		}
		_, _ = w.Write(jwksJSON(&providerKey.PublicKey, kid))
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) issuer() string { return p.srv.URL }

// jwksJSON writes the JWKS of pub by hand: n and e, base64url.
func jwksJSON(pub *rsa.PublicKey, kid string) []byte {
	return jwksOf(map[string]*rsa.PublicKey{kid: pub})
}

// jwksOf writes a JWKS with the keys of keys, by kid.
func jwksOf(keys map[string]*rsa.PublicKey) []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	var list []map[string]string
	for kid, pub := range keys {
		list = append(list, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	b, err := json.Marshal(map[string]any{"keys": list})
	if err != nil {
		panic(err)
	}
	return b
}

// clock is a settable clock for WithNow: it starts at the real time and
// moves only when told.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	now := time.Now()
	c.t.Store(&now)
	return c
}

func (c *clock) Now() time.Time { return *c.t.Load() }

func (c *clock) Advance(d time.Duration) {
	t := c.Now().Add(d)
	c.t.Store(&t)
}

// claims are a valid token's claims from issuer, expiring in d.
func claims(issuer string, d time.Duration) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "alice", "iss": issuer, "jti": "jti-1", "aud": "api",
		"scope": "read write", "client_id": "cli-1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(d).Unix(),
	}
}

func with(m jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := maps.Clone(m)
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// sign signs c with key by RS256 (or m when given) under kid.
func sign(t testing.TB, key any, kid string, c jwt.MapClaims, m ...jwt.SigningMethod) string {
	t.Helper()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if len(m) > 0 {
		method = m[0]
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}
