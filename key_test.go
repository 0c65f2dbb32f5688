package otelbearer

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
)

// TestKeyNeverPrints prints a key every way a program might: every fmt
// verb and flag, inside structs as an exported and an unexported field,
// through a pointer, slog, encoding/json, encoding/xml and log.
func TestKeyNeverPrints(t *testing.T) {
	const secret = "super-secret-key-bytes"
	k := newKey([]byte(secret))
	type exported struct{ Key key }
	type unexported struct {
		name string
		key  key
	}
	type nested struct {
		u  unexported
		p  *key
		ks []key
		m  map[string]key
	}
	values := []any{k, &k, exported{k}, &exported{k}, unexported{"n", k}, &unexported{"n", k},
		nested{unexported{"n", k}, &k, []key{k}, map[string]key{"k": k}}, []key{k}, map[string]key{"k": k}}
	// The secret's bytes as fmt would print them with numeric verbs.
	forms := []string{secret, fmt.Sprint([]byte(secret)), fmt.Sprintf("%x", secret), fmt.Sprintf("%X", secret),
		fmt.Sprintf("%o", []byte(secret)[:4]), fmt.Sprintf("%q", secret), fmt.Sprintf("%v", []byte(secret)[:4])[1:8]}
	var out []string
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%o", "%b", "%c",
			"%U", "%e", "%t", "%p", "%T", "%10.3v", "%-8s", "%08d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
		b, err := json.Marshal(v)
		if err == nil {
			out = append(out, string(b))
		}
		if b, err := xml.Marshal(v); err == nil {
			out = append(out, string(b))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("k", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("k", "v", v)
		log.New(&buf, "", 0).Print(v)
		out = append(out, buf.String())
	}
	all := strings.Join(out, "\n")
	for _, f := range forms {
		assert.NotContains(t, all, f)
	}
	assert.Contains(t, all, "[REDACTED]")
	b, err := json.Marshal(exported{k})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Key":"[REDACTED]"}`, string(b))
	txt, err := k.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "[REDACTED]", string(txt))
}

func TestParseKey(t *testing.T) {
	for _, n := range []int{0, 1, 8, 15} {
		k, err := parseKey(bytes.Repeat([]byte{'k'}, n))
		require.ErrorIs(t, err, ErrShortKey, n)
		assert.True(t, k.isZero())
	}
	k, err := parseKey(bytes.Repeat([]byte{'k'}, minKeyBytes))
	require.NoError(t, err)
	assert.False(t, k.isZero())
}

// errCapture collects what otel.Handle receives while a test runs.
type errCapture struct {
	mu   sync.Mutex
	errs []error
}

func (c *errCapture) Handle(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *errCapture) all() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

func captureKeyErrors(t *testing.T) *errCapture {
	c := &errCapture{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(c)
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return c
}

// TestShortKeyRecordsNoFingerprint: a key shorter than minKeyBytes, as an
// option or in the environment, is reported through otel.Handle and no
// fingerprint is recorded (neither keyed by the weak key nor unkeyed);
// authentication and enforcement are unchanged.
func TestShortKeyRecordsNoFingerprint(t *testing.T) {
	const short = "short-key"
	weak := []string{
		newFingerprinter(newKey([]byte(short))).Fingerprint(tokAlice),
		newFingerprinter(key{}).Fingerprint(tokAlice),
	}
	for _, how := range []string{"option", "env"} {
		t.Run(how, func(t *testing.T) {
			errs := captureKeyErrors(t)
			h := newHarness(t)
			opts := []Option{WithLoggerProvider(h.lp), WithOtelHTTPOptions(otelhttpTP(h.tp)), WithValidator(testValidator)}
			if how == "option" {
				opts = append(opts, WithFingerprintKey([]byte(short)))
			} else {
				t.Setenv(FingerprintKeyEnv, short)
			}
			handler := NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), "api", opts...)
			var found bool
			for _, err := range errs.all() {
				found = found || errors.Is(err, ErrShortKey)
				assert.NotContains(t, err.Error(), short, "the error never carries the key")
			}
			require.True(t, found, "the short key is reported through otel.Handle")

			assert.Equal(t, 200, serve(handler, bearer(httptest.NewRequest(http.MethodGet, "/", nil), tokAlice)).StatusCode)
			assert.Equal(t, 401, serve(handler, bearer(httptest.NewRequest(http.MethodGet, "/", nil), "forged.token")).StatusCode)
			spans := h.spans.Ended()
			require.Len(t, spans, 2)
			server := attrMap(spans[0].Attributes())
			assert.NotContains(t, server, TokenFingerprintKey)
			assert.Equal(t, "token_valid", server[AuthEventKey])
			require.Len(t, h.logs.records(), 2)
			assert.NotContains(t, recordAttrs(h.logs.records()[0]), TokenFingerprintKey)
			h.requireAbsent(t, append(weak, tokAlice)...)

			rt := NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 204, Body: http.NoBody}, nil
			}), opts...)
			out := bearer(httptest.NewRequest(http.MethodGet, "http://upstream/", nil), tokAlice)
			out.RequestURI = ""
			res, err := rt.RoundTrip(out)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			spans = h.spans.Ended()
			require.Len(t, spans, 3)
			assert.NotContains(t, attrMap(spans[2].Attributes()), TokenOutgoingFingerprintKey)
			h.requireAbsent(t, append(weak, tokAlice)...)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestKeyFromEnvWarnsOnSpace: a key with a trailing newline is used as it
// is, and said once through otel.Handle.
func TestKeyFromEnvWarnsOnSpace(t *testing.T) {
	errs := captureKeyErrors(t)
	warnKeySpace = sync.Once{}
	t.Setenv(FingerprintKeyEnv, "a-key-from-a-file-of-32-bytes-xx\n")
	for range 3 {
		k, err := keyFromEnv()
		require.NoError(t, err)
		assert.Equal(t, newFingerprinter(newKey([]byte("a-key-from-a-file-of-32-bytes-xx\n"))).Fingerprint("t"),
			newFingerprinter(k).Fingerprint("t"))
	}
	var n int
	for _, err := range errs.all() {
		if errors.Is(err, errKeySpace) {
			n++
		}
		assert.NotContains(t, err.Error(), "a-key-from")
	}
	assert.Equal(t, 1, n, "warned once")
}
