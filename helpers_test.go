package otelbearer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

var testKey = []byte("test-fingerprint-key")

// Tokens the test validator knows.
const (
	tokAlice   = "alice.valid.token"
	tokBob     = "bob.valid.token"
	tokExpired = "expired.token"
	tokRevoked = "revoked.token"
	tokDown    = "validator.down.token"
)

var testValidator = ValidatorFunc(func(_ context.Context, tok string) (Claims, error) {
	switch tok {
	case tokAlice:
		return Claims{Subject: "alice", Scopes: []string{"read"}, TokenID: "jti-a", ClientID: "cli", Issuer: "https://issuer"}, nil
	case tokBob:
		return Claims{Subject: "bob", Scopes: []string{"read", "write"}}, nil
	case tokExpired:
		return Claims{}, fmt.Errorf("check: %w", ErrTokenExpired)
	case tokRevoked:
		return Claims{}, ErrTokenRevoked
	case tokDown:
		return Claims{}, fmt.Errorf("jwks: %w", ErrValidatorUnavailable)
	}
	return Claims{}, ErrTokenInvalid
})

// logRecorder is an sdk/log Processor keeping what it is given.
type logRecorder struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (l *logRecorder) OnEmit(_ context.Context, r *sdklog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}
func (*logRecorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*logRecorder) Shutdown(context.Context) error                         { return nil }
func (*logRecorder) ForceFlush(context.Context) error                       { return nil }

func (l *logRecorder) records() []sdklog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sdklog.Record(nil), l.recs...)
}

// harness is a TracerProvider with the stamping processor and a recorder,
// and a LoggerProvider with a recorder.
type harness struct {
	spans *tracetest.SpanRecorder
	logs  *logRecorder
	tp    *sdktrace.TracerProvider
	lp    *sdklog.LoggerProvider
}

func newHarness(t *testing.T) *harness {
	h := &harness{spans: tracetest.NewSpanRecorder(), logs: &logRecorder{}}
	h.tp = sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(NewSpanProcessor()),
		sdktrace.WithSpanProcessor(h.spans),
	)
	// Key duplication allowed, so a record built with a duplicate key shows it.
	h.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(h.logs), sdklog.WithAllowKeyDuplication())
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = h.lp.Shutdown(context.Background())
	})
	return h
}

// opts returns the options that route telemetry into h.
func (h *harness) opts(extra ...Option) []Option {
	return append([]Option{
		WithFingerprintKey(testKey),
		WithLoggerProvider(h.lp),
		WithTracerProvider(h.tp),
	}, extra...)
}

// serve sends r through handler and returns the response.
func serve(handler http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	return w.Result()
}

func (h *harness) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range h.spans.Ended() {
		if s.Name() == name {
			return s
		}
	}
	require.Failf(t, "span not found", "%q", name)
	return nil
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := make(map[attribute.Key]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func recordAttrs(r sdklog.Record) map[attribute.Key]string {
	var kvs []attribute.KeyValue
	r.WalkAttributes(func(kv attribute.KeyValue) bool { kvs = append(kvs, kv); return true })
	return attrMap(kvs)
}

// dump serializes everything recorded: names, attributes, events, status,
// log bodies and attributes.
func (h *harness) dump() string {
	var b strings.Builder
	for _, s := range h.spans.Ended() {
		fmt.Fprintf(&b, "%s %v %v %v\n", s.Name(), s.Attributes(), s.Events(), s.Status())
		for _, l := range s.Links() {
			fmt.Fprintf(&b, "%v\n", l.Attributes)
		}
	}
	for _, r := range h.logs.records() {
		body, _ := json.Marshal(r.Body().String())
		fmt.Fprintf(&b, "%s %s %s %v\n", r.EventName(), r.SeverityText(), body, recordAttrs(r))
	}
	return b.String()
}

// requireAbsent fails when secret appears anywhere in what h recorded.
func (h *harness) requireAbsent(t *testing.T, secrets ...string) {
	t.Helper()
	d := h.dump()
	require.NotEmpty(t, d, "nothing recorded: the check would prove nothing")
	for _, s := range secrets {
		require.NotContains(t, d, s)
	}
}

func newBareProvider(p sdktrace.SpanProcessor) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
}

func otelhttpTP(tp *sdktrace.TracerProvider) otelhttp.Option { return otelhttp.WithTracerProvider(tp) }

// TokenFingerprint returns the token.fingerprint attribute for fp.
func TokenFingerprint(fp string) attribute.KeyValue { return TokenFingerprintKey.String(fp) }

// AuthEventAttr returns the auth.event attribute for e.
func AuthEventAttr(e AuthEvent) attribute.KeyValue { return AuthEventKey.String(string(e)) }

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
