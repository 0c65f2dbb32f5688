package jwtvalidator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/jwstest"
	"github.com/otelbearer/otelbearer/jwtvalidator"
)

// One signed token has exactly one accepted spelling: every lenient
// spelling of a valid token is refused as invalid, for HMAC (2 unused
// bits in the signature) and RSA (4 unused bits) tokens, with payloads
// of every length modulo 3.
func TestNonCanonicalSpellingsRefused(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	validators := []struct {
		name   string
		v      *jwtvalidator.Validator
		method jwt.SigningMethod
		key    any
	}{
		{"HS256", jwtvalidator.NewHMAC(hmacKey), jwt.SigningMethodHS256, hmacKey},
		{"RS256", jwtvalidator.New(func(*jwt.Token) (any, error) { return &rsaKey.PublicKey, nil }),
			jwt.SigningMethodRS256, rsaKey},
	}
	for _, vt := range validators {
		for n := range 3 {
			tok := sign(t, vt.method, vt.key, with(base(time.Hour), "x", strings.Repeat("a", n+1)))
			_, err := vt.v.Validate(t.Context(), tok)
			require.NoError(t, err, "canonical token")
			for what, s := range jwstest.Spellings(tok) {
				t.Run(vt.name+"/"+string(rune('0'+n))+"/"+what, func(t *testing.T) {
					c, err := vt.v.Validate(t.Context(), s)
					require.ErrorIs(t, err, otelbearer.ErrTokenInvalid)
					assert.False(t, errors.Is(err, otelbearer.ErrTokenExpired))
					assert.Empty(t, c.Subject)
				})
			}
		}
	}
}
