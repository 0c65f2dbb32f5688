package otelbearer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var jwtKey = []byte("jwt-signing-key-for-tests")

// signedJWT returns an HS256 JWT whose header and payload (for a
// five-letter sub) are 2 modulo 4 characters long, with 4 unused bits, and
// whose signature is 3 modulo 4, with 2: every segment has several
// spellings.
func signedJWT(t *testing.T, sub string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "p": "xxx"})
	tok.Header["kid"] = "k"
	s, err := tok.SignedString(jwtKey)
	require.NoError(t, err)
	return s
}

// spellings returns every spelling of the compact JWS tok that lenient
// base64url decoding accepts: each segment's last character with any
// unused low bits, and the last segment with its "=" padding.
func spellings(tok string) []string {
	segs := strings.Split(tok, ".")
	variants := make([][]string, len(segs))
	for i, s := range segs {
		unused := map[int]int{2: 4, 3: 2}[len(s)%4]
		v := b64Value(s[len(s)-1])
		for low := range 1 << unused {
			variants[i] = append(variants[i], s[:len(s)-1]+string(base64URLAlphabet[v|low]))
		}
	}
	out := []string{""}
	for i, vs := range variants {
		var next []string
		for _, prefix := range out {
			for _, v := range vs {
				if i > 0 {
					v = "." + v
				}
				next = append(next, prefix+v)
			}
		}
		out = next
	}
	if pad := (4 - len(segs[2])%4) % 4; pad > 0 {
		for _, s := range out[:len(out):len(out)] {
			out = append(out, s+strings.Repeat("=", pad))
		}
	}
	return out
}

func hmacHex(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))[:fingerprintHexLen]
}

// TestFingerprintCanonicalJWS: all the spellings of one JWT that decode to
// the same bytes have one fingerprint, the HMAC of the canonical spelling.
// golang-jwt accepts those of the signature segment as the valid token (the
// signature covers the header and payload as spelled, so theirs are
// token_invalid, recorded under the same fingerprint).
func TestFingerprintCanonicalJWS(t *testing.T) {
	tok := signedJWT(t, "alice")
	all := spellings(tok)
	require.Len(t, all, 16*16*4*2, "16 header × 16 payload × 4 signature spellings, unpadded and padded")
	f := newFingerprinter(newKey(testKey))
	want := hmacHex(testKey, tok)
	parser := jwt.NewParser(jwt.WithPaddingAllowed())
	keyFn := func(*jwt.Token) (any, error) { return jwtKey, nil }
	prefix := tok[:strings.LastIndexByte(tok, '.')]
	valid := 0
	for _, s := range all {
		unverified, _, err := parser.ParseUnverified(s, jwt.MapClaims{})
		require.NoError(t, err, "golang-jwt decodes %s", s)
		assert.Equal(t, "alice", unverified.Claims.(jwt.MapClaims)["sub"])
		if strings.HasPrefix(s, prefix+".") {
			_, err := parser.Parse(s, keyFn)
			require.NoError(t, err, "golang-jwt accepts %s", s)
			valid++
		}
		assert.Equal(t, want, f.Fingerprint(s), s)
	}
	assert.Equal(t, 4*2, valid, "accepted as valid: 4 signature spellings, unpadded and padded")
}

// TestFingerprintDistinct: distinct credentials keep distinct fingerprints,
// and what is not a JWS is taken as it is.
func TestFingerprintDistinct(t *testing.T) {
	f := newFingerprinter(newKey(testKey))
	alice, bob := signedJWT(t, "alice"), signedJWT(t, "bobby")
	assert.NotEqual(t, f.Fingerprint(alice), f.Fingerprint(bob))
	e30 := base64.RawURLEncoding.EncodeToString([]byte("{}"))
	opaque := []string{
		"abc.def.ghi",          // base64url segments, header not JSON
		"abcd.efgh.ijkl=",      // idem, padded
		"alice.valid.token",    // a segment of length 1 mod 4
		e30 + ".e30.sig.extra", // four segments
		e30 + ".e30",           // two segments
		e30 + ".e3+.sig",       // not base64url
		"W10.e30.sig",          // header "[]": not an object
		"eyJ9.e30.sig",         // header not a JSON object
		"opaque-token=",
		strings.Repeat("x", 5000),
	}
	for _, s := range opaque {
		assert.Equal(t, hmacHex(testKey, s), f.Fingerprint(s), "taken as it is: %q", s)
	}
	// A JWS whose header is "{}" is canonicalised; changing any used bit
	// changes the fingerprint.
	assert.Equal(t, f.Fingerprint(e30+".e30.c2ln"), f.Fingerprint(e30[:2]+"1.e31.c2ln"))
	assert.NotEqual(t, f.Fingerprint(e30+".e30.c2ln"), f.Fingerprint(e30+".e30.c2lu"))
	assert.NotEqual(t, f.Fingerprint(e30+".e30.c2ln"), f.Fingerprint(e30+".e30.c2lo"))
	// A large header is decoded outside the pooled buffer.
	big := base64.RawURLEncoding.EncodeToString([]byte(`{"x5c":"` + strings.Repeat("a", 2000) + `"}`))
	assert.Equal(t, f.Fingerprint(big+".e30.c2k"), f.Fingerprint(big+".e31.c2n"))
	assert.NotEqual(t, f.Fingerprint(big+".e30.c2k"), f.Fingerprint(big+".e30.c2o"))
}

// TestHandlerOneFingerprintPerJWT: two requests with two spellings of one
// JWT are recorded with one fingerprint, on spans and audit records.
func TestHandlerOneFingerprintPerJWT(t *testing.T) {
	tok := signedJWT(t, "alice")
	all := spellings(tok)
	h := newHarness(t)
	handler := NewHandler(http.NotFoundHandler(), "api", h.opts()...)
	for _, s := range []string{tok, all[len(all)/2-1], all[len(all)-1]} {
		serve(handler, bearer(httptest.NewRequest(http.MethodGet, "/", nil), s))
	}
	want := hmacHex(testKey, tok)
	for _, s := range h.spans.Ended() {
		assert.Equal(t, want, attrMap(s.Attributes())[TokenFingerprintKey])
	}
	for _, r := range h.logs.records() {
		assert.Equal(t, want, recordAttrs(r)[TokenFingerprintKey])
	}
	assert.Len(t, h.logs.records(), 3)
}

func TestFingerprintJWSAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race; run without -race to pin allocations")
	}
	tok := signedJWT(t, "alice")
	all := spellings(tok)
	f := newFingerprinter(newKey(testKey))
	var dst [fingerprintHexLen]byte
	f.fill(&dst, tok)
	assert.Zero(t, testing.AllocsPerRun(100, func() { f.fill(&dst, tok) }), "canonical")
	assert.Zero(t, testing.AllocsPerRun(100, func() { f.fill(&dst, all[len(all)-1]) }), "re-spelled")
}

func BenchmarkFingerprint(b *testing.B) {
	f := newFingerprinter(newKey(testKey))
	var dst [fingerprintHexLen]byte
	tok := "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJwIjoieHgiLCJzdWIiOiJhbGljZSJ9.kM6Kq7XHkXfHbPq8kQ2C0mpr3D1rGtnA8YcXlz6j2nU"
	for _, bc := range []struct{ name, tok string }{{"opaque", "opaque-token-of-some-length-0123456789"}, {"opaque-jws-length", strings.Replace(tok, ".", "-", 1)}, {"jws", tok}, {"jws-respelled", tok[:len(tok)-1] + "V="}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.fill(&dst, bc.tok)
			}
		})
	}
}
