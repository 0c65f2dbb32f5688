package otelbearer

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is a SpanExporter that drops everything.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// discardLogs is a log Exporter that drops everything.
type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

// benchProvider is the benchmark's one TracerProvider: AlwaysSample, our
// span processors, a batch processor to a discarding exporter.
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

// benchLoggerProvider is the benchmark's one LoggerProvider: a batch
// processor to a discarding exporter, as a service ships audit records.
// Extra options such as sdklog.WithAllowKeyDuplication are appended.
func benchLoggerProvider(b *testing.B, opts ...sdklog.LoggerProviderOption) *sdklog.LoggerProvider {
	opts = append([]sdklog.LoggerProviderOption{sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{}))}, opts...)
	lp := sdklog.NewLoggerProvider(opts...)
	b.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

// benchServe serves the same request with a valid token b.N times and
// reports, beside ns/op, the CPU time of the whole process per request
// (cpu-ns/op: background export included, other processes excluded).
func benchServe(b *testing.B, h http.Handler) {
	r := httptest.NewRequest(http.MethodGet, "/api/data/alice-1", nil)
	r.Header.Set("Authorization", "Bearer "+tokAlice)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	c0, ok := cpuTime()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if c1, _ := cpuTime(); ok && b.N > 0 {
		b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkRequest serves one request with a valid token through every
// variant, one after the other in each run, so that runs repeated in a
// loop alternate them (see BENCHMARKS.md). All share one TracerProvider
// and, for the audit variants, one LoggerProvider.
//
//	v=otelhttp        otelhttp alone
//	v=floor           otelhttp plus the attributes of v=otelbearer, prebuilt, set in one call
//	v=peer            otelhttp plus a hand-written middleware: HMAC, the same validator, one SetAttributes
//	v=otelbearer      NewHandler with the validator, no audit record
//	v=otelbearer-nov  NewHandler without a validator (token_unverified), no audit record
//	v=peer-audit      v=peer writing one OTel log record with the same attributes
//	v=peer-slog       v=peer writing one slog JSON line with the same attributes
//	v=otelbearer-audit NewHandler with the validator and the audit record (the default)
//	v=*-audit-nodedup the audit variants with a LoggerProvider built with
//	                  sdklog.WithAllowKeyDuplication (neither repeats a key)
func BenchmarkRequest(b *testing.B) {
	tp := benchProvider(b)
	lp := benchLoggerProvider(b)
	lpDup := benchLoggerProvider(b, sdklog.WithAllowKeyDuplication())
	otel := otelhttp.WithTracerProvider(tp)
	noLogs := WithLoggerProvider(lognoop.NewLoggerProvider())
	variants := []struct {
		name string
		h    http.Handler
	}{
		{"otelhttp", otelhttp.NewHandler(okHandler, "api", otel)},
		{"floor", otelhttp.NewHandler(floorMiddleware(okHandler), "api", otel)},
		{"peer", otelhttp.NewHandler(newPeer(okHandler, nil, nil), "api", otel)},
		{"otelbearer", NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
			noLogs, WithOtelHTTPOptions(otel))},
		{"otelbearer-nov", NewHandler(okHandler, "api", WithFingerprintKey(testKey),
			noLogs, WithOtelHTTPOptions(otel))},
		{"peer-audit", otelhttp.NewHandler(newPeer(okHandler, lp, nil), "api", otel)},
		{"peer-slog", otelhttp.NewHandler(newPeer(okHandler, nil, discardSlog()), "api", otel)},
		{"otelbearer-audit", NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
			WithLoggerProvider(lp), WithOtelHTTPOptions(otel))},
		{"peer-audit-nodedup", otelhttp.NewHandler(newPeer(okHandler, lpDup, nil), "api", otel)},
		{"otelbearer-audit-nodedup", NewHandler(okHandler, "api", WithFingerprintKey(testKey),
			WithValidator(testValidator), WithLoggerProvider(lpDup), WithOtelHTTPOptions(otel))},
	}
	for _, v := range variants {
		b.Run("v="+v.name, func(b *testing.B) { benchServe(b, v.h) })
	}
}

// BenchmarkSpanProcessor is the per-span cost of stamping a child span.
func BenchmarkSpanProcessor(b *testing.B) {
	tp := benchProvider(b)
	bare := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(discard{})))
	b.Cleanup(func() { _ = bare.Shutdown(context.Background()) })
	var ctx context.Context
	NewHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { ctx = r.Context() }), "api",
		WithFingerprintKey(testKey), WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp))).
		ServeHTTP(httptest.NewRecorder(), bearer(get("/"), tokAlice))
	for _, v := range []struct {
		name string
		p    *sdktrace.TracerProvider
	}{{"sdk", bare}, {"otelbearer", tp}} {
		b.Run("v="+v.name, func(b *testing.B) {
			tr := v.p.Tracer("bench")
			b.ReportAllocs()
			for b.Loop() {
				_, s := tr.Start(ctx, "child")
				s.End()
			}
		})
	}
}

// BenchmarkLogEmit is the Logs SDK's own cost of one record with the 14
// attributes of an audit record, to a batch processor: with key
// deduplication (the SDK's default: sdk/log adds the API record's
// attributes one at a time and, for each, indexes those it holds — quadratic
// in their number), without it, and a slog JSON line for scale.
func BenchmarkLogEmit(b *testing.B) {
	attrs := []attribute.KeyValue{
		TokenFingerprintKey.String("0123456789abcdef0123456789abcdef"),
		AuthEventKey.String(string(AuthTokenValid)),
		AuthzDecisionKey.String(string(AuthzNone)),
		UserIDKey.String("alice"),
		ClientAddressKey.String("192.0.2.1"),
		httpMethodKey.String("GET"),
		urlPathKey.String("/api/data/alice-1"),
		httpStatusKey.Int(200),
		AuthSchemeKey.String(string(AuthSchemeBearer)),
		TokenSourceKey.String(string(TokenSourceHeader)),
		TokenIDKey.String("jti-a"),
		TokenScopesKey.StringSlice([]string{"read"}),
		TokenClientIDKey.String("cli"),
		TokenIssuerKey.String("https://issuer"),
	}
	emit := func(b *testing.B, l log.Logger) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			var rec log.Record
			rec.SetEventName(AuditEventAuthn)
			rec.SetTimestamp(time.Now())
			rec.SetSeverity(log.SeverityInfo)
			rec.SetBody(attribute.StringValue("authentication result: token_valid"))
			rec.AddAttributes(attrs...)
			l.Emit(ctx, rec)
		}
	}
	b.Run("v=sdk-dedup", func(b *testing.B) { emit(b, benchLoggerProvider(b).Logger("bench")) })
	b.Run("v=sdk-nodedup", func(b *testing.B) {
		emit(b, benchLoggerProvider(b, sdklog.WithAllowKeyDuplication()).Logger("bench"))
	})
	b.Run("v=slog-json", func(b *testing.B) {
		l := discardSlog()
		sattrs := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			sattrs[i] = slog.Any(string(a.Key), a.Value.AsInterface())
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(ctx, slog.LevelInfo, "authentication result: token_valid", sattrs...)
		}
	})
}
