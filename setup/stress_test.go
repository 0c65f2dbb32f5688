package setup_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/logbridge"
	"github.com/otelbearer/otelbearer/setup"
)

// The long runs: `make stress` (OTELBEARER_STRESS=1).
func stress(t *testing.T) {
	if os.Getenv("OTELBEARER_STRESS") == "" {
		t.Skip("set OTELBEARER_STRESS=1 (make stress)")
	}
}

// service is the middleware over a mux that allows even and denies odd
// items, with the providers' pipelines.
func service(lp log.LoggerProvider, tp trace.TracerProvider) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.PathValue("id"), "1") {
			otelbearer.Deny(r.Context(), "not_owner", r.PathValue("id"))
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		otelbearer.Allow(r.Context(), "owner", r.PathValue("id"))
	})
	return otelbearer.NewHandler(mux, "api", otelbearer.WithLoggerProvider(lp),
		otelbearer.WithOtelHTTPOptions(otelhttp.WithTracerProvider(tp)),
		otelbearer.WithValidator(validator), otelbearer.WithFingerprintKey([]byte("stress-fingerprint-key")))
}

// authorization returns request i's header: valid, invalid, missing,
// malformed and Basic credentials in turn.
func authorization(i int) string {
	return [...]string{"Bearer " + token, "Bearer wrong-token", "", "Bearer", "Basic dXNlcjpwdw=="}[i%5]
}

// drive sends requests to url with conc clients until n are sent (n > 0)
// or d has passed; it returns how many it sent. With a nil h it goes over
// HTTP; else it calls h.ServeHTTP (no network: the highest rate).
func drive(t *testing.T, h http.Handler, url string, conc, n int, d time.Duration) int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if (n > 0 && i >= n) || (n == 0 && time.Now().After(deadline)) {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/items/%d", url, i), nil)
				if a := authorization(i); a != "" {
					req.Header.Set("Authorization", a)
				}
				if h != nil {
					req.RemoteAddr = "192.0.2.1:1234"
					h.ServeHTTP(httptest.NewRecorder(), req)
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	require.Zero(t, failed.Load(), "requests failed")
	sent := int(next.Load()) - conc
	if n > 0 {
		sent = n
	}
	return sent
}

// authnPaths counts the received otelbearer.authn records by url.path.
func authnPaths(rcv *otlptest.Receiver) map[string]int {
	out := map[string]int{}
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					if r.GetEventName() != otelbearer.AuditEventAuthn {
						continue
					}
					for _, kv := range r.GetAttributes() {
						if kv.GetKey() == "url.path" {
							out[kv.GetValue().GetStringValue()]++
						}
					}
				}
			}
		}
	}
	return out
}

// auditRecords counts the received audit records (authn and authz).
func auditRecords(rcv *otlptest.Receiver) int {
	n := 0
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					if e := r.GetEventName(); e == otelbearer.AuditEventAuthn || e == otelbearer.AuditEventAuthz {
						n++
					}
				}
			}
		}
	}
	return n
}

func exactlyOnce(t *testing.T, rcv *otlptest.Receiver, sent int) (lost, dup int) {
	t.Helper()
	got := authnPaths(rcv)
	for i := range sent {
		switch c := got[fmt.Sprintf("/items/%d", i)]; {
		case c == 0:
			lost++
		case c > 1:
			dup += c - 1
		}
	}
	return lost, dup
}

// TestStressMixedRequests: 10,000 mixed requests at concurrency 64
// through the middleware; every authn record arrives exactly once. The
// SDK's batch processor with its defaults runs the same load for
// comparison (reported, not asserted).
func TestStressMixedRequests(t *testing.T) {
	stress(t)
	const n, conc = 10000, 64
	for _, tc := range []struct{ variant, transport string }{
		{"setup", "http"}, {"sdk-batch-defaults", "http"}, {"setup", "direct"}, {"sdk-batch-defaults", "direct"},
	} {
		variant := tc.variant
		t.Run(variant+"/"+tc.transport, func(t *testing.T) {
			rcv := otlptest.Start(t)
			env(t, rcv.Addr())
			var lp *sdklog.LoggerProvider
			var shutdown func(context.Context) error
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			if variant == "setup" {
				p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithMetricReader(sdkmetric.NewManualReader()))
				require.NoError(t, err)
				lp, shutdown = p.LoggerProvider, p.Shutdown
			} else {
				exp, err := otlploggrpc.New(t.Context())
				require.NoError(t, err)
				lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(logbridge.NewProcessor(sdklog.NewBatchProcessor(exp))))
				shutdown = lp.Shutdown
			}
			srv := httptest.NewServer(service(lp, tp))
			defer srv.Close()
			var h http.Handler
			if tc.transport == "direct" {
				h = service(lp, tp)
			}
			start := time.Now()
			sent := drive(t, h, srv.URL, conc, n, 0)
			elapsed := time.Since(start)
			srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := shutdown(ctx)
			lost, dup := exactlyOnce(t, rcv, sent)
			t.Logf("%s/%s: %d requests in %v (%.0f req/s), %d authn records lost, %d duplicated, shutdown err=%v",
				variant, tc.transport, sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds(), lost, dup, err)
			if variant == "setup" {
				require.NoError(t, err)
				assert.Zero(t, lost)
				assert.Zero(t, dup)
			}
		})
	}
}

// TestStressSlowReceiver: a receiver answering every export in 200 ms,
// requests as fast as this machine serves them for
// OTELBEARER_STRESS_DURATION (default 10s); no authn record is lost.
func TestStressSlowReceiver(t *testing.T) {
	stress(t)
	d := 10 * time.Second
	if v, err := time.ParseDuration(os.Getenv("OTELBEARER_STRESS_DURATION")); err == nil {
		d = v
	}
	for _, tc := range []struct {
		name   string
		direct bool // ServeHTTP without the network: the highest rate
		opts   []setup.Option
		lossOK bool // drops allowed: assert only that every loss is counted
	}{
		// Without blocking, a rate above what the slow receiver drains
		// (about 2,500 records/s) fills the queue and drops; whether the
		// HTTP variant gets there depends on the machine's speed.
		{"http/defaults", false, nil, true},
		{"http/blocking", false, []setup.Option{setup.WithAuditBlocking(time.Second)}, false},
		{"direct/defaults", true, nil, true},
		{"direct/blocking", true, []setup.Option{setup.WithAuditBlocking(time.Second)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			env(t, rcv.Addr())
			rcv.SetDelay(200 * time.Millisecond)
			reader := sdkmetric.NewManualReader()
			p, err := setup.Start(t.Context(), append([]setup.Option{setup.WithoutGlobal(), setup.WithMetricReader(reader),
				setup.WithShutdownBudget(0, 5*time.Minute)}, tc.opts...)...)
			require.NoError(t, err)
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			srv := httptest.NewServer(service(p.LoggerProvider, tp))
			defer srv.Close()

			var maxQ int64
			stopSampling := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stopSampling:
						return
					case <-time.After(250 * time.Millisecond):
						maxQ = max(maxQ, sum(t, reader, "otelbearer.log.queue.size", ""))
					}
				}
			})
			start := time.Now()
			var h http.Handler
			if tc.direct {
				h = service(p.LoggerProvider, tp)
			}
			sent := drive(t, h, srv.URL, 64, 0, d)
			elapsed := time.Since(start)
			close(stopSampling)
			wg.Wait()
			srv.Close()
			dropped := sum(t, reader, "otelbearer.audit.dropped", "")
			drainStart := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			err = p.Shutdown(ctx)
			lost, dup := exactlyOnce(t, rcv, sent)
			t.Logf("%s: %d requests in %v (%.0f req/s), max queue %d, drain at shutdown %v, dropped %d, lost %d, duplicated %d, err=%v",
				tc.name, sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds(), maxQ,
				time.Since(drainStart).Round(time.Millisecond), dropped, lost, dup, err)
			assert.Zero(t, dup)
			if tc.lossOK {
				// One authn record a request, one authz record for each valid
				// token (every fifth request): every one not received was counted.
				want := sent + (sent+4)/5
				assert.EqualValues(t, want-auditRecords(rcv), dropped, "every loss is counted")
				return
			}
			require.NoError(t, err)
			assert.Zero(t, lost)
		})
	}
}
