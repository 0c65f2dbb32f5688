package claimset

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckCompact(t *testing.T) {
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"canonical", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AAAA", true},
		{"empty segments", "..", true},
		{"two bits set in last char", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn1.AAAA", false},
		{"low bits of a 2-char tail", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AAAAAB", false},
		{"padding", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0=.AAAA", false},
		{"newline", "eyJhbGciOiJIUzI1\nNiJ9.eyJzdWIiOiJhIn0.AAAA", false},
		{"space", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AA AA", false},
		{"standard alphabet", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AA+/", false},
		{"length 1 mod 4", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AAAAA", false},
		{"two segments", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0", false},
		{"four segments", "a.b.c.d", false},
		{"five segments (JWE)", "AA.AA.AA.AA.AA", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCompact(tt.tok)
			assert.Equal(t, tt.ok, err == nil, "err = %v", err)
		})
	}
}

// canonicalSegment agrees with "strict RawURLEncoding decodes it and
// re-encoding gives it back" on every string of up to 3 characters over
// an alphabet with base64url, base64 and padding characters, and on
// longer strings built from them.
func TestCanonicalSegmentMatchesReencoding(t *testing.T) {
	alphabet := "AQgw_-+/=\n \x00é"
	reference := func(s string) bool {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		return err == nil && base64.RawURLEncoding.EncodeToString(b) == s
	}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		for _, s := range []string{prefix, "eyJh" + prefix, prefix + "eyJh"} {
			assert.Equal(t, reference(s), canonicalSegment(s), "segment %q", s)
		}
		if n == 0 {
			return
		}
		for _, r := range strings.Split(alphabet, "") {
			gen(prefix+r, n-1)
		}
	}
	gen("", 3)
}

func TestCheckCompactAllocs(t *testing.T) {
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AAAA"
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = CheckCompact(tok) }))
}
