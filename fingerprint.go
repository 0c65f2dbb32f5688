package otelbearer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"
	"sync"
	"unsafe"

	"go.opentelemetry.io/otel"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// fingerprintHexLen is the length of a fingerprint: 128 bits in lowercase hex.
const fingerprintHexLen = attrkey.FingerprintHexLen

// errUnkeyed is reported once through otel.Handle.
var errUnkeyed = errors.New("otelbearer: no fingerprint key (set " + FingerprintKeyEnv +
	" or WithFingerprintKey): falling back to unkeyed SHA-256, which lets anyone " +
	"holding the telemetry brute-force low-entropy tokens")

var warnUnkeyed sync.Once

// Fingerprinter computes fingerprints (HMAC-SHA256, 128 bits, hex; one per
// JWS however spelled). It is safe for concurrent use.
type Fingerprinter struct {
	keyed bool
	pool  sync.Pool // of *hasher
}

// hasher is a pooled hash with its buffers: buffers passed to an interface
// method escape, so they live beside the hash instead of on the stack.
type hasher struct {
	h   hash.Hash
	buf [512]byte
	hdr [512]byte // a decoded JWS header
	sum [sha256.Size]byte
}

// NewFingerprinter returns the Fingerprinter the middleware uses for key
// (resolved as by [WithFingerprintKey]), e.g. to find a known token in the
// telemetry, or an error wrapping [ErrShortKey].
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	k, err := resolveKey(key)
	if err != nil {
		return nil, err
	}
	return newFingerprinter(k), nil
}

// resolveKey returns b as a key, or with b empty the key of
// [FingerprintKeyEnv] (the zero key when that is unset).
func resolveKey(b []byte) (key, error) {
	if len(b) == 0 {
		return keyFromEnv()
	}
	return parseKey(b)
}

// newFingerprinter returns a Fingerprinter for k. A zero k means unkeyed.
// k is not checked: see parseKey.
func newFingerprinter(k key) *Fingerprinter {
	f := &Fingerprinter{keyed: !k.isZero()}
	key := append([]byte(nil), k.bytes()...)
	if f.keyed {
		f.pool.New = func() any { return &hasher{h: hmac.New(sha256.New, key)} }
	} else {
		f.pool.New = func() any { return &hasher{h: sha256.New()} }
	}
	return f
}

// Fingerprint returns the fingerprint of token.
func (f *Fingerprinter) Fingerprint(token string) string {
	var dst [fingerprintHexLen]byte
	f.fill(&dst, token)
	return string(dst[:])
}

// fill writes the hex fingerprint of token into dst without allocating.
func (f *Fingerprinter) fill(dst *[fingerprintHexLen]byte, token string) {
	if !f.keyed {
		warnUnkeyed.Do(func() { otel.Handle(errUnkeyed) })
	}
	h := f.pool.Get().(*hasher)
	h.h.Reset()
	h.writeToken(token)
	h.h.Sum(h.sum[:0])
	hex.Encode(dst[:], h.sum[:fingerprintHexLen/2])
	f.pool.Put(h)
}

// writeToken feeds the canonical form of token to the hash.
func (h *hasher) writeToken(token string) {
	segs, canonical, ok := h.jws(token)
	if !ok || canonical {
		h.write(token)
		return
	}
	for i, s := range segs {
		if i > 0 {
			h.writeByte('.')
		}
		if s == "" {
			continue
		}
		h.write(s[:len(s)-1])
		h.writeByte(canonicalLast(s))
	}
}

// jws splits token into the three segments of a JWS in compact form, each
// without its "=" padding. ok is false when token is not one; canonical
// reports that token is already in its canonical spelling.
func (h *hasher) jws(token string) (segs [3]string, canonical, ok bool) {
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return segs, false, false
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 {
		return segs, false, false
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return segs, false, false
	}
	canonical = true
	for n, s := range [3]string{token[:i], token[i+1 : j], token[j+1:]} {
		t := strings.TrimRight(s, "=")
		if !isBase64URL(t) {
			return segs, false, false
		}
		if len(t) != len(s) || t != "" && canonicalLast(t) != t[len(t)-1] {
			canonical = false
		}
		segs[n] = t
	}
	return segs, canonical, h.isJSONObject(segs[0])
}

// isBase64URL reports whether s decodes as unpadded base64url, ignoring
// the unused bits of its last character, as JWT libraries do.
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b64Values[s[i]] < 0 {
			return false
		}
	}
	return true
}

// isJSONObject reports whether the base64url segment s decodes to what is
// a JSON object from its delimiters: "{" … "}", white space around them
// allowed. (Full JSON validation would cost more than the HMAC; what tells
// a JWS from an opaque token is the braces.) It decodes into the hasher's
// buffer when s is small enough.
func (h *hasher) isJSONObject(s string) bool {
	if s == "" {
		return false
	}
	dst := h.hdr[:]
	if n := base64.RawURLEncoding.DecodedLen(len(s)); n > len(dst) {
		dst = make([]byte, n)
	}
	src := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	n, err := base64.RawURLEncoding.Decode(dst, src)
	if err != nil {
		return false
	}
	b := bytes.TrimRight(bytes.TrimLeft(dst[:n], jsonSpace), jsonSpace)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

const jsonSpace = " \t\r\n"

// canonicalLast returns the last character of the unpadded base64url
// segment s with its unused low bits cleared.
func canonicalLast(s string) byte {
	c := s[len(s)-1]
	var unused int
	switch len(s) % 4 {
	case 2:
		unused = 4
	case 3:
		unused = 2
	default:
		return c
	}
	v := b64Value(c)
	return base64URLAlphabet[v&^(1<<unused-1)]
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Value is the value of a base64url character, or -1.
func b64Value(c byte) int { return int(b64Values[c]) }

// b64Values maps a byte to its base64url value, or -1.
var b64Values = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base64URLAlphabet) {
		t[base64URLAlphabet[i]] = int8(i)
	}
	return t
}()

// write feeds s to the hash without allocating: through io.StringWriter
// where the hash offers it, else in chunks through the pooled buffer.
func (h *hasher) write(s string) {
	if sw, ok := h.h.(io.StringWriter); ok {
		_, _ = sw.WriteString(s)
		return
	}
	for len(s) > 0 {
		n := copy(h.buf[:], s)
		_, _ = h.h.Write(h.buf[:n])
		s = s[n:]
	}
}

func (h *hasher) writeByte(c byte) {
	h.buf[0] = c
	_, _ = h.h.Write(h.buf[:1])
}
