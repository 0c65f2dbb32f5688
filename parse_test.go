package otelbearer

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseAuthorization(t *testing.T) {
	long := "Bearer " + strings.Repeat("a", defaultMaxHeaderBytes)
	tests := []struct {
		name, in   string
		event      AuthEvent
		scheme     AuthScheme
		token, why string
	}{
		{"bearer", "Bearer abc.def-ghi_jkl~m+n/o==", AuthTokenUnverified, AuthSchemeBearer, "abc.def-ghi_jkl~m+n/o==", ""},
		{"scheme case-insensitive", "bEaReR tok", AuthTokenUnverified, AuthSchemeBearer, "tok", ""},
		{"several spaces", "Bearer    tok", AuthTokenUnverified, AuthSchemeBearer, "tok", ""},
		{"surrounding OWS", " \tBearer tok\t ", AuthTokenUnverified, AuthSchemeBearer, "tok", ""},
		{"bearer alone", "Bearer", AuthTokenMalformed, AuthSchemeBearer, "", whyEmptyToken},
		{"bearer and spaces", "Bearer    ", AuthTokenMalformed, AuthSchemeBearer, "", whyEmptyToken},
		{"empty header", "", AuthTokenMalformed, "", "", whyEmptyHeader},
		{"blank header", "   ", AuthTokenMalformed, "", "", whyEmptyHeader},
		{"space inside token", "Bearer abc def", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"comma", "Bearer abc,def", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"padding in middle", "Bearer ab=c", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"only padding", "Bearer ==", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"binary", "Bearer \x00\x01\xff", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"non-ascii", "Bearer tökén", AuthTokenMalformed, AuthSchemeBearer, "", whyBadToken},
		{"basic", "Basic dXNlcjpwYXNz", AuthTokenMissing, AuthSchemeBasic, "", ""},
		{"digest", `Digest username="u", realm="r"`, AuthTokenMissing, AuthSchemeDigest, "", ""},
		{"other scheme", "Token abc", AuthTokenMissing, AuthSchemeOther, "", ""},
		{"bare token no scheme", "abc.def.ghi", AuthTokenMissing, AuthSchemeOther, "", ""},
		{"bad scheme bytes", "Bea(rer tok", AuthTokenMalformed, AuthSchemeOther, "", whyBadScheme},
		{"binary scheme", "\x00\x01 tok", AuthTokenMalformed, AuthSchemeOther, "", whyBadScheme},
		{"too large", long, AuthTokenMalformed, AuthSchemeBearer, "", whyTooLarge},
		{"too large binary", strings.Repeat("\xff", defaultMaxHeaderBytes+1), AuthTokenMalformed, "", "", whyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseAuthorization(tt.in, defaultMaxHeaderBytes)
			assert.Equal(t, tt.event, c.event)
			assert.Equal(t, tt.scheme, c.scheme)
			assert.Equal(t, tt.token, c.token)
			assert.Equal(t, tt.why, c.why)
		})
	}
}

func TestParseRequest(t *testing.T) {
	form := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	get := func(target string, auth ...string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		for _, a := range auth {
			r.Header.Add("Authorization", a)
		}
		return r
	}
	withAuth := func(r *http.Request, a string) *http.Request { r.Header.Set("Authorization", a); return r }
	tests := []struct {
		name   string
		r      *http.Request
		event  AuthEvent
		source TokenSource
		token  string
		scheme AuthScheme
		why    string
	}{
		{"none", get("/x"), AuthTokenMissing, "", "", "", ""},
		{"header", get("/x", "Bearer tok"), AuthTokenUnverified, TokenSourceHeader, "tok", AuthSchemeBearer, ""},
		{"duplicate headers", get("/x", "Bearer a", "Bearer b"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyDuplicateHeader},
		{"duplicate, second basic", get("/x", "Bearer a", "Basic b"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyDuplicateHeader},
		{"query", get("/x?a=1&access_token=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query empty", get("/x?access_token="), AuthTokenMalformed, TokenSourceQuery, "", "", whyEmptyParam},
		{"query twice", get("/x?access_token=a&access_token=b"), AuthTokenMalformed, TokenSourceQuery, "", "", whyManyParams},
		{"query bad chars", get("/x?access_token=a%20b"), AuthTokenMalformed, TokenSourceQuery, "", "", whyBadToken},
		{"query lookalike param", get("/x?my_access_token_hint=1"), AuthTokenMissing, "", "", "", ""},
		{"header and query", get("/x?access_token=q", "Bearer h"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyManyMethods},
		{"basic and query", get("/x?access_token=q", "Basic dTpw"), AuthTokenUnverified, TokenSourceQuery, "q", AuthSchemeBasic, ""},
		{"form", form("a=1&access_token=ftok"), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form and header", withAuth(form("access_token=f"), "Bearer h"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyManyMethods},
		{"form without token", form("a=1"), AuthTokenMissing, "", "", "", ""},
		{"query %5F", get("/x?access%5Ftoken=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query %5f", get("/x?access%5ftoken=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query %61", get("/x?%61ccess_token=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query %65", get("/x?access_tok%65n=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query all escaped", get("/x?%61%63%63%65%73%73%5F%74%6F%6B%65%6E=qtok"), AuthTokenUnverified, TokenSourceQuery, "qtok", "", ""},
		{"query plain and escaped", get("/x?access_token=a&access%5Ftoken=b"), AuthTokenMalformed, TokenSourceQuery, "", "", whyManyParams},
		{"query escaped and header", get("/x?%61ccess_token=q", "Bearer h"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyManyMethods},
		{"query semicolon dropped", get("/x?access_token=q;x"), AuthTokenMissing, "", "", "", ""},
		{"query bad escape dropped", get("/x?access%5Gtoken=q"), AuthTokenMissing, "", "", "", ""},
		{"form %5F", form("access%5Ftoken=ftok"), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form %61", form("%61ccess_token=ftok"), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form %65", form("a=1&access_tok%65n=ftok"), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form escaped and query", func() *http.Request {
			r := form("access%5Ftoken=f")
			r.URL.RawQuery = "access_token=q"
			return r
		}(), AuthTokenMalformed, "", "", "", whyManyMethods},
		{"form too large", form("access_token=t&p=" + strings.Repeat("x", maxFormBytes)), AuthTokenMalformed, "", "", "", whyFormTooLarge},
		{"form too large, header", withAuth(form("p="+strings.Repeat("x", maxFormBytes)), "Bearer h"), AuthTokenMalformed, "", "", AuthSchemeBearer, whyFormTooLarge},
		{"form at the cap", form("access_token=t&p=" + strings.Repeat("x", maxFormBytes-len("access_token=t&p="))), AuthTokenUnverified, TokenSourceForm, "t", "", ""},
		{"form, invalid media parameter", func() *http.Request {
			r := form("access_token=ftok")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset")
			return r
		}(), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form, spaced and upper-case type", func() *http.Request {
			r := form("access_token=ftok")
			r.Header.Set("Content-Type", " Application/X-WWW-Form-Urlencoded ;charset=utf-8")
			return r
		}(), AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form PUT", func() *http.Request { r := form("access_token=ftok"); r.Method = http.MethodPut; return r }(),
			AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form PATCH", func() *http.Request { r := form("access_token=ftok"); r.Method = http.MethodPatch; return r }(),
			AuthTokenUnverified, TokenSourceForm, "ftok", "", ""},
		{"form DELETE not parsed by net/http", func() *http.Request { r := form("access_token=ftok"); r.Method = http.MethodDelete; return r }(),
			AuthTokenMissing, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseRequest(tt.r, defaultMaxHeaderBytes, true)
			assert.Equal(t, tt.event, c.event, "event")
			assert.Equal(t, tt.source, c.source, "source")
			assert.Equal(t, tt.token, c.token, "token")
			assert.Equal(t, tt.scheme, c.scheme, "scheme")
			assert.Equal(t, tt.why, c.why, "why")
		})
	}
}

func TestParseRequestFormBodyPreserved(t *testing.T) {
	body := "a=1&access_token=ftok&b=2"
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	c := parseRequest(r, defaultMaxHeaderBytes, true)
	assert.Equal(t, "ftok", c.token)
	assert.NoError(t, r.ParseForm())
	assert.Equal(t, url.Values{"a": {"1"}, "access_token": {"ftok"}, "b": {"2"}}, r.PostForm)
}

func TestParseRequestFormIgnored(t *testing.T) {
	tests := map[string]*http.Request{
		"GET": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/x", strings.NewReader("access_token=t"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(),
		"json": func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("access_token=t"))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(),
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, AuthTokenMissing, parseRequest(r, defaultMaxHeaderBytes, true).event)
		})
	}
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("access_token=t"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, AuthTokenMissing, parseRequest(r, defaultMaxHeaderBytes, false).event, "form tokens off")
}

func TestParseAuthorizationAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() { parseAuthorization("Bearer abc.def.ghi", defaultMaxHeaderBytes) })
	assert.Zero(t, n)
}

// FuzzParseAuthorization: any header value parses without panicking and
// the result is decided by the value's structure alone: a token is returned
// only when the value is exactly "Bearer", white space and a well-formed
// b64token; malformed results always say why. No check compares the input
// with words the parser uses, so the fuzzer feeding those words back (it
// does, e.g. "token_invalid") cannot fail it by coincidence.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a.b.c==", "Basic dTpw", "Bearer", "", "\x00", "Bearer a b",
		"Bearer ===", "x y z", "Bearer token_invalid", "\tBEARER\tt\t", "Bearer\t", "Digest x", "Bearer " + strings.Repeat("a", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		const maxBytes = 64
		c := parseAuthorization(v, maxBytes)
		trimmed := strings.Trim(v, " \t")
		switch c.event {
		case AuthTokenUnverified:
			// trimmed = "Bearer" 1*(SP / HTAB) token
			rest, ok := strings.CutSuffix(trimmed, c.token)
			if c.token == "" || !ok || !isB64Token(c.token) || c.scheme != AuthSchemeBearer || c.why != "" ||
				len(rest) <= 6 || !strings.EqualFold(rest[:6], "bearer") || strings.Trim(rest[6:], " \t") != "" {
				t.Fatalf("bad token %q from %q: %+v", c.token, v, c)
			}
		case AuthTokenMalformed:
			if c.token != "" || c.why == "" {
				t.Fatalf("malformed kept token or no reason: %+v", c)
			}
		case AuthTokenMissing:
			// Another scheme: a token, then white space or the end.
			scheme, _, _ := strings.Cut(trimmed, " ")
			scheme, _, _ = strings.Cut(scheme, "\t")
			if c.token != "" || c.why != "" || c.scheme == AuthSchemeBearer || c.scheme == "" ||
				!isToken(scheme) || strings.EqualFold(scheme, "bearer") {
				t.Fatalf("missing with token, reason or bearer scheme: %+v from %q", c, v)
			}
		default:
			t.Fatalf("unexpected event %q", c.event)
		}
		switch c.scheme {
		case "", AuthSchemeBearer, AuthSchemeBasic, AuthSchemeDigest, AuthSchemeOther:
		default:
			t.Fatalf("scheme %q outside the bounded set", c.scheme)
		}
		if len(v) > maxBytes && (c.event != AuthTokenMalformed || c.why != whyTooLarge) {
			t.Fatalf("oversized header not malformed: %+v", c)
		}
	})
}
