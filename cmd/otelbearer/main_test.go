package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "cli-test-key-16+bytes"

func TestRun(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, testKey)
	want := fingerprint(t, testKey, "s3cr3t")
	assert.Equal(t, "7b2810d222536bc0f3e30b817d089336", want, "HMAC-SHA256(key, s3cr3t), from openssl")
	tests := []struct {
		name, in string
		code     int
		out      string
	}{
		{"plain", "s3cr3t", 0, want + "\n"},
		{"newline", "s3cr3t\n", 0, want + "\n"},
		{"bearer prefix", "  Bearer s3cr3t \r\n", 0, want + "\n"},
		{"lowercase prefix", "bearer   s3cr3t", 0, want + "\n"},
		{"empty", " \n", 1, ""},
		{"prefix only", "Bearer ", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"fingerprint"}, strings.NewReader(tt.in), &out, &errb)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.out, out.String())
			assert.NotContains(t, errb.String(), "s3cr3t")
		})
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"fingerprint", "tok"}, strings.NewReader(""), &out, &errb), "never from argv")
	assert.Contains(t, errb.String(), "usage")
}

func TestRunUnkeyedWarns(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, "")
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"fingerprint"}, strings.NewReader("s3cr3t"), &out, &errb))
	assert.Contains(t, errb.String(), "unkeyed")
	assert.Equal(t, "4e738ca5563c06cfd0018299933d58db\n", out.String())
}

func TestRunRefusesShortKey(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, "short-key")
	var out, errb bytes.Buffer
	assert.Equal(t, 1, run([]string{"fingerprint"}, strings.NewReader("s3cr3t"), &out, &errb))
	assert.Empty(t, out.String())
	assert.Contains(t, errb.String(), "shorter than 16 bytes")
	assert.NotContains(t, errb.String(), "short-key")
}

func TestRunWarnsOnKeySpace(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, testKey+"\n")
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"fingerprint"}, strings.NewReader("s3cr3t"), &out, &errb))
	assert.Contains(t, errb.String(), "white space")
	want := fingerprint(t, testKey+"\n", "s3cr3t")
	assert.Equal(t, want+"\n", out.String(), "used as raw bytes, as the middleware does")
	assert.NotContains(t, errb.String(), testKey)
}

// TestRunCanonicalJWS: every spelling a JWT library accepts of one JWS
// prints the fingerprint the middleware records for it.
func TestRunCanonicalJWS(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, testKey)
	// {"alg":"HS256"} . {"sub":"alice"} . a 32-byte signature
	const canonical = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXkk"
	want := fingerprint(t, testKey, canonical)
	for _, in := range []string{canonical, canonical[:len(canonical)-1] + "l", canonical + "=", "Bearer " + canonical[:len(canonical)-1] + "n="} {
		var out, errb bytes.Buffer
		assert.Equal(t, 0, run([]string{"fingerprint"}, strings.NewReader(in), &out, &errb))
		assert.Equal(t, want+"\n", out.String(), in)
	}
}

// fingerprint is the fingerprint of tok under key, as the middleware
// computes it.
func fingerprint(t *testing.T, key, tok string) string {
	t.Helper()
	f, err := otelbearer.NewFingerprinter([]byte(key))
	require.NoError(t, err)
	return f.Fingerprint(tok)
}
