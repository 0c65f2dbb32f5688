package setup_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

// serveAndShutdown serves one request through p and shuts p down.
func serveAndShutdown(t *testing.T, p *setup.Providers) {
	t.Helper()
	require.Equal(t, http.StatusOK, serveOne(t, p))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
}

// TestStartOTLPProtocols: OTEL_EXPORTER_OTLP_PROTOCOL and its per-signal
// variants choose gRPC or OTLP/HTTP for each signal. Each receiver's HTTP
// port speaks only HTTP/1.1 and its gRPC port only gRPC, so a signal
// arrives only if its exporter used the protocol asked for.
func TestStartOTLPProtocols(t *testing.T) {
	tests := []struct {
		name string
		// env gets the gRPC receiver's and the HTTP receiver's addresses.
		env                   func(t *testing.T, grpcAddr, httpAddr string)
		spansHTTP, spansGRPC  bool
		logsHTTP, logsGRPC    bool
		metricsHTTP, metricsG bool
	}{
		{
			name:      "default is grpc",
			env:       func(t *testing.T, g, _ string) { env(t, g) },
			spansGRPC: true, logsGRPC: true, metricsG: true,
		},
		{
			name: "http/protobuf for all signals",
			env: func(t *testing.T, _, h string) {
				env(t, h)
				t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
			},
			spansHTTP: true, logsHTTP: true, metricsHTTP: true,
		},
		{
			name: "explicit grpc with otlp exporters",
			env: func(t *testing.T, g, _ string) {
				env(t, g)
				t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
				t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
				t.Setenv("OTEL_LOGS_EXPORTER", "otlp")
			},
			spansGRPC: true, logsGRPC: true, metricsG: true,
		},
		{
			name: "per-signal protocols",
			env: func(t *testing.T, g, h string) {
				env(t, g)
				t.Setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
				t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://"+h+"/v1/logs")
				t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
				t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://"+h+"/v1/metrics")
			},
			spansGRPC: true, logsHTTP: true, metricsHTTP: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grpcRcv, httpRcv := otlptest.Start(t), otlptest.Start(t)
			tt.env(t, grpcRcv.Addr(), httpRcv.HTTPAddr())
			p, err := setup.Start(t.Context(), setup.WithoutGlobal())
			require.NoError(t, err)
			serveAndShutdown(t, p)

			for _, c := range []struct {
				rcv                  *otlptest.Receiver
				spans, logs, metrics bool
				what                 string
			}{
				{grpcRcv, tt.spansGRPC, tt.logsGRPC, tt.metricsG, "gRPC"},
				{httpRcv, tt.spansHTTP, tt.logsHTTP, tt.metricsHTTP, "HTTP"},
			} {
				assert.Equal(t, c.spans, c.rcv.SpanCount() > 0, "spans over %s", c.what)
				assert.Equal(t, c.logs, c.rcv.LogCount() >= 2, "audit and application records over %s", c.what)
				assert.Equal(t, c.metrics, len(c.rcv.Metrics()) > 0, "metrics over %s", c.what)
				assert.False(t, c.rcv.Contains(token), "raw token reached the %s receiver", c.what)
				if c.spans || c.logs {
					assert.True(t, c.rcv.Contains("Bearer "+otelbearer.Redacted), "redacted over %s", c.what)
					assert.True(t, c.rcv.Contains("token.fingerprint"), "stamped over %s", c.what)
				}
			}
		})
	}
}

// TestStartExportersNone: OTEL_*_EXPORTER=none (any case) exports
// nothing, and requests are served as usual.
func TestStartExportersNone(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_LOGS_EXPORTER", "None")
	t.Setenv("OTEL_METRICS_EXPORTER", "NONE")
	p, err := setup.Start(t.Context(), setup.WithoutGlobal())
	require.NoError(t, err)
	serveAndShutdown(t, p)
	assert.Empty(t, rcv.Bytes(), "nothing exported")
}

// TestLogsNoneKeepsSpool: with OTEL_LOGS_EXPORTER=none the audit records
// a previous run spooled are neither exported into nothing nor deleted:
// they wait for a Start with an exporter.
func TestLogsNoneKeepsSpool(t *testing.T) {
	dir := t.TempDir()
	start := func(opts ...setup.Option) (*setup.Providers, error) {
		return setup.Start(t.Context(), append([]setup.Option{setup.WithoutGlobal(), setup.WithSpanExporter(discardSpans{}),
			setup.WithSpoolDir(dir, 0), setup.WithMetricReader(sdkmetric.NewManualReader())}, opts...)...)
	}
	p, err := start(setup.WithLogExporter(failExporter{}))
	require.NoError(t, err)
	for i := range 5 {
		emitAudit(p.LoggerProvider, i)
	}
	require.ErrorIs(t, p.Shutdown(t.Context()), setup.ErrRecordsSpooled)
	spooled := segments(t, dir)
	require.Positive(t, spooled)

	t.Setenv("OTEL_LOGS_EXPORTER", "none")
	p, err = start()
	require.NoError(t, err)
	emitAudit(p.LoggerProvider, 5)
	require.NoError(t, p.Shutdown(t.Context()))
	assert.Equal(t, spooled, segments(t, dir), "the spool is left for a run that exports")

	t.Setenv("OTEL_LOGS_EXPORTER", "")
	exp := newGateExporterOpen()
	p, err = start(setup.WithLogExporter(exp))
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(t.Context()))
	assert.Equal(t, seqRange(0, 5), exp.exported(), "the next exporting run delivers them")
}

// TestStartBadExporterEnv: an exporter or protocol setup does not know is
// an error naming the variables, and nothing is left running (goleak).
func TestStartBadExporterEnv(t *testing.T) {
	tests := []struct{ name, key, value string }{
		{"unknown traces exporter", "OTEL_TRACES_EXPORTER", "zipkin"},
		{"unknown logs exporter", "OTEL_LOGS_EXPORTER", "syslog"},
		{"unknown metrics exporter", "OTEL_METRICS_EXPORTER", "statsd"},
		{"unknown protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{"unknown logs protocol", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			env(t, rcv.Addr())
			t.Setenv(tt.key, tt.value)
			p, err := setup.Start(t.Context(), setup.WithoutGlobal())
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorContains(t, err, tt.key+`="`+tt.value+`"`)
		})
	}
}

// consoleChild marks the process TestStartConsoleExporters runs to
// capture its standard output.
const consoleChild = "OTELBEARER_SETUP_CONSOLE_CHILD"

// TestStartConsoleExporters: OTEL_TRACES_EXPORTER=console and
// OTEL_LOGS_EXPORTER=console write spans and records to standard output,
// stamped and redacted like OTLP exports. The console exporters write to
// the os.Stdout of package initialisation, so the test runs itself in a
// child process and reads its output.
func TestStartConsoleExporters(t *testing.T) {
	if os.Getenv(consoleChild) == "1" {
		p, err := setup.Start(t.Context(), setup.WithoutGlobal())
		require.NoError(t, err)
		serveAndShutdown(t, p)
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestStartConsoleExporters$", "-test.count=1")
	cmd.Env = append(os.Environ(), consoleChild+"=1",
		"OTEL_TRACES_EXPORTER=console", "OTEL_LOGS_EXPORTER=console", "OTEL_METRICS_EXPORTER=none",
		"OTEL_TRACES_SAMPLER=always_on", "OTEL_SERVICE_NAME=setup-console")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "child: %s\n%s", stdout.String(), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, `"SpanContext"`, "a span was written")
	assert.Contains(t, out, otelbearer.AuditEventAuthn, "the audit record was written")
	assert.Contains(t, out, "token.fingerprint")
	assert.Contains(t, out, "Bearer "+otelbearer.Redacted)
	assert.NotContains(t, out, token, "raw token on the console")
}
