package otelbearer

import (
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// Operator rules win over the package's own exemptions; the exemptions
// are exact keys, never prefixes.
func TestRedactOwnKeysExactNotPrefix(t *testing.T) {
	def := newTestRedactor(t)
	op := newTestRedactor(t, WithSensitiveKeys("auth.password", "authz.api_key", "authz.reason", "token.fingerprint", "scheme"),
		WithValuePatterns(`token_[a-z]+`))
	tests := []struct {
		name   string
		r      *Redactor
		key    string
		in     string
		want   string
		reason string
	}{
		{"auth.password default", def, "auth.password", "c4n4ry1", Redacted, "not one of our keys"},
		{"authz.api_key default", def, "authz.api_key", "c4n4ry2", Redacted, "not one of our keys"},
		{"auth.token default", def, "auth.token", "c4n4ry3", Redacted, "not one of our keys"},
		{"authz.secret default", def, "authz.client_secret", "c4n4ry4", Redacted, "not one of our keys"},
		{"auth.password operator", op, "auth.password", "c4n4ry5", Redacted, "operator key"},
		{"authz.reason operator", op, "authz.reason", "not_owner", Redacted, "operator names our key"},
		{"fingerprint operator", op, "token.fingerprint", testFP, Redacted, "operator names our key"},
		{"auth.scheme operator segment", op, "auth.scheme", "bearer", Redacted, "operator names its segment"},
		{"auth.event operator pattern", op, "auth.event", "token_invalid", Redacted, "operator pattern applies to our enum"},
		{"auth.event default", def, "auth.event", "token_invalid", "token_invalid", "our key, our shape"},
		{"auth.event bad shape", def, "auth.event", "Bearer c4n4ry6", Redacted, "our key, wrong shape"},
		{"auth.optional", def, "auth.optional", "true", "true", "our key, our shape"},
		{"auth.optional bad shape", def, "auth.optional", "c4n4ry7=", Redacted, "our key, wrong shape"},
		{"authz.resource", def, "authz.resource", "alice-1", "alice-1", "our text key"},
		{"token.scopes", def, "token.scopes", "read write", "read write", "our text key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := tt.r.String(tt.key, tt.in)
			assert.Equal(t, tt.want, got, tt.reason)
		})
	}
}

// Every key attributes.go defines is exempt from the default key rules
// (and nothing else is by prefix).
func TestRedactOwnKeysCoverAttributes(t *testing.T) {
	for _, k := range []attribute.Key{
		TokenFingerprintKey, TokenOutgoingFingerprintKey, TokenSourceKey, AuthSchemeKey, AuthEventKey,
		AuthOptionalKey, AuthzDecisionKey, AuthzReasonKey, AuthzResourceKey, UserIDKey, TokenIDKey,
		TokenScopesKey, TokenClientIDKey, TokenIssuerKey, ClientAddressKey, RedactionCountKey, RedactionSanitizedKey,
	} {
		_, ok := redactOwnClass(string(k))
		assert.True(t, ok, k)
	}
	for _, k := range []string{"auth.password", "authz.x", "token.secret", "auth"} {
		_, ok := redactOwnClass(k)
		assert.False(t, ok, k)
	}
}

func TestRedactDefaultCoverage(t *testing.T) {
	r := newTestRedactor(t)
	tests := []struct{ name, key, in, want string }{
		// Other schemes in free text.
		{"token scheme", "", "sent Authorization: Token c4n4ryA1 upstream", "sent Authorization: Token REDACTED"},
		{"mac scheme", "", `Authorization: MAC id="c4n4ryA2", nonce="c4n4ryA3", mac="c4n4ryA4"`, "Authorization: MAC REDACTED"},
		{"mac free", "", `MAC id="c4n4ryA2", ts="1", mac="c4n4ryA4" sent`, "MAC REDACTED sent"},
		{"negotiate", "", "WWW said Negotiate YIIC4N4RY5gYGKwYBBQUCoIIC", "WWW said Negotiate REDACTED"},
		{"ntlm", "", "NTLM TlRMTVNTUAABC4N4RY", "NTLM REDACTED"},
		{"aws4", "", "AWS4-HMAC-SHA256 Credential=AKIDC4N4RY/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=c4n4ry5ig",
			"AWS4-HMAC-SHA256 REDACTED"},
		{"digest", "", `Digest username="bob", realm="r", nonce="n", uri="/", response="c4n4ry6d1g35t", cnonce="c"`, "Digest REDACTED"},
		{"digest header", "", "Authorization: Digest username=\"bob\", response=\"c4n4ry6\"\r\nHost: h", "Authorization: Digest REDACTED\r\nHost: h"},
		{"json authorization token", "", `{"Authorization":"Token c4n4ry7"}`, `{"Authorization":"Token REDACTED"}`},
		// camelCase and dashed names.
		{"accessToken key", "accessToken", "c4n4ryB1", Redacted},
		{"apiKey key", "app.apiKey", "c4n4ryB2", Redacted},
		{"clientSecret key", "clientSecret", "c4n4ryB3", Redacted},
		{"client-secret key", "client-secret", "c4n4ryB4", Redacted},
		{"refresh-token key", "refresh-token", "c4n4ryB5", Redacted},
		{"camel query", "url.full", "https://h/?accessToken=c4n4ryB6&apiKey=c4n4ryB7&x=1", "https://h/?accessToken=REDACTED&apiKey=REDACTED&x=1"},
		{"dashed form", "", "grant_type=x&client-secret=c4n4ryB8&refresh-token=c4n4ryB9", "grant_type=x&client-secret=REDACTED&refresh-token=REDACTED"},
		{"json camel", "", `{"accessToken":"c4n4ryBa","clientSecret": "c4n4ryBb","n":1}`, `{"accessToken":"REDACTED","clientSecret": "REDACTED","n":1}`},
		{"json escaped quote", "", `{"password":"c4n\"4ryBc"}`, `{"password":"REDACTED"}`},
		// Percent-encoded names, nested encoded URLs.
		{"encoded underscore", "url.full", "https://h/?access%5Ftoken=c4n4ryC1", "https://h/?access%5Ftoken=REDACTED"},
		{"encoded letter", "url.full", "https://h/?%61ccess_token=c4n4ryC2&b=2", "https://h/?%61ccess_token=REDACTED&b=2"},
		{"nested encoded url", "url.full", "https://h/login?return_to=%2Fcb%3Faccess_token%3Dc4n4ryC3%26state%3D1&x=2",
			"https://h/login?return_to=%2Fcb%3Faccess_token%3DREDACTED%26state%3D1&x=2"},
		{"nested encoded lower", "url.query", "next=%2fcb%3fx%3d1%26code%3dc4n4ryC4", "next=%2fcb%3fx%3d1%26code%3dREDACTED"},
		// AWS names, presigned URLs.
		{"aws env", "", "AWS_SECRET_ACCESS_KEY=c4n4ryD1 aws_secret_access_key = c4n4ryD2", "AWS_SECRET_ACCESS_KEY=REDACTED aws_secret_access_key = REDACTED"},
		{"aws json", "", `{"SecretAccessKey": "c4n4ryD3"}`, `{"SecretAccessKey": "REDACTED"}`},
		{"aws key", "aws.secret_access_key", "c4n4ryD4", Redacted},
		{"presigned", "url.full", "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=c4n4ryD5&X-Amz-Signature=c4n4ryD6&X-Amz-Date=1",
			"https://b.s3.amazonaws.com/k?X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Date=1"},
		// Composite keys, connection strings.
		{"db_password", "app.db_password", "c4n4ryE1", Redacted},
		{"DB-PASSWORD", "DB-PASSWORD", "c4n4ryE2", Redacted},
		{"connection string", "db.connection_string", "Server=db;User Id=bob;Password=c4n4ryE3;Database=app",
			"Server=db;User Id=bob;Password=REDACTED;Database=app"},
		{"connection url", "db.connection_string", "postgres://bob:c4n4ryE4@db:5432/app", "postgres://REDACTED:REDACTED@db:5432/app"},
		{"password in text", "", "retry with password = c4n4ryE5 now", "retry with password = REDACTED now"},
		{"pwd in text", "", "uid=bob;pwd=c4n4ryE6", "uid=bob;pwd=REDACTED"},
		// Vendor key headers, gRPC metadata.
		{"ocp-apim", "http.request.header.ocp-apim-subscription-key", "c4n4ryF1", Redacted},
		{"x-functions-key", "http.request.header.x-functions-key", "c4n4ryF2", Redacted},
		{"private-token", "http.request.header.private-token", "c4n4ryF3", Redacted},
		{"x-vault-token", "http.request.header.x-vault-token", "c4n4ryF4", Redacted},
		{"x-api-token", "http.request.header.x-api-token", "c4n4ryF5", Redacted},
		{"grpc authorization", "rpc.grpc.request.metadata.authorization", "Bearer c4n4ryF6", "Bearer REDACTED"},
		{"grpc cookie", "rpc.grpc.response.metadata.set-cookie", "c4n4ryF7", Redacted},
		{"grpc harmless", "rpc.grpc.request.metadata.x-request-id", "r-1", "r-1"},
		{"vendor header in text", "", "Ocp-Apim-Subscription-Key: c4n4ryF8", "Ocp-Apim-Subscription-Key: REDACTED"},
		// Readability kept.
		{"prose token", "", "the token expired at noon", "the token expired at noon"},
		{"prose basic", "", "basic auth is off", "basic auth is off"},
		{"status code", "", "exit code=1 after response=200", "exit code=1 after response=200"},
		{"max tokens", "gen_ai.request.max_tokens", "100", "100"},
		{"harmless key", "http.route", "/token/{id}", "/token/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := r.String(tt.key, tt.in)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "c4n4ry")
			again, changed := r.String(tt.key, got)
			assert.Equal(t, got, again, "second pass")
			assert.False(t, changed, "second pass")
		})
	}
}

// A request dumped with httputil.DumpRequest (a common debugging line)
// keeps its shape and loses its credentials.
func TestRedactDumpedRequest(t *testing.T) {
	r := newTestRedactor(t)
	req, err := http.NewRequest(http.MethodGet, "https://api.example.com/x?page=2", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", "sid=c4n4ryG1; theme=c4n4ryG2")
	req.Header.Set("X-Auth-Token", "c4n4ryG3")
	req.Header.Set("Proxy-Authorization", "Basic c4n4ryG4")
	req.Header.Set("Authorization", `Digest username="bob", response="c4n4ryG5"`)
	req.Header.Set("Accept", "text/html")
	dump, err := httputil.DumpRequest(req, false)
	require.NoError(t, err)
	got, changed := r.String("", string(dump))
	assert.True(t, changed)
	assert.NotContains(t, got, "c4n4ry")
	assert.Contains(t, got, "Accept: text/html\r\n")
	assert.Contains(t, got, "Cookie: REDACTED\r\n")
	assert.Contains(t, got, "X-Auth-Token: REDACTED\r\n")
	assert.Contains(t, got, "Proxy-Authorization: Basic REDACTED\r\n")
	assert.Contains(t, got, "Authorization: Digest REDACTED\r\n")
	assert.True(t, strings.HasPrefix(got, "GET /x?page=2 HTTP/1.1\r\n"), got)

	// Go's %v of the header map.
	got, _ = r.String("", "headers="+strings.ReplaceAll(strings.TrimSpace(
		"map[Cookie:[sid=c4n4ryG1; theme=c4n4ryG2] X-Auth-Token:[c4n4ryG3]]"), "\n", ""))
	assert.NotContains(t, got, "c4n4ry")
}
