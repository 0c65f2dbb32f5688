package otelbearer

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// redactFuzzShapes are the shapes a secret S is planted in; each is a
// promise of the default rules. key is the attribute key it is found
// under.
var redactFuzzShapes = []struct{ key, before, after string }{
	{"http.request.header.authorization", "Bearer ", ""},
	{"", " Bearer ", " "},
	{"", " eyJhbGciOiJIUzI1NiJ9.", " "},
	{"", " Basic ", " "}, // S is base64("user:"+S) here
	{"", " https://h/p?access_token=", "&x=1 "},
	{"", " https://user:", "@h/ "},
	{"", "&client_secret=", "&"},
	{"", "\nAuthorization: Token ", "\r\n"},
	{"", ` Digest username="u", response="`, `", cnonce="c" `},
	{"", `{"accessToken":"`, `"}`},
	{"", " https://h/?access%5Ftoken=", "&a=1 "},
	{"", " /login?return_to=%2Fcb%3Fcode%3D", "%26s%3D1 "},
	{"", "\r\nCookie: a=", "; b=2\r\n"},
	{"", " AWS_SECRET_ACCESS_KEY=", " "},
	{"", " Server=db;Password=", ";Database=x "},
	{"", " X-Amz-Signature: ", "\n"},
	{"app.db_password", "", ""},
}

// FuzzRedactString plants a secret at a fuzz-chosen position inside
// fuzz-chosen text, in one of the shapes the rules promise to catch, and
// checks the secret never survives.
//
// Go's fuzzer feeds the code's own string literals back (REDACTED, Bearer,
// token_invalid), so "the secret appears in the output" can be a
// coincidence of the text around it or of the markers. The check compares
// with the same input carrying a twin secret instead (every letter rot13,
// every digit +5: same length, same byte classes, so the same rules fire):
// a leak is the secret appearing more often than with its twin.
//
// Any input must not panic; the result must be valid UTF-8, within the
// value bound, and stable under a second pass.
func FuzzRedactString(f *testing.F) {
	f.Add("GET /items", 4, uint8(0), "abc123XYZ")
	f.Add(`Get "http://h/x": dial tcp`, 12, uint8(1), "s3cr3tTokenValue")
	f.Add("exception: ", 11, uint8(2), "payloadpart")
	f.Add("", 0, uint8(3), "Zm9vOmJhcg")
	f.Add("log line with words", 8, uint8(4), "hunter2hunter2")
	f.Add("\x00\xff=:@", 2, uint8(5), "tok")
	f.Add("a=b&", 4, uint8(6), "v4lue")
	f.Add("GET / HTTP/1.1\r\nHost: h", 14, uint8(7), "t0kenValue9")
	f.Add(`{"a":1}`, 1, uint8(9), "REDACTED")
	f.Add("%3D%26%3F", 3, uint8(11), "c0deC0de")
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
		if len(secret) < 6 {
			t.Skip()
		}
		sh := redactFuzzShapes[int(shape)%len(redactFuzzShapes)]
		if pos < 0 {
			pos = -pos
		}
		if pos < 0 || len(text) == 0 {
			pos = 0
		} else {
			pos %= len(text) + 1
		}
		plant := func(s string) (in, probe string) {
			probe = s
			if strings.HasPrefix(sh.before, " Basic") {
				probe = base64.StdEncoding.EncodeToString([]byte("user:" + s))
			}
			if sh.key != "" && sh.before == "" {
				return s, s // the whole value is the secret
			}
			return text[:pos] + sh.before + probe + sh.after + text[pos:], probe
		}
		in, probe := plant(secret)
		twinIn, twinProbe := plant(redactTwin(secret))
		out, _ := r.String(sh.key, in)
		twinOut, _ := r.String(sh.key, twinIn)
		if strings.Count(out, probe) > strings.Count(twinOut, probe) && probe != twinProbe {
			t.Fatalf("secret %q survived:\n in: %q\nout: %q\ntwin: %q", probe, in, out, twinOut)
		}
		if !utf8.ValidString(out) || len(out) > DefaultMaxValueBytes {
			t.Fatalf("invalid or unbounded output (%d bytes): %q", len(out), out)
		}
		again, changed := r.String(sh.key, out)
		if changed || again != out {
			t.Fatalf("second pass changed %q to %q", out, again)
		}
		// Arbitrary text never panics, and comes out valid and bounded.
		o, _ := r.String(text, text)
		if !utf8.ValidString(o) || len(o) > DefaultMaxValueBytes {
			t.Fatalf("invalid or unbounded output for arbitrary text: %q", o)
		}
	})
}

// redactTwin returns s with every letter rot13 and every digit +5.
func redactTwin(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case 'a' <= c && c <= 'z':
			return 'a' + (c-'a'+13)%26
		case 'A' <= c && c <= 'Z':
			return 'A' + (c-'A'+13)%26
		case '0' <= c && c <= '9':
			return '0' + (c-'0'+5)%10
		}
		return c
	}, s)
}
