package otelbearer

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzRedactString plants a secret at a fuzz-chosen position inside
// fuzz-chosen text, in one of the shapes the rules promise to catch, and
// checks the secret never survives. Any input must not panic, and the
// result must be stable under a second pass.
func FuzzRedactString(f *testing.F) {
	f.Add("GET /items", 4, uint8(0), "abc123XYZ")
	f.Add(`Get "http://h/x": dial tcp`, 12, uint8(1), "s3cr3tTokenValue")
	f.Add("exception: ", 11, uint8(2), "payloadpart")
	f.Add("", 0, uint8(3), "Zm9vOmJhcg")
	f.Add("log line with words", 8, uint8(4), "hunter2hunter2")
	f.Add("\x00\xff=:@", 2, uint8(5), "tok")
	f.Add("a=b&", 4, uint8(6), "v4lue")
	r := newTestRedactor(f)
	f.Fuzz(func(t *testing.T, text string, pos int, shape uint8, secret string) {
		// The secret is drawn from the credential alphabet: a rule cannot
		// know where a token with a blank or a quote in it ends.
		secret = strings.Map(func(c rune) rune {
			if c < 128 && redactAlnum(byte(c)) {
				return c
			}
			return -1
		}, secret)
		if len(secret) < 6 || strings.Contains(Redacted, secret) {
			t.Skip()
		}
		var (
			key     string
			planted string
		)
		switch shape % 7 {
		case 0: // Authorization header value
			key, planted = "http.request.header.authorization", "Bearer "+secret
		case 1: // bearer in free text
			planted = " Bearer " + secret + " "
		case 2: // JWT, whole or cut
			planted = " eyJhbGciOiJIUzI1NiJ9." + secret + " "
		case 3: // Basic credentials in free text
			planted = " Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+secret)) + " "
		case 4: // access_token in a URL
			planted = " https://h/p?access_token=" + secret + "&x=1 "
		case 5: // userinfo
			planted = " https://user:" + secret + "@h/ "
		case 6: // form / query string
			planted = "&client_secret=" + secret + "&"
		}
		if pos < 0 {
			pos = -pos
		}
		if pos < 0 || len(text) == 0 {
			pos = 0
		} else {
			pos %= len(text) + 1
		}
		in := text[:pos] + planted + text[pos:]
		out, _ := r.String(key, in)
		probe := secret
		if shape%7 == 3 {
			probe = base64.StdEncoding.EncodeToString([]byte("user:" + secret))
		}
		if strings.Contains(text[:pos]+strings.Replace(planted, probe, "\x00", 1)+text[pos:], probe) {
			t.Skip() // the text itself holds the secret's bytes
		}
		if strings.Contains(out, probe) {
			t.Fatalf("secret %q survived:\n in: %q\nout: %q", probe, in, out)
		}
		again, changed := r.String(key, out)
		if changed || again != out {
			t.Fatalf("second pass changed %q to %q", out, again)
		}
		// Arbitrary text never panics.
		_, _ = r.String(text, text)
	})
}
