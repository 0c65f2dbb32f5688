package setup_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const token = "setup-canary-tok1"

var validator = otelbearer.ValidatorFunc(func(_ context.Context, tok string) (otelbearer.Claims, error) {
	if tok == token {
		return otelbearer.Claims{Subject: "alice"}, nil
	}
	return otelbearer.Claims{}, otelbearer.ErrTokenInvalid
})

// env points the OTLP exporters at addr.
func env(t *testing.T, addr string) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+addr)
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	t.Setenv("OTEL_SERVICE_NAME", "setup-test")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
}

// serveOne serves one request with token through otelbearer.NewHandler;
// the handler logs its headers and puts the Authorization header on its
// span, both of which the pipelines must redact.
func serveOne(t *testing.T, p *setup.Providers, opts ...otelbearer.Option) int {
	t.Helper()
	var logger *slog.Logger
	if p != nil {
		logger = slog.New(otelslog.NewHandler("app", otelslog.WithLoggerProvider(p.LoggerProvider)))
		opts = append(opts, otelbearer.WithLoggerProvider(p.LoggerProvider),
			otelbearer.WithOtelHTTPOptions(otelhttp.WithTracerProvider(p.TracerProvider)))
	} else {
		logger = slog.New(otelslog.NewHandler("app"))
	}
	opts = append(opts, otelbearer.WithValidator(validator), otelbearer.WithFingerprintKey([]byte("setup-test-fingerprint-key")))
	h := otelbearer.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(
			attribute.String("http.request.header.authorization", r.Header.Get("Authorization")))
		logger.InfoContext(r.Context(), "handled", "headers", r.Header)
	}), "api", opts...)
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestStartExportsRedactedSpansAndLogs(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	p, err := setup.Start(t.Context(), setup.WithoutGlobal())
	require.NoError(t, err)
	require.NotNil(t, p.Redactor)

	require.Equal(t, http.StatusOK, serveOne(t, p))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))

	require.GreaterOrEqual(t, rcv.SpanCount(), 1)
	require.GreaterOrEqual(t, rcv.LogCount(), 2) // audit + application record
	fp := otelbearer.NewFingerprinter(otelbearer.NewKey([]byte("setup-test-fingerprint-key"))).Fingerprint(token)

	var spanHasFP bool
	for _, req := range rcv.Traces() {
		for _, rs := range req.GetResourceSpans() {
			assert.Contains(t, rs.GetResource().String(), "setup-test")
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					for _, kv := range s.GetAttributes() {
						if kv.GetKey() == "token.fingerprint" && kv.GetValue().GetStringValue() == fp {
							spanHasFP = true
						}
					}
				}
			}
		}
	}
	assert.True(t, spanHasFP, "server span carries token.fingerprint")

	seen := map[string]bool{}
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					name := r.GetEventName()
					if name == "" {
						name = r.GetBody().GetStringValue()
					}
					for _, kv := range r.GetAttributes() {
						if kv.GetKey() == "token.fingerprint" && kv.GetValue().GetStringValue() == fp {
							seen[name] = true
						}
					}
				}
			}
		}
	}
	assert.True(t, seen[otelbearer.AuditEventAuthn], "audit record stamped")
	assert.True(t, seen["handled"], "application record stamped")
	assert.False(t, rcv.Contains(token), "raw token reached the receiver")
	assert.True(t, rcv.Contains("Bearer "+otelbearer.Redacted))
}

// restoreGlobals puts the global providers back when t ends.
func restoreGlobals(t *testing.T) {
	prevTP, prevLP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetLoggerProvider(),
		otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetLoggerProvider(prevLP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
	})
}

func TestStartSetsGlobals(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	restoreGlobals(t)
	p, err := setup.Start(t.Context())
	require.NoError(t, err)
	assert.Same(t, p.TracerProvider, otel.GetTracerProvider())
	assert.Same(t, p.LoggerProvider, otel.GetLoggerProvider())
	assert.Same(t, p.MeterProvider, otel.GetMeterProvider())
	assert.ElementsMatch(t, []string{"traceparent", "tracestate", "baggage"}, otel.GetTextMapPropagator().Fields())

	require.Equal(t, http.StatusOK, serveOne(t, nil)) // global providers
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
	assert.GreaterOrEqual(t, rcv.SpanCount(), 1)
	assert.GreaterOrEqual(t, rcv.LogCount(), 2)
	assert.False(t, rcv.Contains(token))
}

func TestStartWithoutCollector(t *testing.T) {
	// A port nothing listens on: the request is served anyway.
	rcv := otlptest.Start(t)
	addr := rcv.Addr()
	rcv.Stop()
	env(t, addr)
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "100") // ms, retries included
	p, err := setup.Start(t.Context(), setup.WithoutGlobal())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, serveOne(t, p))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err = p.Shutdown(ctx) // the exports fail; Shutdown still returns
	t.Logf("Shutdown after %v: %v", time.Since(start), err)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestStartBadConfig(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=1,no-equals-sign")
	p, err := setup.Start(t.Context(), setup.WithoutGlobal())
	require.ErrorIs(t, err, resource.ErrPartialResource)
	assert.Nil(t, p)
}
