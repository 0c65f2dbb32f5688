package otelbearer

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Spellings of a parameter name; net/http decodes the first five to
// access_token.
var paramNames = []string{"access_token", "access%5Ftoken", "%61ccess_token", "access_tok%65n",
	"%61%63%63%65%73%73%5f%74%6f%6b%65%6e", "ACCESS_TOKEN", "access_token_", "access+token",
	"access%5Gtoken", "access_token;x", "a", "%zz"}

var paramValues = []string{"tokA", "tok.B-c_d~e%2Bf%2F%3D%3D", "", "a%20b", "%zz", "x;y", "t+u"}

var contentTypes = []string{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
	" APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded; charset", "text/plain",
	"application/json", "", "application/x-www-form-urlencoded-not"}

func randParams(rng *rand.Rand) string {
	var parts []string
	for range rng.IntN(4) {
		p := paramNames[rng.IntN(len(paramNames))]
		if rng.IntN(5) > 0 {
			p += "=" + paramValues[rng.IntN(len(paramValues))]
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "&")
}

// randRequest builds a request from the spellings above and returns it with
// its body.
func randRequest(rng *rand.Rand) (*http.Request, []byte) {
	method := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}[rng.IntN(6)]
	var body []byte
	if method != "GET" && method != "HEAD" && rng.IntN(4) > 0 {
		body = []byte(randParams(rng))
		if rng.IntN(8) == 0 {
			body = append(body, "&pad="+strings.Repeat("p", maxFormBytes)...)
		}
	}
	r := httptest.NewRequest(method, "/x", bytes.NewReader(body))
	r.URL.RawQuery = randParams(rng)
	if body != nil {
		r.Header.Set("Content-Type", contentTypes[rng.IntN(len(contentTypes))])
	}
	switch rng.IntN(6) {
	case 0:
		r.Header.Set("Authorization", "Bearer hdrTok")
	case 1:
		r.Header.Set("Authorization", "Basic dTpw")
	case 2:
		r.Header["Authorization"] = []string{"Bearer a", "Bearer b"}
	}
	return r, body
}

// TestParseRequestAgreesWithNetHTTP: for many generated requests, the
// credential recorded (source, token, presence) is the one the application
// reads with r.Header, r.URL.Query() and r.FormValue, and the body reaches
// the application unchanged.
func TestParseRequestAgreesWithNetHTTP(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for i := range 5000 {
		r, body := randRequest(rng)
		desc := r.Method + " ?" + r.URL.RawQuery + " ct=" + r.Header.Get("Content-Type") + " body=" + string(body[:min(len(body), 80)])
		c := parseRequest(r, defaultMaxHeaderBytes, true)

		// What the application sees.
		got, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		require.Equal(t, string(body), string(got), "body changed: %s", desc)
		r.Body = io.NopCloser(bytes.NewReader(got))
		hdr := r.Header.Values("Authorization")
		query := r.URL.Query()["access_token"]
		_ = r.ParseForm()
		form := r.PostForm["access_token"]
		if v := r.FormValue("access_token"); len(form)+len(query) > 0 {
			require.Equal(t, append(form, query...)[0], v)
		}

		bearerHdr := len(hdr) == 1 && strings.HasPrefix(strings.ToLower(hdr[0]), "bearer ")
		oversized := len(body) > maxFormBytes && isFormRequest(r)
		methods := 0
		for _, present := range []bool{bearerHdr, len(query) > 0, len(form) > 0} {
			if present {
				methods++
			}
		}
		want := func(source TokenSource, vals []string) {
			if len(vals) == 1 && isB64Token(vals[0]) {
				assert.Equal(t, AuthTokenUnverified, c.event, desc)
				assert.Equal(t, vals[0], c.token, desc)
			} else {
				assert.Equal(t, AuthTokenMalformed, c.event, desc)
			}
			assert.Equal(t, source, c.source, desc)
		}
		switch {
		case len(hdr) > 1:
			assert.Equal(t, whyDuplicateHeader, c.why, desc)
		case oversized:
			assert.Equal(t, whyFormTooLarge, c.why, desc)
		case methods == 0:
			assert.Equal(t, AuthTokenMissing, c.event, desc)
			assert.Empty(t, c.source, desc)
		case methods > 1:
			assert.Equal(t, whyManyMethods, c.why, desc)
		case bearerHdr:
			assert.Equal(t, "hdrTok", c.token, desc)
		case len(query) > 0:
			want(TokenSourceQuery, query)
		default:
			want(TokenSourceForm, form)
		}
		seen[string(c.event)+"/"+string(c.source)]++
		if t.Failed() {
			t.Fatalf("request %d: %s", i, desc)
		}
	}
	// The generator reaches every outcome.
	for _, k := range []string{"token_missing/", "token_unverified/query", "token_unverified/form",
		"token_unverified/header", "token_malformed/query", "token_malformed/form", "token_malformed/"} {
		assert.Positive(t, seen[k], k)
	}
}

// TestHandlerRecordsTheCredentialTheAppReads: without a validator the
// application reads the token itself; the fingerprint recorded is that of
// the value it reads, for every spelling net/http decodes.
func TestHandlerRecordsTheCredentialTheAppReads(t *testing.T) {
	const tok = "c4n4ryAppTok"
	fp := newFingerprinter(newKey(testKey)).Fingerprint(tok)
	form := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	tests := []struct {
		name   string
		r      *http.Request
		source TokenSource
	}{
		{"query", httptest.NewRequest(http.MethodGet, "/?access_token="+tok, nil), TokenSourceQuery},
		{"query %5F", httptest.NewRequest(http.MethodGet, "/?access%5Ftoken="+tok, nil), TokenSourceQuery},
		{"query %61", httptest.NewRequest(http.MethodGet, "/?%61ccess_token="+tok, nil), TokenSourceQuery},
		{"query %65", httptest.NewRequest(http.MethodGet, "/?access_tok%65n="+tok, nil), TokenSourceQuery},
		{"form %5F", form("access%5Ftoken=" + tok), TokenSourceForm},
		{"form %61", form("x=1&%61ccess_token=" + tok), TokenSourceForm},
		{"form %65", form("access_tok%65n=" + tok + "&y=2"), TokenSourceForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var read string
			handler := NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				read = r.FormValue("access_token")
			}), "api", h.opts()...)
			serve(handler, tt.r)
			require.Equal(t, tok, read, "the application reads the token")
			server := attrMap(h.spans.Ended()[0].Attributes())
			assert.Equal(t, fp, server[TokenFingerprintKey])
			assert.Equal(t, string(tt.source), server[TokenSourceKey])
			assert.Equal(t, "token_unverified", server[AuthEventKey])
			h.requireAbsent(t, tok)
		})
	}
}

// TestHandlerOversizedForm: a form body too large to search is recorded as
// token_malformed with its reason, refused under enforcement, and reaches
// the handler unchanged without enforcement.
func TestHandlerOversizedForm(t *testing.T) {
	body := "access_token=c4n4ryBigFormTok&pad=" + strings.Repeat("p", maxFormBytes)
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}

	h := newHarness(t)
	var got []byte
	handler := NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
	}), "api", h.opts()...)
	serve(handler, req())
	assert.Equal(t, body, string(got), "body unchanged")
	server := attrMap(h.spans.Ended()[0].Attributes())
	assert.Equal(t, "token_malformed", server[AuthEventKey])
	recs := h.logs.records()
	require.Len(t, recs, 1)
	assert.Contains(t, recs[0].Body().AsString(), whyFormTooLarge)

	h = newHarness(t)
	handler = NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(testValidator))...)
	res := serve(handler, req())
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), whyFormTooLarge)
}
