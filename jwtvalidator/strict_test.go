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
	"github.com/otelbearer/otelbearer/jwtvalidator"
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// spellings returns other spellings of the compact token tok that a
// lenient base64url decoder reads as the same bytes: the unused low bits
// of a segment's last character set, '=' padding, and line breaks or
// spaces inside a segment. Each is keyed by a description.
func spellings(tok string) map[string]string {
	segs := strings.Split(tok, ".")
	out := map[string]string{}
	add := func(i int, what, seg string) {
		s := append([]string(nil), segs...)
		s[i] = seg
		out[[]string{"header", "payload", "signature"}[i]+": "+what] = strings.Join(s, ".")
	}
	for i, seg := range segs {
		unused := map[int]int{2: 4, 3: 2}[len(seg)%4]
		if unused > 0 {
			v := strings.IndexByte(b64url, seg[len(seg)-1])
			for bits := 1; bits < 1<<unused; bits++ {
				add(i, "low bits "+string(rune('0'+bits/10))+string(rune('0'+bits%10)),
					seg[:len(seg)-1]+string(b64url[v|bits]))
			}
			add(i, "padding", seg+strings.Repeat("=", 4-len(seg)%4))
		}
		for _, ws := range []string{"\n", "\r\n", " ", "\t"} {
			add(i, "whitespace "+strings.ReplaceAll(strings.ReplaceAll(ws, "\n", `\n`), "\r", `\r`),
				seg[:len(seg)/2]+ws+seg[len(seg)/2:])
		}
	}
	return out
}

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
			for what, s := range spellings(tok) {
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
