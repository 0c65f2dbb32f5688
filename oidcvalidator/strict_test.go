package oidcvalidator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/jwstest"
	"github.com/otelbearer/otelbearer/oidcvalidator"
)

// One signed token has exactly one accepted spelling: go-jose decodes
// leniently and verifies the signature over a re-encoded header and
// payload, so without the canonical-form check every spelling below of a
// valid token would pass. Payloads of every length modulo 3 cover both
// 2 and 4 unused bits in the header and payload.
func TestNonCanonicalSpellingsRefused(t *testing.T) {
	p := newProvider(t)
	v, err := oidcvalidator.New(t.Context(), p.issuer())
	require.NoError(t, err)
	for n := range 3 {
		tok := sign(t, providerKey, kid, with(claims(p.issuer(), time.Hour), "x", strings.Repeat("a", n+1)))
		_, err := v.Validate(t.Context(), tok)
		require.NoError(t, err, "canonical token")
		for what, s := range jwstest.Spellings(tok) {
			t.Run(string(rune('0'+n))+"/"+what, func(t *testing.T) {
				c, err := v.Validate(t.Context(), s)
				checkErr(t, s, c, err, otelbearer.ErrTokenInvalid)
			})
		}
	}
	require.Equal(t, int32(1), p.jwksHits.Load(), "a non-canonical spelling caused a JWKS fetch")
}
