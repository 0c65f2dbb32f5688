package redact

import (
	"strings"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// Credential formats and the byte classes the value rules use.

func b64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
func jwtChar(c byte) bool { return b64URL(c) || c == '.' || c == '=' }
func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
func upperDigit(c byte) bool      { return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }
func alnumUnderscore(c byte) bool { return alnum(c) || c == '_' }

// scanFormat handles well-known credential formats (compare dd-trace-go's
// default obfuscation and GitHub secret scanning) and PEM private keys. i is
// a trigger byte inside the format's prefix. Minimum lengths are below the
// full lengths, so that a value cut by an attribute length limit still
// loses its secret.
func scanFormat(sc *valueScanner, s string, i int) int {
	var (
		st, plen, min int
		class         func(byte) bool
	)
	switch c := s[i]; {
	case c == 'J': // JWT / JWS / JWE, whole or cut: eyJ + 8 base64url onward
		if i < 2 || s[i-2] != 'e' || s[i-1] != 'y' {
			return -1
		}
		st, plen, min, class = i-2, 3, 8, jwtChar
	case c == 'A':
		if i+4 > len(s) {
			return -1
		}
		switch s[i : i+4] {
		case "AKIA", "ASIA", "AIDA", "AROA", "AGPA", "ANPA": // AWS key ids
			st, plen, min, class = i, 4, 12, upperDigit
		case "AIza": // Google API key
			st, plen, min, class = i, 4, 20, b64URL
		default:
			return -1
		}
	case c == '_':
		switch {
		case i >= 3 && s[i-3] == 'g' && s[i-2] == 'h' && strings.IndexByte("pousr", s[i-1]) >= 0: // GitHub
			st, plen, min, class = i-3, 4, 20, alnum
		case i >= 6 && s[i-6:i] == "github" && strings.HasPrefix(s[i:], "_pat_"):
			st, plen, min, class = i-6, 11, 20, alnumUnderscore
		case i >= 2 && (s[i-2:i] == "sk" || s[i-2:i] == "rk") &&
			(strings.HasPrefix(s[i:], "_live_") || strings.HasPrefix(s[i:], "_test_")): // Stripe
			st, plen, min, class = i-2, 8, 10, alnum
		default:
			return -1
		}
	case c == '-':
		switch {
		case strings.HasPrefix(s[i:], "-----BEGIN"):
			return scanPEM(sc, s, i)
		case i >= 4 && s[i-4:i-1] == "xox" && strings.IndexByte("abprso", s[i-1]) >= 0: // Slack
			st, plen, min, class = i-4, 5, 10, b64URL
		case i >= 5 && s[i-5:i] == "glpat": // GitLab
			st, plen, min, class = i-5, 6, 20, b64URL
		case i >= 2 && s[i-2:i] == "sk" && (i == 2 || !alnum(s[i-3])): // OpenAI, Anthropic
			st, plen, min, class = i-2, 3, 20, b64URL
		default:
			return -1
		}
	default:
		return -1
	}
	e := st + plen
	for e < len(s) && class(s[e]) {
		e++
	}
	if e-st-plen < min {
		return -1
	}
	sc.add(st, e, replMarker, s)
	return e
}

// scanPEM replaces a PEM private key block, or what is left of one cut
// short, by Redacted. Certificates and public keys are left alone.
func scanPEM(sc *valueScanner, s string, i int) int {
	hdr := s[i+len("-----BEGIN"):]
	hdr = hdr[:min(len(hdr), 64)] // "-----BEGIN ENCRYPTED PRIVATE KEY-----": the header is short
	he := strings.Index(hdr, "-----")
	if he < 0 || !strings.Contains(hdr[:he], "PRIVATE KEY") {
		return -1
	}
	rest := i + len("-----BEGIN") + he + len("-----")
	e := len(s)
	if j := strings.Index(s[rest:], "-----END"); j >= 0 {
		e = rest + j + len("-----END")
		if k := strings.Index(s[e:], "-----"); k >= 0 {
			e += k + len("-----")
		} else {
			e = len(s)
		}
	}
	sc.add(i, e, replMarker, s)
	return e
}

// schemeValue redacts an authorization-like header value, keeping a
// scheme that is a plain token ("Bearer REDACTED", "Basic REDACTED").
func schemeValue(s string) string {
	if s == "" {
		return s
	}
	sp := strings.IndexAny(s, " \t")
	if sp <= 0 || sp > 32 {
		return Redacted
	}
	for i := 0; i < sp; i++ {
		if !b64URL(s[i]) {
			return Redacted
		}
	}
	if s[sp+1:] == Redacted && s[sp] == ' ' {
		return s
	}
	return s[:sp] + " " + Redacted
}

func isHex(s string) bool {
	if len(s) != attrkey.FingerprintHexLen {
		return false
	}
	var m uint8
	for i := 0; i < len(s); i++ {
		m |= notLowerHex[s[i]]
	}
	return m == 0
}

// notLowerHex is 1 for every byte but 0-9 and a-f.
var notLowerHex = func() (t [256]uint8) {
	for c := range t {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			t[c] = 1
		}
	}
	return t
}()

func isEnum(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}
