package jwtvalidator_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
)

func Example() {
	key := []byte("example-signing-key")
	revoked := map[string]bool{"revoked-1": true}
	v := jwtvalidator.NewHMAC(key,
		jwtvalidator.WithIssuer("https://issuer.example"),
		jwtvalidator.WithRevocation(func(_ context.Context, jti string) (bool, error) {
			return revoked[jti], nil
		}),
	)
	// Use it with the middleware: otelbearer.NewHandler(mux, "api", otelbearer.WithValidator(v)).

	mint := func(jti string, ttl time.Duration) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "alice", "iss": "https://issuer.example", "jti": jti,
			"scope": "read write", "exp": time.Now().Add(ttl).Unix(),
		}).SignedString(key)
		return s
	}

	c, err := v.Validate(context.Background(), mint("t-1", time.Hour))
	fmt.Println(c.Subject, c.Scopes, c.TokenID, c.Issuer, err)

	_, err = v.Validate(context.Background(), mint("t-2", -time.Minute))
	fmt.Println(errors.Is(err, otelbearer.ErrTokenExpired))

	_, err = v.Validate(context.Background(), mint("revoked-1", time.Hour))
	fmt.Println(errors.Is(err, otelbearer.ErrTokenRevoked))

	_, err = v.Validate(context.Background(), "garbage")
	fmt.Println(errors.Is(err, otelbearer.ErrTokenInvalid))
	// Output:
	// alice [read write] t-1 https://issuer.example <nil>
	// true
	// true
	// true
}
