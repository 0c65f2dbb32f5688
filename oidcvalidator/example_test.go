package oidcvalidator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
)

func Example() {
	// A local OpenID Connect provider: discovery document and JWKS.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := base64.RawURLEncoding.EncodeToString
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "jwks_uri": issuer + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	idp := httptest.NewServer(mux)
	defer idp.Close()
	issuer = idp.URL

	v, err := oidcvalidator.New(context.Background(), issuer,
		oidcvalidator.WithAudience("my-api"), // without it, tokens for any client pass
	)
	if err != nil {
		fmt.Println("discovery:", err)
		return
	}
	// Use it with the middleware: otelbearer.NewHandler(mux, "api", otelbearer.WithValidator(v)).

	mint := func(aud string, ttl time.Duration) string {
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": issuer, "sub": "alice", "aud": aud, "jti": "t-1",
			"scope": "read write", "exp": time.Now().Add(ttl).Unix(),
		})
		t.Header["kid"] = "k1"
		s, _ := t.SignedString(key)
		return s
	}

	c, err := v.Validate(context.Background(), mint("my-api", time.Hour))
	fmt.Println(c.Subject, c.Scopes, c.TokenID, c.Issuer == issuer, err)

	_, err = v.Validate(context.Background(), mint("my-api", -time.Minute))
	fmt.Println(errors.Is(err, otelbearer.ErrTokenExpired))

	_, err = v.Validate(context.Background(), mint("other-app", time.Hour))
	fmt.Println(errors.Is(err, otelbearer.ErrTokenInvalid))

	// The provider goes away before this validator has fetched any key:
	// it cannot decide (the middleware answers 503).
	v2, _ := oidcvalidator.New(context.Background(), issuer)
	idp.Close()
	_, err = v2.Validate(context.Background(), mint("my-api", time.Hour))
	fmt.Println(errors.Is(err, otelbearer.ErrValidatorUnavailable))
	// Output:
	// alice [read write] t-1 true <nil>
	// true
	// true
	// true
}
