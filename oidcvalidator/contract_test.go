package oidcvalidator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
	"github.com/otelbearer/otelbearer/validatortest"
)

// TestContract runs the validatortest conformance kit against a
// validator of a local provider (discovery and JWKS over HTTP), a new one
// for each check: its first Validate fetches the JWKS, so the
// cancelled-context check sees the fetch cancelled.
func TestContract(t *testing.T) {
	p := newProvider(t)
	revocation := func(_ context.Context, jti string) (bool, error) {
		switch jti {
		case validatortest.RevokedTokenID:
			return true, nil
		case validatortest.UnavailableTokenID:
			return false, errors.New("revocation store down")
		}
		return false, nil
	}
	mint := func(k validatortest.Kind, c otelbearer.Claims) (string, error) {
		mc := jwt.MapClaims{"iss": p.issuer(), "aud": "api", "sub": c.Subject, "jti": c.TokenID,
			"client_id": c.ClientID, "exp": c.ExpiresAt.Unix()}
		if len(c.Scopes) > 0 {
			mc["scope"] = strings.Join(c.Scopes, " ")
		}
		key := providerKey
		switch k {
		case validatortest.NotYetValid:
			mc["nbf"] = time.Now().Add(time.Hour).Unix() // go-oidc allows 5 minutes of skew
		case validatortest.WrongKey:
			key = otherKey
		case validatortest.WrongIssuer:
			mc["iss"] = "https://other.example"
		case validatortest.WrongAudience:
			mc["aud"] = "other-api"
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, mc)
		tok.Header["kid"] = kid
		return tok.SignedString(key)
	}
	validatortest.Run(t, func(t *testing.T) otelbearer.Validator {
		v, err := oidcvalidator.New(t.Context(), p.issuer(),
			oidcvalidator.WithAudience("api"), oidcvalidator.WithRevocation(revocation))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}, mint, validatortest.WithIssuer(p.issuer()))
}
