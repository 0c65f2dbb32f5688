package claimset

import "errors"

// ErrNotCanonical is returned by [CheckCompact] for a token that is not a
// JWS in canonical compact serialization.
var ErrNotCanonical = errors.New("token is not a canonical compact JWS")

// CheckCompact reports whether token is a JWS in canonical compact
// serialization: exactly three segments separated by '.', each written in
// unpadded base64url (RFC 7515 §2) exactly as an encoder writes it, so the
// only spelling of its bytes. It refuses '=' padding, whitespace and line
// breaks (which Go's base64 decoders and go-jose skip), and a last
// character with non-zero unused low bits (which non-strict decoders
// ignore). Without this check one signed token has many accepted
// spellings. It does not allocate.
func CheckCompact(token string) error {
	segs := 0
	start := 0
	for i := 0; i <= len(token); i++ {
		if i < len(token) && token[i] != '.' {
			continue
		}
		segs++
		if segs > 3 || !canonicalSegment(token[start:i]) {
			return ErrNotCanonical
		}
		start = i + 1
	}
	if segs != 3 {
		return ErrNotCanonical
	}
	return nil
}

// canonicalSegment reports whether s is what base64.RawURLEncoding
// encodes its own decoding to.
func canonicalSegment(s string) bool {
	var last byte
	for i := 0; i < len(s); i++ {
		v, ok := b64val(s[i])
		if !ok {
			return false
		}
		last = v
	}
	switch len(s) % 4 {
	case 1: // cannot be produced by an encoder
		return false
	case 2: // one byte: 4 unused bits
		return last&0x0f == 0
	case 3: // two bytes: 2 unused bits
		return last&0x03 == 0
	}
	return true
}

// b64val is the value of c in the base64url alphabet.
func b64val(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '-':
		return 62, true
	case c == '_':
		return 63, true
	}
	return 0, false
}
