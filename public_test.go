package otelbearer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/log"
)

// publicMux has a public health check and public info page, a protected
// item route and a protected catch-all, which answers any path the others
// do not take.
func publicMux() *http.ServeMux {
	ok := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(name)) }
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", ok("healthz"))
	mux.Handle("GET /public/info", ok("info"))
	mux.Handle("/items/{id}", ok("item"))
	mux.Handle("/{rest...}", ok("catch-all"))
	return mux
}

// TestPublicPathsFollowRouting sends every spelling a router treats
// differently from the public path, without a token. A request is public
// only when the router dispatches it to the public handler (ServeMux) or
// its escaped path is exactly a public path (any other handler); all others
// are enforced: 401 and a WARN record.
func TestPublicPathsFollowRouting(t *testing.T) {
	plain := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("plain")) })
	tests := []struct {
		method, target string
		mux, plain     bool // public with the ServeMux, with the plain handler
	}{
		{"GET", "/healthz", true, true},
		{"HEAD", "/healthz", true, true},        // the mux sends HEAD to the GET handler
		{"OPTIONS", "/healthz", false, true},    // the mux sends it to the catch-all
		{"POST", "/healthz", false, true},       // idem
		{"GET", "/public/info", true, true},     //
		{"GET", "/public%2Finfo", false, false}, // one segment: the catch-all
		{"GET", "/public%2finfo", false, false},
		{"GET", "/public/info%2F", false, false},
		{"GET", "/%70ublic/info", true, false}, // the mux unescapes each segment
		{"GET", "/%68ealthz", true, false},
		{"GET", "/a/../healthz", false, false}, // the mux redirects
		{"GET", "/./healthz", false, false},
		{"GET", "//healthz", false, false},
		{"GET", "/public//info", false, false},
		{"GET", "/healthz/", false, false},
		{"GET", "/HEALTHZ", false, false},
		{"GET", "/healthz;x", false, false},
		{"GET", "/healthz%3Bx", false, false},
		{"GET", "/healthz?x=1", true, true},
		{"GET", "/items/1", false, false},
		{"GET", "/other", false, false},
	}
	for _, router := range []string{"mux", "plain"} {
		for _, tt := range tests {
			t.Run(router+" "+tt.method+" "+tt.target, func(t *testing.T) {
				h := newHarness(t)
				var next http.Handler = plain
				want := tt.plain
				if router == "mux" {
					next, want = publicMux(), tt.mux
				}
				handler := NewHandler(next, "api", h.opts(WithValidator(testValidator),
					WithTokenOptionalPaths("/healthz", "/public/info"))...)
				res := serve(handler, httptest.NewRequest(tt.method, tt.target, nil))

				spans := h.spans.Ended()
				require.Len(t, spans, 1)
				server := attrMap(spans[0].Attributes())
				assert.Equal(t, "token_missing", server[AuthEventKey])
				recs := h.logs.records()
				require.Len(t, recs, 1)
				if want {
					assert.NotEqual(t, http.StatusUnauthorized, res.StatusCode)
					assert.Equal(t, "true", server[AuthOptionalKey])
					assert.Equal(t, log.SeverityInfo, recs[0].Severity())
				} else {
					assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "enforced")
					assert.NotContains(t, server, AuthOptionalKey)
					assert.Equal(t, log.SeverityWarn, recs[0].Severity())
				}
			})
		}
	}
}

// TestPublicPathsPatterns: a public path names a ServeMux pattern as
// registered or without its method and host; a wildcard pattern makes what
// it matches public.
func TestPublicPathsPatterns(t *testing.T) {
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux.Handle("GET example.com/status", ok)
	mux.Handle("/docs/{page...}", ok)
	mux.Handle("GET /login", http.RedirectHandler("/sso", http.StatusFound))
	mux.Handle("/", ok)
	tests := []struct {
		public []string
		target string
		want   bool
	}{
		{[]string{"/status"}, "http://example.com/status", true},
		{[]string{"GET example.com/status"}, "http://example.com/status", true},
		{[]string{"GET /status"}, "http://example.com/status", false},
		{[]string{"/status"}, "http://other.example/status", false},
		{[]string{"/docs/{page...}"}, "/docs/a/b", true},
		{[]string{"/docs/{page...}"}, "/docs/a%2Fb", true},
		{[]string{"/docs/a/b"}, "/docs/a/b", false}, // the pattern decides, not the path
		{[]string{"/login"}, "/login", true},        // a redirect the application made
		{[]string{"/"}, "/anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			h := newHarness(t)
			handler := NewHandler(mux, "api", h.opts(WithValidator(testValidator), WithTokenOptionalPaths(tt.public...))...)
			res := serve(handler, httptest.NewRequest(http.MethodGet, tt.target, nil))
			assert.Equal(t, tt.want, res.StatusCode != http.StatusUnauthorized, "status %d", res.StatusCode)
		})
	}
}

// TestPublicRoutesCombine: WithTokenOptional adds to WithTokenOptionalPaths.
func TestPublicRoutesCombine(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(publicMux(), "api", h.opts(WithValidator(testValidator), WithTokenOptionalPaths("/healthz"),
		WithTokenOptional(func(r *http.Request) bool { return r.URL.EscapedPath() == "/items/open" }))...)
	assert.Equal(t, 200, serve(handler, httptest.NewRequest(http.MethodGet, "/healthz", nil)).StatusCode)
	assert.Equal(t, 200, serve(handler, httptest.NewRequest(http.MethodGet, "/items/open", nil)).StatusCode)
	assert.Equal(t, 401, serve(handler, httptest.NewRequest(http.MethodGet, "/items/closed", nil)).StatusCode)
}
