// Package setup wires otelbearer's tracing and logging pipelines to an
// OTLP/gRPC backend (usually a Collector) in one call, configured by the
// standard OTEL_* environment variables.
//
// # What Start builds
//
//   - A TracerProvider with [otelbearer.NewSpanProcessor] first (stamps
//     every span of a request), then [otelbearer.NewRedactingSpanProcessor]
//     around a batch span processor and an otlptracegrpc exporter. The
//     sampler follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK
//     reads them); batching follows OTEL_BSP_*.
//   - A LoggerProvider with [logbridge.NewProcessor] (stamps and redacts)
//     around the audit log pipeline described below and an otlploggrpc
//     exporter; its resource is redacted once ([otelbearer.Redactor.Resource]).
//   - A MeterProvider exporting the pipelines' own metrics (see Visible
//     loss) with otlpmetricgrpc, unless OTEL_METRICS_EXPORTER=none.
//   - A resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, with
//     the SDK's telemetry.sdk.* attributes.
//   - Unless [WithoutGlobal] is given: the global TracerProvider,
//     LoggerProvider, MeterProvider and TextMapPropagator (W3C
//     TraceContext + Baggage).
//
// The exporters read OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_INSECURE,
// OTEL_EXPORTER_OTLP_HEADERS and their _TRACES_ / _LOGS_ / _METRICS_
// variants themselves. They connect lazily: with no collector reachable
// the application keeps running.
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
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
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
// exporter that cannot be built; a spool directory that cannot be created
// or read) returns an error wrapping the cause, and nothing is left
// running. Malformed OTEL_EXPORTER_OTLP_* and
// OTEL_TRACES_SAMPLER values are not errors: the SDK reports them through
// otel.Handle and uses its defaults. Call [Providers.Shutdown] when the
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
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("setup: trace exporter: %w", err)
		}
		spanExp = exp
	}
	logExp := c.logExporter
	if logExp == nil {
		exp, err := otlploggrpc.New(ctx)
		if err != nil {
			if c.spanExporter == nil {
				err = errors.Join(err, spanExp.Shutdown(ctx))
			}
			return nil, fmt.Errorf("setup: log exporter: %w", err)
		}
		logExp = exp
	}

	mp, err := newMeterProvider(ctx, c, res)
	if err != nil {
		return nil, errors.Join(err, shutdownExporters(ctx, c, spanExp, logExp))
	}
	countingSpanExp, err := newSpanExporter(spanExp, mp)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("setup: span metrics: %w", err),
			mp.Shutdown(ctx), shutdownExporters(ctx, c, spanExp, logExp))
	}
	// The log exporter sits behind our queue, export loop and spool.
	logs, err := newLogProcessor(logExp, c.logs, mp)
	if err != nil {
		return nil, errors.Join(err, mp.Shutdown(ctx), shutdownExporters(ctx, c, spanExp, logExp))
	}

	if c.global {
		// Before the batch span processor is built: with
		// OTEL_GO_X_OBSERVABILITY=true it takes its instruments from the
		// global MeterProvider then.
		otel.SetMeterProvider(mp)
	}
	p := &Providers{
		TracerProvider: sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
			sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(
				sdktrace.NewBatchSpanProcessor(countingSpanExp), c.redactor)),
		),
		LoggerProvider: sdklog.NewLoggerProvider(
			// A log record's resource cannot be rewritten later: redact it once.
			sdklog.WithResource(c.redactor.Resource(res)),
			sdklog.WithProcessor(logbridge.NewProcessor(
				logs, logbridge.WithRedactor(c.redactor))),
		),
		MeterProvider: mp,
		Redactor:      c.redactor,
		logs:          logs,
		traceBudget:   c.traceBudget,
		logBudget:     c.logBudget,
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
	if c.spanExporter == nil {
		errs = append(errs, spanExp.Shutdown(ctx))
	}
	if c.logExporter == nil {
		errs = append(errs, logExp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
