package jwtvalidator_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var hmacKey = []byte("test-signing-key-0123456789abcdef")

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func base(d time.Duration) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "alice", "iss": "issuer-1", "jti": "jti-1",
		"scope": "read write", "client_id": "cli-1",
		"exp": time.Now().Add(d).Unix(),
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

func TestValidate(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	revoked := func(_ context.Context, jti string) (bool, error) { return jti == "revoked-1", nil }
	storeDown := func(context.Context, string) (bool, error) { return false, errors.New("store down") }
	none := func(t *testing.T, c jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c)
	}

	tests := []struct {
		name  string
		v     *jwtvalidator.Validator
		token func(t *testing.T) string
		want  error // nil: valid
	}{
		{"valid", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, nil},
		{"expired", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(-time.Minute))
		}, otelbearer.ErrTokenExpired},
		{"expired within leeway", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithLeeway(5*time.Minute)), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(-time.Minute))
		}, nil},
		{"expired and bad signature", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte("other-key"), base(-time.Minute))
		}, otelbearer.ErrTokenInvalid},
		{"bad signature", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte("other-key"), base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"alg none", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return none(t, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"alg none even when listed", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAlgorithms("none", "HS256")), func(t *testing.T) string {
			return none(t, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"alg not allowed", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAlgorithms("HS512")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"alg not allowed, deprecated name", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithValidMethods("HS512")),
			func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
			}, otelbearer.ErrTokenInvalid},
		{"empty method list accepts nothing", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAlgorithms()), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"HMAC token to asymmetric default", jwtvalidator.New(func(*jwt.Token) (any, error) { return hmacKey, nil }), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"EdDSA valid", jwtvalidator.New(func(*jwt.Token) (any, error) { return edPriv.Public(), nil }), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodEdDSA, edPriv, base(time.Hour))
		}, nil},
		{"EdDSA token to HMAC validator", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodEdDSA, edPriv, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"revoked", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithRevocation(revoked)), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "jti", "revoked-1"))
		}, otelbearer.ErrTokenRevoked},
		{"not revoked", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithRevocation(revoked)), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, nil},
		{"expired beats revocation", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithRevocation(revoked)), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(-time.Minute), "jti", "revoked-1"))
		}, otelbearer.ErrTokenExpired},
		{"revocation store down", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithRevocation(storeDown)), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, otelbearer.ErrValidatorUnavailable},
		{"garbage", jwtvalidator.NewHMAC(hmacKey), func(*testing.T) string { return "not-a-jwt" }, otelbearer.ErrTokenInvalid},
		{"garbage three parts", jwtvalidator.NewHMAC(hmacKey), func(*testing.T) string { return "eyJhbGciOi.e30.c2ln" }, otelbearer.ErrTokenInvalid},
		{"empty", jwtvalidator.NewHMAC(hmacKey), func(*testing.T) string { return "" }, otelbearer.ErrTokenInvalid},
		{"missing exp", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "exp", nil))
		}, otelbearer.ErrTokenInvalid},
		{"missing exp allowed", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithoutExpirationRequired()), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "exp", nil))
		}, nil},
		{"wrong issuer", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithIssuer("issuer-2")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
		{"wrong audience", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAudience("api")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "aud", "other"))
		}, otelbearer.ErrTokenInvalid},
		{"right audience", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAudience("api")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "aud", []string{"x", "api"}))
		}, nil},
		{"one of several audiences", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAudience("api", "api2")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "aud", "api2"))
		}, nil},
		{"empty audience checks nothing", jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithAudience("")), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "aud", "other"))
		}, nil},
		{"not yet valid", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "nbf", time.Now().Add(time.Hour).Unix()))
		}, otelbearer.ErrTokenInvalid},
		{"sub of wrong type", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "sub", 42))
		}, otelbearer.ErrTokenInvalid},
		{"scope of wrong type", jwtvalidator.NewHMAC(hmacKey), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, hmacKey, with(base(time.Hour), "scope", 42))
		}, otelbearer.ErrTokenInvalid},
		{"nil keyfunc", jwtvalidator.New(nil), func(t *testing.T) string {
			return sign(t, jwt.SigningMethodEdDSA, edPriv, base(time.Hour))
		}, otelbearer.ErrTokenInvalid},
	}
	sentinels := []error{otelbearer.ErrTokenExpired, otelbearer.ErrTokenRevoked,
		otelbearer.ErrTokenInvalid, otelbearer.ErrValidatorUnavailable}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			c, err := tt.v.Validate(t.Context(), tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: unexpected error %v", err)
				}
				if c.Subject != "alice" || c.TokenID == "" {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate error = %v, want %v", err, tt.want)
			}
			for _, s := range sentinels {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("error %v also matches %v", err, s)
				}
			}
			if c.Subject != "" {
				t.Errorf("claims returned with an error: %+v", c)
			}
			if tok != "" && strings.Contains(err.Error(), tok) {
				t.Error("error text contains the token")
			}
		})
	}
}

func TestClaims(t *testing.T) {
	v := jwtvalidator.NewHMAC(hmacKey)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   otelbearer.Claims
	}{
		{"scope string and client_id", jwt.MapClaims{
			"sub": "alice", "iss": "iss", "jti": "j1", "scope": "read  write", "client_id": "c1", "azp": "a1", "exp": exp.Unix(),
		}, otelbearer.Claims{Subject: "alice", Issuer: "iss", TokenID: "j1", Scopes: []string{"read", "write"}, ClientID: "c1", ExpiresAt: exp}},
		{"scp array and azp", jwt.MapClaims{
			"sub": "bob", "scp": []string{"read", "admin"}, "azp": "a1", "exp": exp.Unix(),
		}, otelbearer.Claims{Subject: "bob", Scopes: []string{"read", "admin"}, ClientID: "a1", ExpiresAt: exp}},
		{"scp string", jwt.MapClaims{"sub": "carol", "scp": "read", "exp": exp.Unix()},
			otelbearer.Claims{Subject: "carol", Scopes: []string{"read"}, ExpiresAt: exp}},
		{"no optional claims", jwt.MapClaims{"sub": "dave", "exp": exp.Unix()},
			otelbearer.Claims{Subject: "dave", ExpiresAt: exp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Validate(t.Context(), sign(t, jwt.SigningMethodHS256, hmacKey, tt.claims))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got.Subject != tt.want.Subject || got.Issuer != tt.want.Issuer || got.TokenID != tt.want.TokenID ||
				got.ClientID != tt.want.ClientID || !slices.Equal(got.Scopes, tt.want.Scopes) ||
				!got.ExpiresAt.Equal(tt.want.ExpiresAt) {
				t.Errorf("claims = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRevocationGetsContextAndJTI(t *testing.T) {
	type key struct{}
	var gotJTI string
	var gotCtx bool
	v := jwtvalidator.NewHMAC(hmacKey, jwtvalidator.WithRevocation(func(ctx context.Context, jti string) (bool, error) {
		gotJTI, gotCtx = jti, ctx.Value(key{}) == "x"
		return false, nil
	}))
	ctx := context.WithValue(t.Context(), key{}, "x")
	if _, err := v.Validate(ctx, sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if gotJTI != "jti-1" || !gotCtx {
		t.Errorf("revocation called with jti %q, ctx passed %v", gotJTI, gotCtx)
	}
}

func TestNow(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	for name, opt := range map[string]jwtvalidator.Option{
		"WithNow":      jwtvalidator.WithNow(later),
		"WithTimeFunc": jwtvalidator.WithTimeFunc(later),
	} {
		t.Run(name, func(t *testing.T) {
			v := jwtvalidator.NewHMAC(hmacKey, opt)
			if _, err := v.Validate(t.Context(), tok); !errors.Is(err, otelbearer.ErrTokenExpired) {
				t.Fatalf("err = %v, want expired", err)
			}
		})
	}
}

func TestKeyCopied(t *testing.T) {
	k := slices.Clone(hmacKey)
	v := jwtvalidator.NewHMAC(k)
	k[0] ^= 0xff
	if _, err := v.Validate(t.Context(), sign(t, jwt.SigningMethodHS256, hmacKey, base(time.Hour))); err != nil {
		t.Fatalf("NewHMAC did not copy its key: %v", err)
	}
}

// TestAudienceAndExtra: Audience and Extra come from a verified token
// only; a token that fails any check returns neither.
func TestAudienceAndExtra(t *testing.T) {
	v := jwtvalidator.NewHMAC(hmacKey)
	claims := with(with(with(base(time.Hour), "aud", []string{"api", "other"}), "roles", []string{"admin"}), "tenant", "t1")
	got, err := v.Validate(t.Context(), sign(t, jwt.SigningMethodHS256, hmacKey, claims))
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !slices.Equal(got.Audience, []string{"api", "other"}) {
		t.Errorf("Audience = %q", got.Audience)
	}
	if got.Extra["tenant"] != "t1" || fmt.Sprint(got.Extra["roles"]) != "[admin]" || got.Extra["sub"] != "alice" {
		t.Errorf("Extra = %v", got.Extra)
	}
	for name, tok := range map[string]string{
		"wrong key": sign(t, jwt.SigningMethodHS256, []byte("another-signing-key-0123456789ab"), claims),
		"expired":   sign(t, jwt.SigningMethodHS256, hmacKey, with(claims, "exp", time.Now().Add(-time.Hour).Unix())),
	} {
		got, err := v.Validate(t.Context(), tok)
		if err == nil || got.Extra != nil || got.Audience != nil {
			t.Errorf("%s: Validate = %+v, %v; want no claims and an error", name, got, err)
		}
	}
}
