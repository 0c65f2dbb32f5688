package otelbearer

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

var allEvents = []AuthEvent{AuthTokenMissing, AuthTokenMalformed, AuthTokenInvalid, AuthTokenExpired,
	AuthTokenRevoked, AuthTokenValid, AuthTokenUnverified}

// FuzzHandler sends arbitrary Authorization values and access_token query
// values through the whole middleware (span processor, audit records):
// never a panic, always a known auth.event, and a well-formed token never
// appears in anything recorded more often than when the same request
// carries another token of the same shape in its place. (The fuzzer feeds
// back words the code uses, such as "token_invalid": such a token is
// recorded as an auth.event value by coincidence, not by a leak.)
func FuzzHandler(f *testing.F) {
	f.Add("Bearer abc", "")
	f.Add("", "qtok")
	f.Add("Bearer a b", "x")
	f.Add("Basic dTpw", "")
	f.Add("bearer\tZm9v==", "")
	f.Add("Bearer token_invalid", "")
	f.Add("", "token_invalid")
	f.Add("Bearer "+tokAlice, "")
	f.Fuzz(func(t *testing.T, auth, query string) {
		record := func(auth, query string) (string, []sdktrace.ReadOnlySpan) {
			h := newHarness(t)
			handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(testValidator), WithMaxHeaderBytes(256))...)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Authorization"] = []string{auth}
			if query != "" {
				r.URL.RawQuery = "access_token=" + url.QueryEscape(query)
			}
			if res := serve(handler, r); res.StatusCode < 400 {
				t.Fatalf("status %d", res.StatusCode)
			}
			return h.dump(), h.spans.Ended()
		}
		dump, spans := record(auth, query)
		if len(spans) != 1 {
			t.Fatalf("%d spans", len(spans))
		}
		ev := AuthEvent(attrMap(spans[0].Attributes())[AuthEventKey])
		if !slices.Contains(allEvents, ev) {
			t.Fatalf("unknown auth.event %q", ev)
		}
		// Whatever parsed as a token must not be recorded. Short tokens are
		// skipped: they occur by chance in attribute names and values.
		for _, tok := range []string{parseAuthorization(auth, 256).token, query} {
			if len(tok) < 8 || !isB64Token(tok) {
				continue
			}
			other, ok := sameShape(tok)
			if !ok {
				continue
			}
			base, _ := record(strings.ReplaceAll(auth, tok, other), strings.ReplaceAll(query, tok, other))
			if n, want := strings.Count(dump, tok), strings.Count(base, tok); n > want {
				t.Fatalf("token %q recorded %d times, %d with another token in its place:\n%s", tok, n, want, dump)
			}
		}
	})
}

// sameShape returns a b64token of tok's length made of one letter that tok
// does not contain, so that it cannot be, or contain, tok.
func sameShape(tok string) (string, bool) {
	for _, c := range "QZXJKVWqzxjkvw" {
		if !strings.ContainsRune(tok, c) {
			return strings.Repeat(string(c), len(tok)), true
		}
	}
	return "", false
}
