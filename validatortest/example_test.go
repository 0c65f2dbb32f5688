package validatortest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
	"github.com/otelbearer/otelbearer/validatortest"
)

// A harness for a JWT validator: the MintFunc signs the claims the kit
// asks for, and makes wrong only what the kind names. The revocation
// hook knows the kit's two token ids. In a test, call
// validatortest.Run(t, newValidator, mint) instead of Check.
func Example() {
	key := []byte("validator-under-test-key")
	revoked := func(_ context.Context, jti string) (bool, error) {
		switch jti {
		case validatortest.RevokedTokenID:
			return true, nil
		case validatortest.UnavailableTokenID:
			return false, errors.New("revocation store unreachable")
		}
		return false, nil
	}
	newValidator := func() otelbearer.Validator {
		return jwtvalidator.NewHMAC(key,
			jwtvalidator.WithIssuer("https://issuer.example"),
			jwtvalidator.WithAudience("api"),
			jwtvalidator.WithRevocation(revoked))
	}
	mint := func(k validatortest.Kind, c otelbearer.Claims) (string, error) {
		claims := jwt.MapClaims{
			"iss": "https://issuer.example", "aud": "api",
			"sub": c.Subject, "jti": c.TokenID, "client_id": c.ClientID,
			"exp": c.ExpiresAt.Unix(),
		}
		if len(c.Scopes) > 0 {
			claims["scope"] = strings.Join(c.Scopes, " ")
		}
		signWith := key
		switch k {
		case validatortest.NotYetValid:
			claims["nbf"] = time.Now().Add(time.Hour).Unix()
		case validatortest.WrongKey:
			signWith = []byte("some-other-key")
		case validatortest.WrongIssuer:
			claims["iss"] = "https://other.example"
		case validatortest.WrongAudience:
			claims["aud"] = "other-api"
		}
		return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(signWith)
	}

	err := validatortest.Check(newValidator, mint, validatortest.WithIssuer("https://issuer.example"))
	fmt.Println("contract kept:", err == nil)

	// A validator that accepts every token breaks it.
	acceptAll := func() otelbearer.Validator {
		return otelbearer.ValidatorFunc(func(context.Context, string) (otelbearer.Claims, error) {
			return otelbearer.Claims{Subject: "anyone"}, nil
		})
	}
	err = validatortest.Check(acceptAll, mint)
	var failed []string // the checks failed, without their subtests
	for line := range strings.Lines(err.Error()) {
		name, _, _ := strings.Cut(line, ": ")
		name, _, _ = strings.Cut(name, "/")
		if !slices.Contains(failed, name) {
			failed = append(failed, name)
		}
	}
	fmt.Println("accept-all fails:", strings.Join(failed, " "))
	// Output:
	// contract kept: true
	// accept-all fails: valid garbage expired not-yet-valid wrong-key wrong-issuer wrong-audience revoked revocation-unavailable jws cancelled-context concurrent
}
