package otelbearer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"log/slog"
	"os"
	"sync"

	"go.opentelemetry.io/otel"
)

// FingerprintKeyEnv names the environment variable that holds the
// fingerprint key when no [WithFingerprintKey] option is given. Its value
// is used as raw bytes.
const FingerprintKeyEnv = "OTELBEARER_FINGERPRINT_KEY"

// FingerprintHexLen is the length of a fingerprint: 128 bits in lowercase hex.
const FingerprintHexLen = 32

// Key is a fingerprint key. It never prints itself: String, GoString,
// Format verbs and LogValue all yield "[REDACTED]".
type Key struct{ b []byte }

// NewKey returns a Key holding a copy of b.
func NewKey(b []byte) Key { return Key{b: append([]byte(nil), b...)} }

// IsZero reports whether k holds no key material.
func (k Key) IsZero() bool { return len(k.b) == 0 }

// String returns "[REDACTED]".
func (Key) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]".
func (Key) GoString() string { return "[REDACTED]" }

// LogValue returns "[REDACTED]" so log/slog never prints the key.
func (Key) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// MarshalText returns "[REDACTED]" so encoders never print the key.
func (Key) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// errUnkeyed is reported once through otel.Handle.
var errUnkeyed = errors.New("otelbearer: no fingerprint key (set " + FingerprintKeyEnv +
	" or WithFingerprintKey): falling back to unkeyed SHA-256, which lets anyone " +
	"holding the telemetry brute-force low-entropy tokens")

var warnUnkeyed sync.Once

// Fingerprinter computes token fingerprints: HMAC-SHA256 under a key,
// truncated to 128 bits, lowercase hex. The same token under the same key
// gives the same fingerprint in every process. Without a key it falls back
// to unkeyed SHA-256 (and says so once through otel.Handle). A
// Fingerprinter is safe for concurrent use.
type Fingerprinter struct {
	keyed bool
	pool  sync.Pool // of *hasher
}

// hasher is a pooled hash with its buffers: buffers passed to an interface
// method escape, so they live beside the hash instead of on the stack.
type hasher struct {
	h   hash.Hash
	buf [512]byte
	sum [sha256.Size]byte
}

// NewFingerprinter returns a Fingerprinter for k. A zero k means unkeyed.
func NewFingerprinter(k Key) *Fingerprinter {
	f := &Fingerprinter{keyed: !k.IsZero()}
	key := append([]byte(nil), k.b...)
	if f.keyed {
		f.pool.New = func() any { return &hasher{h: hmac.New(sha256.New, key)} }
	} else {
		f.pool.New = func() any { return &hasher{h: sha256.New()} }
	}
	return f
}

// KeyFromEnv returns the key in [FingerprintKeyEnv] (raw bytes; zero when
// unset or empty).
func KeyFromEnv() Key {
	v := os.Getenv(FingerprintKeyEnv)
	if v == "" {
		return Key{}
	}
	return Key{b: []byte(v)}
}

// Fingerprint returns the fingerprint of token.
func (f *Fingerprinter) Fingerprint(token string) string {
	var dst [FingerprintHexLen]byte
	f.fill(&dst, token)
	return string(dst[:])
}

// fill writes the hex fingerprint of token into dst without allocating.
func (f *Fingerprinter) fill(dst *[FingerprintHexLen]byte, token string) {
	if !f.keyed {
		warnUnkeyed.Do(func() { otel.Handle(errUnkeyed) })
	}
	h := f.pool.Get().(*hasher)
	h.h.Reset()
	h.write(token)
	h.h.Sum(h.sum[:0])
	hex.Encode(dst[:], h.sum[:FingerprintHexLen/2])
	f.pool.Put(h)
}

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
