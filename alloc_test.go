package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The allocations a request with a valid token costs on top of otelhttp
// alone, on the same TracerProvider: with the validator (whose claims and
// the scope slice account for some), and the audit record on top of that.
// A regression guard: the budgets are the counts measured in BENCHMARKS.md.
func TestAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not pinned under -race")
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(NewSpanProcessor()),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(discard{})),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(nopLogProcessor{}))
	defer func() { _ = lp.Shutdown(context.Background()) }()
	otel := otelhttp.WithTracerProvider(tp)

	allocs := func(h http.Handler) float64 {
		r := httptest.NewRequest(http.MethodGet, "/api/data/alice-1", nil)
		r.Header.Set("Authorization", "Bearer "+tokAlice)
		w := httptest.NewRecorder()
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
	}
	base := allocs(otelhttp.NewHandler(okHandler, "api", otel))
	ours := allocs(NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
		WithLoggerProvider(lognoop.NewLoggerProvider()), WithOtelHTTPOptions(otel)))
	audit := allocs(NewHandler(okHandler, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
		WithLoggerProvider(lp), WithOtelHTTPOptions(otel)))
	t.Logf("otelhttp %v, otelbearer %v, with the audit record %v", base, ours, audit)
	assert.LessOrEqual(t, ours-base, 14.0, "otelbearer over otelhttp")
	assert.LessOrEqual(t, audit-ours, 9.0, "the audit record")
}

// nopLogProcessor keeps nothing: the audit record is built and emitted.
type nopLogProcessor struct{}

func (nopLogProcessor) OnEmit(context.Context, *sdklog.Record) error           { return nil }
func (nopLogProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (nopLogProcessor) Shutdown(context.Context) error                         { return nil }
func (nopLogProcessor) ForceFlush(context.Context) error                       { return nil }
