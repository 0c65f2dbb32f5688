package otelbearer

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFingerprint(t *testing.T) {
	a := newFingerprinter(newKey([]byte("k1")))
	b := newFingerprinter(newKey([]byte("k1")))
	c := newFingerprinter(newKey([]byte("k2")))
	hexRE := regexp.MustCompile(`^[0-9a-f]{32}$`)

	fp := a.Fingerprint("tok")
	assert.Regexp(t, hexRE, fp)
	assert.Equal(t, fp, b.Fingerprint("tok"), "same key, same token: stable across instances")
	assert.NotEqual(t, fp, c.Fingerprint("tok"), "keyed")
	assert.NotEqual(t, fp, a.Fingerprint("tok2"))
	// HMAC-SHA256("k1", "tok") truncated to 128 bits, from openssl dgst -hmac.
	assert.Equal(t, "0500681d97c6845020d65ea64d7e4cc7", fp)

	long := strings.Repeat("x", 5000) // crosses the 512-byte write buffer
	assert.Regexp(t, hexRE, a.Fingerprint(long))
	assert.NotEqual(t, a.Fingerprint(long), a.Fingerprint(long+"y"))
}

func TestFingerprintUnkeyed(t *testing.T) {
	u := newFingerprinter(key{})
	// SHA-256("tok") truncated, from sha256sum.
	assert.Equal(t, "1a7674eb4ee78df7e1ac439a93c3fa8e", u.Fingerprint("tok"))
}

func TestFingerprintAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race; run without -race to pin allocations")
	}
	f := newFingerprinter(newKey(testKey))
	var dst [fingerprintHexLen]byte
	f.fill(&dst, "warm")
	assert.Zero(t, testing.AllocsPerRun(100, func() { f.fill(&dst, "abc.def.ghi") }))
}

func TestKeyFromEnv(t *testing.T) {
	t.Setenv(FingerprintKeyEnv, " raw key of 16+ bytes\n")
	k, err := keyFromEnv()
	require.NoError(t, err)
	assert.Equal(t, newFingerprinter(newKey([]byte(" raw key of 16+ bytes\n"))).Fingerprint("t"), newFingerprinter(k).Fingerprint("t"), "used as raw bytes")
	t.Setenv(FingerprintKeyEnv, "")
	k, err = keyFromEnv()
	require.NoError(t, err)
	assert.True(t, k.isZero())
	t.Setenv(FingerprintKeyEnv, "fifteen-bytes!!")
	k, err = keyFromEnv()
	require.ErrorIs(t, err, ErrShortKey)
	assert.True(t, k.isZero())
	assert.NotContains(t, err.Error(), "fifteen")
}
