package otelbearer

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

var allEvents = []AuthEvent{AuthTokenMissing, AuthTokenMalformed, AuthTokenInvalid, AuthTokenExpired,
	AuthTokenRevoked, AuthTokenValid, AuthTokenUnverified}

// FuzzHandler sends arbitrary Authorization values and access_token query
// values through the whole middleware (span processor, audit records):
// never a panic, always a known auth.event, and a well-formed token never
// appears in anything recorded.
func FuzzHandler(f *testing.F) {
	f.Add("Bearer abc", "")
	f.Add("", "qtok")
	f.Add("Bearer a b", "x")
	f.Add("Basic dTpw", "")
	f.Add("bearer\tZm9v==", "")
	f.Fuzz(func(t *testing.T, auth, query string) {
		h := newHarness(t)
		handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(testValidator), WithMaxHeaderBytes(256))...)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{auth}
		if query != "" {
			r.URL.RawQuery = "access_token=" + url.QueryEscape(query)
		}
		res := serve(handler, r)
		if res.StatusCode < 400 {
			t.Fatalf("status %d for an unknown token", res.StatusCode)
		}
		spans := h.spans.Ended()
		if len(spans) != 1 {
			t.Fatalf("%d spans", len(spans))
		}
		ev := AuthEvent(attrMap(spans[0].Attributes())[AuthEventKey])
		if !slices.Contains(allEvents, ev) {
			t.Fatalf("unknown auth.event %q", ev)
		}
		// Whatever parsed as a token must not be recorded. Short tokens are
		// skipped: they occur by chance in attribute names and values.
		for _, c := range []credential{parseAuthorization(auth, 256), {token: query}} {
			if len(c.token) >= 8 && isB64Token(c.token) {
				h.requireAbsent(t, c.token)
			}
		}
	})
}
