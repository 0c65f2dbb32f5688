// Package setup wires otelbearer's tracing and logging pipelines to an
// OTLP backend (usually a Collector; gRPC or HTTP), the console or
// nowhere, in one call, configured by the standard OTEL_* environment
// variables.
//
// # What Start builds
//
//   - A TracerProvider with [otelbearer.NewSpanProcessor] first (stamps
//     every span of a request), then [otelbearer.NewRedactingSpanProcessor]
//     around a batch span processor and the span exporter (see Exporters). The
//     sampler follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK
//     reads them); batching follows OTEL_BSP_*.
//   - A LoggerProvider with [logbridge.NewProcessor] (stamps and redacts)
//     around the audit log pipeline described below and the log exporter;
//     its resource is redacted once ([otelbearer.Redactor.Resource]).
//   - A MeterProvider exporting the pipelines' own metrics (see Visible
//     loss) with the metric exporter.
//   - A resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, with
//     the SDK's telemetry.sdk.* attributes.
//   - Unless [WithoutGlobal] is given: the global TracerProvider,
//     LoggerProvider, MeterProvider and TextMapPropagator (W3C
//     TraceContext + Baggage).
//
// # Exporters
//
// Each signal's exporter is chosen as the OpenTelemetry specification
// says, with [go.opentelemetry.io/contrib/exporters/autoexport]:
//
//   - OTEL_TRACES_EXPORTER, OTEL_LOGS_EXPORTER, OTEL_METRICS_EXPORTER:
//     "otlp" (default), "console" (standard output, JSON), "none"
//     (metrics also "prometheus", from autoexport).
//   - OTEL_EXPORTER_OTLP_PROTOCOL and its _TRACES_ / _LOGS_ / _METRICS_
//     variants (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, ...): "grpc" (default)
//     or "http/protobuf". The specification's default is http/protobuf;
//     it lets an SDK keep grpc for backward compatibility, as setup does.
//   - The OTLP exporters read OTEL_EXPORTER_OTLP_ENDPOINT,
//     OTEL_EXPORTER_OTLP_INSECURE, OTEL_EXPORTER_OTLP_HEADERS and their
//     per-signal variants themselves. They connect lazily: with no
//     collector reachable the application keeps running.
//
// Whatever the exporter, spans and records pass the same stamping and
// redaction first: the console shows what a collector would receive.
// With "none", traces keep their context (trace ids in log records) but
// no span is queued or exported. With OTEL_LOGS_EXPORTER=none no log
// record is kept, audit records included: the LoggerProvider has no
// processor, and a spool directory ([WithSpoolDir]) is neither read nor
// emptied, so batches a previous run spooled wait for a run that
// exports. [WithSpanExporter], [WithLogExporter] and [WithMetricReader]
// take precedence over the environment.
//
// # The audit log pipeline
//
// Audit records are the complete record, so the log pipeline does not
// drop silently. It is modelled on the Kubernetes API server's audit
// backends (batch, blocking):
//
//   - A bounded in-memory queue ([WithLogQueueSize], default
//     [DefaultLogQueueSize] records) and one export loop sending batches
//     ([WithLogBatchSize]) at least every [WithLogExportInterval], each export
//     bounded by [WithLogExportTimeout]; the OTEL_BLRP_* variables set the
//     defaults.
//   - A full queue drops the new record and counts it, unless
//     [WithAuditBlocking] is given: then the request emitting an audit
//     record waits (bounded, default 1 s) for room.
//   - A failed or timed-out export loses nothing: without a spool the
//     batch is retried (backoff 1 s to 10 s) while the queue absorbs new
//     records; with [WithSpoolDir] it is written to disk, and so are
//     queued batches while exports keep failing. Spooled batches are
//     exported first, in order, when exports work again, and by the next
//     Start with the same directory after a restart, with the resource,
//     scope, trace context and timestamps they were recorded with.
//   - A bad record is dropped alone, never with its batch: a batch the
//     receiver rejects for good (a status the OTLP specification says not
//     to retry, such as InvalidArgument, or ResourceExhausted without
//     RetryInfo for a request over its message size limit) is split in
//     halves, recursively, so the other records are delivered; a record
//     still rejected alone is dropped and counted (error.type=rejected).
//     Spooled batches get the same treatment when replayed. A receiver
//     that refuses this client (Unauthenticated, PermissionDenied,
//     Unimplemented) is a configuration error, not the records' fault:
//     its batches are kept and retried, and each failure is reported.
//   - Otherwise records are dropped only when every bound is exhausted
//     (queue full after the wait, spool full, shutdown budget spent
//     without a spool), and every drop is counted and reported.
//
// Delivery is at least once: a batch the collector stored but answered
// too late for, or a process killed between an export and the removal of
// its spool file, is sent again.
//
// # Visible loss
//
// Alert on otelbearer.audit.dropped (audit records lost, by error.type:
// queue_full, spool_full, shutdown, after_close, spool_corrupt, rejected). Also
// exported: otelbearer.log.dropped, otelbearer.log.exported,
// otelbearer.log.export.failures, otelbearer.log.spooled,
// otelbearer.log.replayed, otelbearer.log.queue.size,
// otelbearer.log.queue.capacity, otelbearer.log.spool.size,
// otelbearer.span.export.failures and otelbearer.span.export.dropped. The
// first drop after a quiet period is reported once through otel.Handle,
// with the count, an export interval later; further drops at most once a
// minute. Spans dropped from the batch span processor's queue are counted
// by the SDK's own metrics (otel.sdk.processor.span.processed with
// error.type=queue_full) when OTEL_GO_X_OBSERVABILITY=true, on the global
// MeterProvider.
//
// # Shutdown order
//
// Stop the HTTP server first, with a deadline, so in-flight requests end
// their spans and emit their audit records; then call [Providers.Shutdown],
// which stops traces, then logs, then metrics, each within its own budget:
//
//	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//	defer cancel()
//	_ = srv.Shutdown(ctx) // http.Server.Shutdown waits for idle connections too
//	if err := providers.Shutdown(ctx); err != nil {
//		log.Print(err) // wraps setup.ErrRecordsSpooled or setup.ErrRecordsDropped, with counts
//	}
//
// Records emitted after Shutdown began go to the spool, or are counted and
// reported as dropped.
package setup

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/logbridge"
)

// Providers are the providers [Start] built and the Redactor both
// pipelines use.
type Providers struct {
	TracerProvider *sdktrace.TracerProvider
	LoggerProvider *sdklog.LoggerProvider
	// MeterProvider carries the pipelines' own metrics (drops, export
	// failures, queue and spool sizes) and, unless WithoutGlobal, is the
	// global MeterProvider (otelhttp's request metrics use it then).
	MeterProvider *sdkmetric.MeterProvider
	// Redactor is the Redactor of the span and log pipelines; pass it to
	// logbridge.NewHandler for a stdout logger with the same rules.
	Redactor *otelbearer.Redactor

	logs        *logProcessor
	traceBudget time.Duration
	logBudget   time.Duration
	shut        atomic.Bool
}

// Start builds the tracing and logging pipelines described in the package
// documentation and, unless [WithoutGlobal] is given, makes them global.
// It does not block on the network. Invalid configuration (a malformed
// OTEL_RESOURCE_ATTRIBUTES value, wrapping resource.ErrPartialResource; an
// exporter that cannot be built, such as an OTEL_*_EXPORTER or OTLP
// protocol value it does not know, the error naming the variables; a
// spool directory that cannot be created or read) returns an error
// wrapping the cause, and nothing is left running. Other malformed
// OTEL_EXPORTER_OTLP_* values and OTEL_TRACES_SAMPLER values are not
// errors: the SDK reports them through otel.Handle and uses its defaults. Call [Providers.Shutdown] when the
// application ends.
func Start(ctx context.Context, opts ...Option) (*Providers, error) {
	c := newConfig(opts)
	if c.redactor == nil {
		r, err := otelbearer.NewRedactor()
		if err != nil {
			return nil, fmt.Errorf("setup: redactor: %w", err)
		}
		c.redactor = r
	}
	res := c.resource
	if res == nil {
		var err error
		res, err = resource.New(ctx, resource.WithService(), resource.WithFromEnv(), resource.WithTelemetrySDK())
		if err != nil {
			// A malformed OTEL_RESOURCE_ATTRIBUTES (resource.ErrPartialResource)
			// would file the service's telemetry under the wrong identity:
			// fail at startup rather than export it.
			return nil, fmt.Errorf("setup: resource: %w", err)
		}
	}

	spanExp := c.spanExporter
	if spanExp == nil {
		exp, err := newTraceExporter(ctx)
		if err != nil {
			return nil, err
		}
		spanExp = exp // nil: OTEL_TRACES_EXPORTER=none
	}
	logExp := c.logExporter
	if logExp == nil {
		exp, err := newLogExporter(ctx)
		if err != nil {
			return nil, errors.Join(err, shutdownExporters(ctx, c, spanExp, nil))
		}
		logExp = exp // nil: OTEL_LOGS_EXPORTER=none
	}
	if c.metricReader == nil {
		r, err := newMetricReader(ctx)
		if err != nil {
			return nil, errors.Join(err, shutdownExporters(ctx, c, spanExp, logExp))
		}
		c.metricReader = r // the MeterProvider shuts it down
	}

	mp, err := newMeterProvider(ctx, c, res)
	if err != nil {
		return nil, errors.Join(err, shutdownExporters(ctx, c, spanExp, logExp))
	}
	var countingSpanExp *spanExporter
	if spanExp != nil {
		countingSpanExp, err = newSpanExporter(spanExp, mp)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("setup: span metrics: %w", err),
				mp.Shutdown(ctx), shutdownExporters(ctx, c, spanExp, logExp))
		}
	}
	// A log record's resource cannot be rewritten later: redact it once.
	lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(c.redactor.Resource(res))}
	var logs *logProcessor
	if logExp != nil {
		// The log exporter sits behind our queue, export loop and spool.
		logs, err = newLogProcessor(logExp, c.logs, mp)
		if err != nil {
			return nil, errors.Join(err, mp.Shutdown(ctx), shutdownExporters(ctx, c, spanExp, logExp))
		}
		lpOpts = append(lpOpts, sdklog.WithProcessor(logbridge.NewProcessor(
			logs, logbridge.WithRedactor(c.redactor))))
	}
	// With OTEL_LOGS_EXPORTER=none the LoggerProvider has no processor:
	// records are discarded as they are emitted, and a spool directory is
	// neither read nor emptied (its batches wait for a Start that exports).

	if c.global {
		// Before the batch span processor is built: with
		// OTEL_GO_X_OBSERVABILITY=true it takes its instruments from the
		// global MeterProvider then.
		otel.SetMeterProvider(mp)
	}
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
	}
	if countingSpanExp != nil {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(
			sdktrace.NewBatchSpanProcessor(countingSpanExp), c.redactor)))
	}
	p := &Providers{
		TracerProvider: sdktrace.NewTracerProvider(tpOpts...),
		LoggerProvider: sdklog.NewLoggerProvider(lpOpts...),
		MeterProvider:  mp,
		Redactor:       c.redactor,
		logs:           logs,
		traceBudget:    c.traceBudget,
		logBudget:      c.logBudget,
	}
	if c.global {
		otel.SetTracerProvider(p.TracerProvider)
		// Loggers made from the global provider get their scope redacted
		// once, as spans' scopes are (a record's scope cannot be changed by
		// a processor or exporter).
		otel.SetLoggerProvider(logbridge.NewLoggerProvider(p.LoggerProvider, logbridge.WithRedactor(c.redactor)))
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{}))
	}
	return p, nil
}

// shutdownExporters shuts down the exporters Start built itself.
func shutdownExporters(ctx context.Context, c config, spanExp sdktrace.SpanExporter, logExp sdklog.Exporter) error {
	var errs []error
	if c.spanExporter == nil && spanExp != nil {
		errs = append(errs, spanExp.Shutdown(ctx))
	}
	if c.logExporter == nil && logExp != nil {
		errs = append(errs, logExp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
