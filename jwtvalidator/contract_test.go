package jwtvalidator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
	"github.com/otelbearer/otelbearer/validatortest"
)

// revocation reports validatortest's revoked id revoked and fails for
// its unavailable one.
func revocation(_ context.Context, jti string) (bool, error) {
	switch jti {
	case validatortest.RevokedTokenID:
		return true, nil
	case validatortest.UnavailableTokenID:
		return false, errors.New("revocation store down")
	}
	return false, nil
}

// minter signs the claims validatortest asks for with method and key
// (wrongKey for WrongKey), issuer "issuer-1", audience "api".
func minter(method jwt.SigningMethod, key, wrongKey any) validatortest.MintFunc {
	return func(k validatortest.Kind, c otelbearer.Claims) (string, error) {
		mc := jwt.MapClaims{"iss": "issuer-1", "aud": "api", "sub": c.Subject, "jti": c.TokenID,
			"client_id": c.ClientID, "exp": c.ExpiresAt.Unix()}
		if len(c.Scopes) > 0 {
			mc["scope"] = strings.Join(c.Scopes, " ")
		}
		signWith := key
		switch k {
		case validatortest.NotYetValid:
			mc["nbf"] = time.Now().Add(time.Hour).Unix()
		case validatortest.WrongKey:
			signWith = wrongKey
		case validatortest.WrongIssuer:
			mc["iss"] = "issuer-2"
		case validatortest.WrongAudience:
			mc["aud"] = "other-api"
		}
		return jwt.NewWithClaims(method, mc).SignedString(signWith)
	}
}

// TestContract runs the validatortest conformance kit.
func TestContract(t *testing.T) {
	opts := []jwtvalidator.Option{jwtvalidator.WithIssuer("issuer-1"), jwtvalidator.WithAudience("api"),
		jwtvalidator.WithRevocation(revocation)}
	t.Run("HS256", func(t *testing.T) {
		validatortest.Run(t, func(*testing.T) otelbearer.Validator {
			return jwtvalidator.NewHMAC(hmacKey, opts...)
		}, minter(jwt.SigningMethodHS256, hmacKey, []byte("another-key")), validatortest.WithIssuer("issuer-1"))
	})
	t.Run("ES256", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		validatortest.Run(t, func(*testing.T) otelbearer.Validator {
			return jwtvalidator.New(func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, opts...)
		}, minter(jwt.SigningMethodES256, key, other), validatortest.WithIssuer("issuer-1"))
	})
}
