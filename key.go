package otelbearer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
)

// FingerprintKeyEnv holds the fingerprint key, as raw bytes, when
// [WithFingerprintKey] gives none.
const FingerprintKeyEnv = "OTELBEARER_FINGERPRINT_KEY"

// minKeyBytes is the length of the shortest fingerprint key accepted. A
// shorter key can be recovered by brute force from one known token and
// its fingerprint, and with it every fingerprint can be tested against
// guessed tokens.
const minKeyBytes = 16

// ErrShortKey is wrapped by the error for a fingerprint key under 16 bytes.
var ErrShortKey = errors.New("fingerprint key shorter than 16 bytes")

// redacted is how a key prints.
const redacted = "[REDACTED]"

// key is a fingerprint key. It never prints its bytes: every fmt verb,
// String, GoString, LogValue and JSON or text marshalling yield
// "[REDACTED]", and a Key in an unexported field of a printed struct,
// where fmt cannot call its methods, shows as a function address.
type key struct {
	// material returns the key bytes. A func, because fmt and reflection
	// based printers print a func as its address, with any verb.
	material func() []byte
}

// newKey returns a key holding a copy of b, without checking its length;
// parseKey checks it.
func newKey(b []byte) key {
	if len(b) == 0 {
		return key{}
	}
	c := append([]byte(nil), b...)
	return key{material: func() []byte { return c }}
}

// parseKey returns a key holding a copy of b, or an error wrapping
// [ErrShortKey] when b is shorter than minKeyBytes.
func parseKey(b []byte) (key, error) {
	if len(b) < minKeyBytes {
		return key{}, fmt.Errorf("otelbearer: %w (%d bytes)", ErrShortKey, len(b))
	}
	return newKey(b), nil
}

// isZero reports whether k holds no key material.
func (k key) isZero() bool { return k.material == nil }

func (k key) bytes() []byte {
	if k.material == nil {
		return nil
	}
	return k.material()
}

// String returns "[REDACTED]".
func (key) String() string { return redacted }

// GoString returns "[REDACTED]".
func (key) GoString() string { return redacted }

// Format writes "[REDACTED]" whatever the verb and flags.
func (key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue returns "[REDACTED]" so log/slog never prints the key.
func (key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]" so encoders never print the key.
func (key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "[REDACTED]".
func (key) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

var (
	_ fmt.Formatter  = key{}
	_ fmt.GoStringer = key{}
	_ slog.LogValuer = key{}
)

// errKeySpace is reported once through otel.Handle.
var errKeySpace = errors.New("otelbearer: " + FingerprintKeyEnv + " begins or ends with white space " +
	"(a newline from a file?); it is used as raw bytes, so fingerprints differ from those of the " +
	"same key without it")

var warnKeySpace sync.Once

// keyFromEnv returns the key in [FingerprintKeyEnv], used as raw bytes. It
// returns the zero key and no error when the variable is unset or empty,
// and an error wrapping [ErrShortKey] when the value is shorter than
// minKeyBytes. A value that begins or ends with white space is used as
// it is, and said once through otel.Handle.
func keyFromEnv() (key, error) {
	v := os.Getenv(FingerprintKeyEnv)
	if v == "" {
		return key{}, nil
	}
	if strings.TrimSpace(v) != v {
		warnKeySpace.Do(func() { otel.Handle(errKeySpace) })
	}
	if len(v) < minKeyBytes {
		return key{}, fmt.Errorf("otelbearer: %s: %w (%d bytes)", FingerprintKeyEnv, ErrShortKey, len(v))
	}
	return newKey([]byte(v)), nil
}
