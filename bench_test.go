package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is a SpanExporter that drops everything.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// benchProvider is the benchmark baseline: AlwaysSample, our span
// processors, a batch processor to a discarding exporter.
func benchProvider(b *testing.B) *sdktrace.TracerProvider {
	r, err := NewRedactor()
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(NewSpanProcessor()),
		sdktrace.WithSpanProcessor(NewRedactingSpanProcessor(sdktrace.NewBatchSpanProcessor(discard{}), r)),
	)
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

func benchServe(b *testing.B, h http.Handler) {
	r := httptest.NewRequest(http.MethodGet, "/api/data/alice-1", nil)
	r.Header.Set("Authorization", "Bearer "+tokAlice)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkHandler compares the same request with a valid token through a
// bare handler, otelhttp alone and otelbearer (no LoggerProvider: the audit
// record's cost is BenchmarkHandlerAudit).
func BenchmarkHandler(b *testing.B) {
	tp := benchProvider(b)
	b.Run("bare", func(b *testing.B) { benchServe(b, okHandler) })
	b.Run("otelhttp", func(b *testing.B) {
		benchServe(b, otelhttp.NewHandler(okHandler, "api", otelhttp.WithTracerProvider(tp)))
	})
	b.Run("otelbearer", func(b *testing.B) {
		benchServe(b, NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
			WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp))))
	})
	// No validator: the token is fingerprinted and recorded as
	// token_unverified; no claims reach the span.
	b.Run("otelbearer-unverified", func(b *testing.B) {
		benchServe(b, NewHandler(okHandler, "api", WithFingerprintKey(testKey),
			WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp))))
	})
}

// BenchmarkHandlerAudit is otelbearer with a LoggerProvider whose processor
// keeps nothing, so the audit record is built and emitted every request.
func BenchmarkHandlerAudit(b *testing.B) {
	tp := benchProvider(b)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(nopLogProcessor{}))
	b.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	benchServe(b, NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
		WithLoggerProvider(lp), WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp))))
}

type nopLogProcessor struct{}

func (nopLogProcessor) OnEmit(context.Context, *sdklog.Record) error           { return nil }
func (nopLogProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (nopLogProcessor) Shutdown(context.Context) error                         { return nil }
func (nopLogProcessor) ForceFlush(context.Context) error                       { return nil }

// BenchmarkSpanProcessor is the per-span cost of stamping a child span.
func BenchmarkSpanProcessor(b *testing.B) {
	tp := benchProvider(b)
	bare := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(discard{})))
	b.Cleanup(func() { _ = bare.Shutdown(context.Background()) })
	var ctx context.Context
	NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { ctx = r.Context() }), "api",
		WithFingerprintKey(testKey), WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp))).
		ServeHTTP(httptest.NewRecorder(), bearer(get("/"), tokAlice))
	for name, p := range map[string]*sdktrace.TracerProvider{"sdk": bare, "otelbearer": tp} {
		b.Run(name, func(b *testing.B) {
			tr := p.Tracer("bench")
			b.ReportAllocs()
			for b.Loop() {
				_, s := tr.Start(ctx, "child")
				s.End()
			}
		})
	}
}
