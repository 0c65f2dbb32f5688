package redact

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

const (
	testJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX2NhbmFyeQ"
	testFP  = "0123456789abcdef0123456789abcdef"
)

func newTestRedactor(t testing.TB, opts ...RedactOption) *Redactor {
	t.Helper()
	r, err := NewRedactor(opts...)
	require.NoError(t, err)
	return r
}

func TestRedactString(t *testing.T) {
	r := newTestRedactor(t)
	tests := []struct {
		name, key, in, want string
	}{
		// Key rules: headers.
		{"authorization bearer", "http.request.header.authorization", "Bearer abc.def", "Bearer REDACTED"},
		{"authorization basic", "http.request.header.authorization", "Basic dXNlcjpwYXNz", "Basic REDACTED"},
		{"authorization bare token", "http.request.header.authorization", "abc.def", "REDACTED"},
		{"proxy-authorization", "http.request.header.proxy-authorization", "Basic dXNlcjpwYXNz", "Basic REDACTED"},
		{"cookie", "http.request.header.cookie", "sid=abc; theme=dark", "REDACTED"},
		{"set-cookie", "http.response.header.set-cookie", "sid=abc; Path=/; HttpOnly", "REDACTED"},
		{"x-api-key", "http.request.header.x-api-key", "k-123", "REDACTED"},
		{"x-auth-token", "http.request.header.x-auth-token", "t-123", "REDACTED"},
		{"x-csrf-token", "http.request.header.x-csrf-token", "c-123", "REDACTED"},
		{"x-amz-security-token", "http.request.header.x-amz-security-token", "FwoGZX", "REDACTED"},
		{"header case-insensitive", "http.request.header.X-Api-Key", "k-123", "REDACTED"},
		{"harmless header", "http.request.header.accept", "text/html", "text/html"},
		{"harmless header with bearer", "http.request.header.x-forwarded-for", "Bearer abc", "Bearer REDACTED"},
		// Key rules: sensitive segments.
		{"password key", "db.password", "hunter2", "REDACTED"},
		{"api_key key", "app.api-key", "k", "REDACTED"},
		{"Password key", "Password", "hunter2", "REDACTED"},
		{"empty stays empty", "db.password", "", ""},
		// URL rules.
		{"url.full token", "url.full", "https://h/x?access_token=abc&b=1", "https://h/x?access_token=REDACTED&b=1"},
		{"url.full userinfo", "url.full", "https://user:pass@h/x", "https://REDACTED:REDACTED@h/x"},
		{"url.full user only", "url.full", "https://ghtoken@h/x", "https://REDACTED:REDACTED@h/x"},
		{"url.query start", "url.query", "code=abc&state=xyz", "code=REDACTED&state=xyz"},
		{"http.target", "http.target", "/cb?code=abc&state=1", "/cb?code=REDACTED&state=1"},
		{"case-insensitive param", "url.full", "https://h/?Access_Token=abc", "https://h/?Access_Token=REDACTED"},
		{"aws presigned", "url.full", "https://b.s3/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff00&X-Amz-Security-Token=tok",
			"https://b.s3/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"},
		{"gcs and azure", "url.full", "https://g/o?X-Goog-Signature=ab&sig=cd&Signature=ef&AWSAccessKeyId=gh",
			"https://g/o?X-Goog-Signature=REDACTED&sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED"},
		{"all oauth params", "url.full", "https://h/?id_token=a&refresh_token=b&token=c&client_secret=d&api_key=e&apikey=f&password=g",
			"https://h/?id_token=REDACTED&refresh_token=REDACTED&token=REDACTED&client_secret=REDACTED&api_key=REDACTED&apikey=REDACTED&password=REDACTED"},
		{"span name with query", "", "GET /x?access_token=abc", "GET /x?access_token=REDACTED"},
		{"url.Error", "", `Get "http://h/x?access_token=abc": dial tcp 127.0.0.1:1: connect: connection refused`,
			`Get "http://h/x?access_token=REDACTED": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"code in prose kept", "", "exit code=1", "exit code=1"},
		{"harmless url", "url.full", "https://h/x?page=2", "https://h/x?page=2"},
		// Value rules.
		{"bearer in text", "", "sent Authorization: Bearer abc.def-ghi to upstream", "sent Authorization: Bearer REDACTED to upstream"},
		{"bearer lowercase", "", "bearer abc", "bearer REDACTED"},
		{"basic in text", "", "header Basic dXNlcjpwYXNz=", "header Basic REDACTED"},
		{"basic prose kept", "", "basic authentication failed", "basic authentication failed"},
		{"jwt", "", "token " + testJWT + " rejected", "token REDACTED rejected"},
		{"cut jwt", "", "x=" + testJWT[:20], "x=REDACTED"},
		{"short eyJ kept", "", "eyJab", "eyJab"},
		{"aws key id", "", "key AKIAIOSFODNN7EXAMPLE used", "key REDACTED used"},
		{"github", "", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "REDACTED"},
		{"github pat", "", "github_pat_11ABCDEFG0123456789_abcdefghijkl", "REDACTED"},
		{"slack", "", "xoxb-1234567890-abcdef", "REDACTED"},
		{"stripe", "", "sk_live_abcdefghijklmnop", "REDACTED"},
		{"google", "", "AIzaSyA-abcdefghijklmnopqrstuvwxyz012", "REDACTED"},
		{"pem", "", "k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done", "k=REDACTED done"},
		{"cut pem", "", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", "REDACTED"},
		{"certificate kept", "", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
		{"password= in text", "", "login failed password=hunter2 user=bob", "login failed password=REDACTED user=bob"},
		{"json password", "", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"REDACTED"}`},
		{"access_token: yaml", "", "access_token: abc123", "access_token: REDACTED"},
		{"plain", "", "GET /api/items/{id}", "GET /api/items/{id}"},
		{"user agent", "user_agent.original", "Go-http-client/1.1", "Go-http-client/1.1"},
		// Our own keys: hands off, but shape-checked.
		{"fingerprint ok", "token.fingerprint", testFP, testFP},
		{"fingerprint raw token", "token.fingerprint", "abc.def", "REDACTED"},
		{"fingerprint uppercase", "token.fingerprint", strings.ToUpper(testFP), "REDACTED"},
		{"outgoing fingerprint ok", "token.outgoing.fingerprint", testFP, testFP},
		{"outgoing fingerprint jwt", "token.outgoing.fingerprint", testJWT, "REDACTED"},
		{"auth.event ok", "auth.event", "token_invalid", "token_invalid"},
		{"auth.scheme bad", "auth.scheme", "Bearer abc", "REDACTED"},
		{"token.source ok", "token.source", "query", "query"},
		{"authz.decision ok", "authz.decision", "deny", "deny"},
		{"authz.reason text", "authz.reason", "insufficient_scope", "insufficient_scope"},
		{"token.id kept", "token.id", "jti-123", "jti-123"},
		{"token.client_id kept", "token.client_id", "client-app", "client-app"},
		{"token.issuer kept", "token.issuer", "https://issuer.example.com/", "https://issuer.example.com/"},
		{"user.id kept", "user.id", "alice@example.com", "alice@example.com"},
		{"own text still value-redacted", "authz.reason", "Bearer abc", "Bearer REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := r.String(tt.key, tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want != tt.in, changed)
			again, changed2 := r.String(tt.key, got)
			assert.Equal(t, got, again, "second pass must be a no-op")
			assert.False(t, changed2, "second pass must report no change")
		})
	}
}

func TestRedactIdempotentMarkers(t *testing.T) {
	r := newTestRedactor(t)
	for _, tc := range []struct{ key, v string }{
		{"http.request.header.authorization", "Bearer REDACTED"},
		{"http.request.header.authorization", "REDACTED"},
		{"http.request.header.cookie", "REDACTED"},
		{"", "Bearer REDACTED"},
		{"url.full", "https://REDACTED:REDACTED@h/?access_token=REDACTED"},
		{"db.password", "REDACTED"},
	} {
		got, changed := r.String(tc.key, tc.v)
		assert.Equal(t, tc.v, got, tc.key)
		assert.False(t, changed, tc.key)
	}
}

func TestRedactOptions(t *testing.T) {
	r := newTestRedactor(t,
		WithSensitiveKeys("app.session-ref", "pin"),
		WithSensitiveHeaders("X-Tenant-Secretish", "x_custom"),
		WithSensitiveQueryParams("ticket"),
		WithValuePatterns(`CANARY-[0-9]+`, `(?i)ssn:\d{3}-\d{2}-\d{4}`),
		nil,
	)
	tests := []struct{ key, in, want string }{
		{"app.session_ref", "v", "REDACTED"},
		{"APP.SESSION-REF", "v", "REDACTED"},
		{"card.pin", "1234", "REDACTED"},
		{"http.request.header.x-tenant-secretish", "v", "REDACTED"},
		{"http.request.header.x-custom", "v", "REDACTED"},
		{"url.full", "https://h/?Ticket=t1&a=b", "https://h/?Ticket=REDACTED&a=b"},
		{"", "ticket=t1", "ticket=REDACTED"},
		{"msg", "saw CANARY-123 here", "saw REDACTED here"},
		{"msg", "SSN:123-45-6789", "REDACTED"},
		{"token.fingerprint", testFP, testFP},
	}
	for _, tt := range tests {
		got, _ := r.String(tt.key, tt.in)
		assert.Equal(t, tt.want, got, "%s=%q", tt.key, tt.in)
	}
}

func TestRedactHeaderAllowList(t *testing.T) {
	r := newTestRedactor(t, WithHeaderAllowList("Accept", "user-agent"))
	tests := []struct{ key, in, want string }{
		{"http.request.header.accept", "text/html", "text/html"},
		{"http.request.header.user-agent", "curl/8", "curl/8"},
		{"http.request.header.user-agent", "Bearer abc", "Bearer REDACTED"}, // value rules still run
		{"http.request.header.x-anything", "v", "REDACTED"},
		{"http.response.header.x-request-id", "v", "REDACTED"},
		{"http.request.header.authorization", "Bearer abc", "REDACTED"},
		{"url.path", "/x", "/x"},
	}
	for _, tt := range tests {
		got, _ := r.String(tt.key, tt.in)
		assert.Equal(t, tt.want, got, tt.key)
	}
}

func TestNewRedactorErrors(t *testing.T) {
	for name, opt := range map[string]RedactOption{
		"bad regex":   WithValuePatterns("("),
		"empty key":   WithSensitiveKeys(""),
		"empty hdr":   WithSensitiveHeaders(" "),
		"empty param": WithSensitiveQueryParams(""),
		"long param":  WithSensitiveQueryParams(strings.Repeat("p", 65)),
		"empty allow": WithHeaderAllowList(""),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewRedactor(opt)
			assert.Nil(t, r)
			assert.True(t, errors.Is(err, errRedactConfig), "%v", err)
		})
	}
}

func TestRedactKeyValue(t *testing.T) {
	r := newTestRedactor(t)
	tests := []struct {
		name string
		in   attribute.KeyValue
		want attribute.KeyValue
		n    int
	}{
		{"string slice header", attribute.StringSlice("http.request.header.authorization", []string{"Bearer a", "Basic b"}),
			attribute.StringSlice("http.request.header.authorization", []string{"Bearer REDACTED", "Basic REDACTED"}), 2},
		{"string slice cookie", attribute.StringSlice("http.request.header.cookie", []string{"a=b", ""}),
			attribute.StringSlice("http.request.header.cookie", []string{"REDACTED", ""}), 1},
		{"bytes", attribute.ByteSlice("body", []byte("grant_type=x&client_secret=s3cr3t")),
			attribute.ByteSlice("body", []byte("grant_type=x&client_secret=REDACTED")), 1},
		{"nested map", attribute.Map("req", attribute.String("password", "p"), attribute.Map("inner", attribute.String("url", "https://h/?token=t"))),
			attribute.Map("req", attribute.String("password", "REDACTED"), attribute.Map("inner", attribute.String("url", "https://h/?token=REDACTED"))), 2},
		{"nested slice", attribute.Slice("list", attribute.StringValue("Bearer x"), attribute.IntValue(1), attribute.ByteSliceValue([]byte(testJWT))),
			attribute.Slice("list", attribute.StringValue("Bearer REDACTED"), attribute.IntValue(1), attribute.ByteSliceValue([]byte(Redacted))), 2},
		{"plural cookies key", attribute.StringSlice("cookies", []string{"sid=s3cr3t"}),
			attribute.StringSlice("cookies", []string{"REDACTED"}), 1},
		{"int untouched", attribute.Int("password", 1234), attribute.Int("password", 1234), 0},
		{"own scopes", attribute.StringSlice("token.scopes", []string{"read", "write"}), attribute.StringSlice("token.scopes", []string{"read", "write"}), 0},
		{"redaction.count", attribute.Int("redaction.count", 3), attribute.Int("redaction.count", 3), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := r.KeyValue(tt.in)
			assert.Equal(t, tt.want.Key, got.Key)
			assert.Equal(t, tt.want.Value.Type(), got.Value.Type())
			assert.Equal(t, tt.want.Value.String(), got.Value.String())
			assert.Equal(t, tt.n > 0, changed)
			_, n := r.KeyValues([]attribute.KeyValue{tt.in})
			assert.Equal(t, tt.n, n)
		})
	}
}

func TestRedactKeyValuesNoMutation(t *testing.T) {
	r := newTestRedactor(t)
	clean := []attribute.KeyValue{attribute.String("url.path", "/x"), attribute.Int("n", 1)}
	out, n := r.KeyValues(clean)
	assert.Zero(t, n)
	assert.Same(t, &clean[0], &out[0], "unchanged input is returned as is")

	in := []attribute.KeyValue{attribute.String("url.path", "/x"), attribute.String("url.full", "https://h/?access_token=abc")}
	orig := append([]attribute.KeyValue(nil), in...)
	out, n = r.KeyValues(in)
	assert.Equal(t, 1, n)
	assert.Equal(t, orig, in, "input must not be modified")
	assert.NotSame(t, &in[0], &out[0])
	assert.Equal(t, "https://h/?access_token=REDACTED", out[1].Value.AsString())
}

// The BYTESLICE path reads the bytes with AsString to avoid a copy; pin that
// the SDK's Value still behaves so.
func TestRedactByteSliceAsString(t *testing.T) {
	assert.Equal(t, "raw bytes", attribute.ByteSliceValue([]byte("raw bytes")).AsString())
}

func TestRedactNilRedactor(t *testing.T) {
	var r *Redactor
	s, c := r.String("url.full", "https://h/?access_token=abc")
	assert.False(t, c)
	assert.Equal(t, "https://h/?access_token=abc", s)
	kvs := []attribute.KeyValue{attribute.String("a", "Bearer x")}
	out, n := r.KeyValues(kvs)
	assert.Zero(t, n)
	assert.Equal(t, kvs, out)
}

func TestRedactConcurrent(t *testing.T) {
	r := newTestRedactor(t, WithValuePatterns(`CANARY-\d+`))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				got, _ := r.String("url.full", "https://h/?access_token=abc&x=CANARY-1")
				assert.Equal(t, "https://h/?access_token=REDACTED&x=REDACTED", got)
			}
		})
	}
	wg.Wait()
}
