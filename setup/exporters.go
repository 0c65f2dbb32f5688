package setup

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The environment variables that choose each signal's exporter and OTLP
// protocol (OpenTelemetry SDK configuration).
const (
	envProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesExporter  = "OTEL_TRACES_EXPORTER"
	envTracesProtocol  = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envLogsExporter    = "OTEL_LOGS_EXPORTER"
	envLogsProtocol    = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
	envMetricsExporter = "OTEL_METRICS_EXPORTER"
	envMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
)

// exporterNone reports whether the exporter variable says "none" (any
// case, surrounding spaces ignored).
func exporterNone(exporterEnv string) bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv(exporterEnv)), "none")
}

// otlpGRPCDefault reports whether the signal uses setup's default
// exporter, OTLP over gRPC: the exporter variable is unset or "otlp" and
// no protocol variable is set. The OpenTelemetry specification lets an SDK
// keep grpc as its default for backward compatibility; autoexport alone
// would choose http/protobuf.
func otlpGRPCDefault(exporterEnv, protocolEnv string) bool {
	e := os.Getenv(exporterEnv)
	return (e == "" || e == "otlp") && os.Getenv(protocolEnv) == "" && os.Getenv(envProtocol) == ""
}

// envError names the variables behind a failed exporter construction.
func envError(what, exporterEnv, protocolEnv string, err error) error {
	return fmt.Errorf("setup: %s exporter (%s=%q, %s=%q, %s=%q): %w", what,
		exporterEnv, os.Getenv(exporterEnv), protocolEnv, os.Getenv(protocolEnv),
		envProtocol, os.Getenv(envProtocol), err)
}

// newTraceExporter returns the span exporter the environment chooses, or
// nil for OTEL_TRACES_EXPORTER=none.
func newTraceExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch {
	case exporterNone(envTracesExporter):
		return nil, nil
	case otlpGRPCDefault(envTracesExporter, envTracesProtocol):
		exp, err = otlptracegrpc.New(ctx)
	default:
		exp, err = autoexport.NewSpanExporter(ctx)
	}
	if err != nil {
		return nil, envError("trace", envTracesExporter, envTracesProtocol, err)
	}
	return exp, nil
}

// newLogExporter returns the log exporter the environment chooses, or nil
// for OTEL_LOGS_EXPORTER=none.
func newLogExporter(ctx context.Context) (sdklog.Exporter, error) {
	var (
		exp sdklog.Exporter
		err error
	)
	switch {
	case exporterNone(envLogsExporter):
		return nil, nil
	case otlpGRPCDefault(envLogsExporter, envLogsProtocol):
		exp, err = otlploggrpc.New(ctx)
	default:
		exp, err = autoexport.NewLogExporter(ctx)
	}
	if err != nil {
		return nil, envError("log", envLogsExporter, envLogsProtocol, err)
	}
	return exp, nil
}

// newMetricReader returns the metric reader the environment chooses when
// it is not setup's default: nil for OTEL_METRICS_EXPORTER=none and for
// OTLP/gRPC, which the MeterProvider's own code builds.
func newMetricReader(ctx context.Context) (sdkmetric.Reader, error) {
	if exporterNone(envMetricsExporter) || otlpGRPCDefault(envMetricsExporter, envMetricsProtocol) {
		return nil, nil
	}
	r, err := autoexport.NewMetricReader(ctx)
	if err != nil {
		return nil, envError("metric", envMetricsExporter, envMetricsProtocol, err)
	}
	return r, nil
}
