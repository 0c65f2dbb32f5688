package otelbearer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestLoad (make bench-load; only with OTELBEARER_LOAD=1) serves a small
// API on loopback under a closed-loop load generator — 32 connections
// sending GET with a valid bearer token for a fixed time — once behind
// otelhttp alone, behind otelbearer (validator, audit record on) and
// behind otelbearer without the audit record, all exporting through batch
// processors to exporters that drop everything. The three alternate over
// three rounds; it reports requests per second and p50 / p99 latency, and
// asserts nothing (timing on a shared machine is not a test).
func TestLoad(t *testing.T) {
	if os.Getenv("OTELBEARER_LOAD") == "" {
		t.Skip("set OTELBEARER_LOAD=1 (make bench-load)")
	}
	dur := 5 * time.Second
	if d, err := time.ParseDuration(os.Getenv("OTELBEARER_LOAD_DURATION")); err == nil {
		dur = d
	}
	const conns = 32
	r, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(NewSpanProcessor()),
		sdktrace.WithSpanProcessor(NewRedactingSpanProcessor(sdktrace.NewBatchSpanProcessor(discard{}), r)),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
	defer func() { _ = lp.Shutdown(context.Background()) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/data/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, "{\"id\":%q}\n", r.PathValue("id"))
	})
	otel := otelhttp.WithTracerProvider(tp)
	variants := []struct {
		name string
		h    http.Handler
	}{
		{"otelhttp", otelhttp.NewHandler(mux, "api", otel)},
		{"otelbearer", NewHandler(mux, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
			WithLoggerProvider(lp), WithOtelHTTPOptions(otel))},
		{"no-audit", NewHandler(mux, "api", WithFingerprintKey(testKey), WithValidator(testValidator),
			WithLoggerProvider(lognoop.NewLoggerProvider()), WithOtelHTTPOptions(otel))},
	}
	rps := map[string][]float64{}
	for round := 1; round <= 3; round++ {
		for _, v := range variants {
			n, lat := load(t, v.h, conns, dur)
			rps[v.name] = append(rps[v.name], float64(n)/dur.Seconds())
			t.Logf("round %d %-10s %8.0f req/s  p50 %v  p99 %v", round, v.name,
				float64(n)/dur.Seconds(), quantile(lat, 0.50), quantile(lat, 0.99))
		}
	}
	for i := range rps["otelhttp"] {
		t.Logf("round %d throughput / otelhttp's: otelbearer %.2f, without the audit record %.2f", i+1,
			rps["otelbearer"][i]/rps["otelhttp"][i], rps["no-audit"][i]/rps["otelhttp"][i])
	}
}

// load serves h on loopback and sends requests on conns connections for
// dur; it returns the count and every latency.
func load(t *testing.T, h http.Handler, conns int, dur time.Duration) (int, []time.Duration) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	deadline := time.Now().Add(dur)
	lats := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/data/alice-1", nil)
			req.Header.Set("Authorization", "Bearer "+tokAlice)
			for time.Now().Before(deadline) {
				start := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lats[i] = append(lats[i], time.Since(start))
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lats...)
	slices.Sort(all)
	return len(all), all
}

// quantile returns the q-quantile of sorted, 0 when empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))].Round(time.Microsecond)
}
