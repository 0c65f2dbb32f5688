package otelbearer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var allEvents = []AuthEvent{AuthTokenMissing, AuthTokenMalformed, AuthTokenInvalid, AuthTokenExpired,
	AuthTokenRevoked, AuthTokenValid, AuthTokenUnverified}

const fuzzMaxHeader = 256

// FuzzHandler sends arbitrary Authorization values and access_token query
// values through the whole middleware (span processor, audit records):
// never a panic, always a known auth.event, and a well-formed token never
// appears in anything recorded or answered.
//
// A token may equal text the middleware records for every request of its
// kind ("token_invalid", a path, a scheme): the fuzzer feeds such strings
// back as inputs. So a token counts as leaked only when it occurs more
// often than in the same request with the token replaced by a canary of
// the same length and shape, which takes the same path through the code.
// testdata/fuzz/FuzzHandler keeps inputs of that kind.
func FuzzHandler(f *testing.F) {
	f.Add("Bearer abc", "")
	f.Add("", "qtok")
	f.Add("Bearer a b", "x")
	f.Add("Basic dTpw", "")
	f.Add("bearer\tZm9v==", "")
	f.Add("Bearer "+tokExpired+" \t", "")
	f.Fuzz(func(t *testing.T, auth, query string) {
		run := fuzzServe(t, testValidator, auth, query)
		if run.status < 400 {
			t.Fatalf("status %d for an unknown token", run.status)
		}
		if len(run.spans) != 1 {
			t.Fatalf("%d spans", len(run.spans))
		}
		ev := AuthEvent(attrMap(run.spans[0].Attributes())[AuthEventKey])
		if !slices.Contains(allEvents, ev) {
			t.Fatalf("unknown auth.event %q", ev)
		}
		for _, c := range fuzzCredentials(t, auth, query) {
			base := fuzzServe(t, testValidator, c.auth, c.query)
			if n, m := leaked(run.text, base.text, c.token); n > m {
				t.Fatalf("token %q recorded %d times, %d times when a canary replaces it:\n%s", c.token, n, m, run.text)
			}
		}
	})
}

// fuzzRun is what one request left behind.
type fuzzRun struct {
	status int
	spans  []sdktrace.ReadOnlySpan
	text   string // everything recorded and answered, fingerprint masked
}

// fuzzServe sends one request through the middleware around next and
// serializes, without timestamps or ids, every span and record and the
// response. The request's own fingerprint, which differs from token to
// token, is masked.
func fuzzServe(t *testing.T, v Validator, auth, query string) fuzzRun {
	h := newHarness(t)
	handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(v), WithMaxHeaderBytes(fuzzMaxHeader))...)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["Authorization"] = []string{auth}
	if query != "" {
		r.URL.RawQuery = "access_token=" + url.QueryEscape(query)
	}
	res := serve(handler, r)
	body, _ := io.ReadAll(res.Body)

	var b strings.Builder
	kvs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.String())
		}
		b.WriteByte('\n')
	}
	spans := h.spans.Ended()
	fp := ""
	for _, s := range spans {
		if v, ok := attrMap(s.Attributes())[TokenFingerprintKey]; ok {
			fp = v
		}
		fmt.Fprintf(&b, "span %s %s %q", s.Name(), s.Status().Code, s.Status().Description)
		kvs(s.Attributes())
		for _, e := range s.Events() {
			b.WriteString("event " + e.Name)
			kvs(e.Attributes)
		}
		for _, l := range s.Links() {
			b.WriteString("link")
			kvs(l.Attributes)
		}
	}
	for _, rec := range h.logs.records() {
		fmt.Fprintf(&b, "log %s %s %s", rec.EventName(), rec.SeverityText(), rec.Body().AsString())
		var attrs []attribute.KeyValue
		rec.WalkAttributes(func(kv attribute.KeyValue) bool { attrs = append(attrs, kv); return true })
		kvs(attrs)
	}
	fmt.Fprintf(&b, "response %d %v %s", res.StatusCode, res.Header, body)
	text := b.String()
	if fp != "" {
		text = strings.ReplaceAll(text, fp, "<fingerprint>")
	}
	return fuzzRun{status: res.StatusCode, spans: spans, text: text}
}

// leaked counts token in what was recorded with it and in what was
// recorded with a canary in its place. n > m is a leak; n == m > 0 is
// text that every such request records.
func leaked(with, without, token string) (n, m int) {
	return strings.Count(with, token), strings.Count(without, token)
}

// fuzzCredential is a well-formed token of a request and the same request
// with a canary in its place.
type fuzzCredential struct {
	token, auth, query string
}

// fuzzCredentials returns the well-formed tokens auth and query carry,
// whether or not the request used them (two methods are malformed, yet
// neither token may be recorded).
func fuzzCredentials(t *testing.T, auth, query string) []fuzzCredential {
	var out []fuzzCredential
	if tok := parseAuthorization(auth, fuzzMaxHeader).token; tok != "" {
		// The header's token is what ends it, before trailing OWS.
		end := len(strings.TrimRight(auth, " \t"))
		start := end - len(tok)
		require.Equal(t, tok, auth[start:end])
		if c, ok := canaryFor(tok); ok {
			out = append(out, fuzzCredential{tok, auth[:start] + c + auth[end:], query})
		}
	}
	if query != "" && isB64Token(query) {
		if c, ok := canaryFor(query); ok {
			out = append(out, fuzzCredential{query, auth, c})
		}
	}
	return out
}

// canaryFor returns a token of tok's length made of one character that tok
// does not contain, so it can neither contain tok nor be a token the test
// validator knows. ok is false when tok uses every candidate character.
func canaryFor(tok string) (string, bool) {
	const chars = "QZXJKVWqzxjkvw0123456789ABCDEFGHILMNOPRSTUYabcdefghilmnoprstuy-._~+/"
	for i := range len(chars) {
		if strings.IndexByte(tok, chars[i]) < 0 {
			return strings.Repeat(chars[i:i+1], len(tok)), true
		}
	}
	return "", false
}

// The leak check tells a coincidence from a leak: a token equal to what
// every invalid request records is no leak, and the same token copied into
// a span attribute is one. The check it replaces flagged both.
func TestFuzzHandlerLeakCheck(t *testing.T) {
	leaky := ValidatorFunc(func(ctx context.Context, tok string) (Claims, error) {
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("debug.token", tok))
		return testValidator(ctx, tok)
	})
	tests := []struct {
		name         string
		auth, query  string
		v            Validator
		occurs, leak bool
	}{
		{"auth.event value as token", "Bearer token_invalid", "", testValidator, true, false},
		{"auth.event value as query token", "", "token_invalid", testValidator, true, false},
		{"fingerprint-like token", "Bearer 00000000", "", testValidator, false, false},
		{"token copied into an attribute", "Bearer token_invalid", "", leaky, true, true},
		{"opaque token copied", "Bearer c4n4ry-opaque", "", leaky, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := fuzzCredentials(t, tt.auth, tt.query)
			require.Len(t, creds, 1)
			c := creds[0]
			run := fuzzServe(t, tt.v, tt.auth, tt.query)
			base := fuzzServe(t, tt.v, c.auth, c.query)
			assert.Equal(t, tt.occurs, strings.Contains(run.text, c.token), "the token occurs in what was recorded")
			n, m := leaked(run.text, base.text, c.token)
			assert.Equal(t, tt.leak, n > m, "%d with the token, %d with a canary", n, m)
		})
	}
}

func TestCanaryFor(t *testing.T) {
	c, ok := canaryFor("QQZ.token")
	require.True(t, ok)
	assert.Equal(t, "XXXXXXXXX", c)
	assert.True(t, isB64Token(c))
	_, ok = canaryFor("QZXJKVWqzxjkvw0123456789ABCDEFGHILMNOPRSTUYabcdefghilmnoprstuy-._~+/")
	assert.False(t, ok)
}
