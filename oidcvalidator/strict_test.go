package oidcvalidator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
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
		for what, s := range spellings(tok) {
			t.Run(string(rune('0'+n))+"/"+what, func(t *testing.T) {
				c, err := v.Validate(t.Context(), s)
				checkErr(t, s, c, err, otelbearer.ErrTokenInvalid)
			})
		}
	}
	require.Equal(t, int32(1), p.jwksHits.Load(), "a non-canonical spelling caused a JWKS fetch")
}
