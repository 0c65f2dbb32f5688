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
//   - A LoggerProvider with [logbridge.NewProcessor] around a batch log
//     processor and an otlploggrpc exporter (OTEL_BLRP_*), so audit records
//     and application records are stamped and redacted before batching,
//     and the resource redacted once ([otelbearer.Redactor.Resource]).
//   - A resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, with
//     the SDK's telemetry.sdk.* attributes.
//   - Unless [WithoutGlobal] is given: the global TracerProvider,
//     LoggerProvider and TextMapPropagator (W3C TraceContext + Baggage).
//
// The exporters read OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_INSECURE,
// OTEL_EXPORTER_OTLP_HEADERS and their _TRACES_ / _LOGS_ variants
// themselves. They connect lazily: with no collector reachable the
// application keeps running and the exporters retry, then drop, in the
// background, reporting through otel.Handle.
//
// # Shutdown order
//
// Stop the HTTP server first, with a deadline, so in-flight requests end
// their spans and emit their audit records; then call [Providers.Shutdown],
// which shuts the TracerProvider down before the LoggerProvider:
//
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	_ = srv.Shutdown(ctx) // http.Server.Shutdown waits for idle connections too
//	_ = providers.Shutdown(ctx)
//
// Reversed, the last requests' records are lost.
package setup

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
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
	// Redactor is the Redactor of the span and log pipelines; pass it to
	// logbridge.NewHandler for a stdout logger with the same rules.
	Redactor *otelbearer.Redactor
}

// Start builds the tracing and logging pipelines described in the package
// documentation and, unless [WithoutGlobal] is given, makes them global.
// It does not block on the network. Invalid configuration (a malformed
// OTEL_RESOURCE_ATTRIBUTES value, wrapping resource.ErrPartialResource; an
// exporter that cannot be built) returns an error wrapping the cause, and
// nothing is left running. Malformed OTEL_EXPORTER_OTLP_* and
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

	p := &Providers{
		TracerProvider: sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
			sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(
				sdktrace.NewBatchSpanProcessor(spanExp), c.redactor)),
		),
		LoggerProvider: sdklog.NewLoggerProvider(
			// A log record's resource cannot be rewritten later: redact it once.
			sdklog.WithResource(c.redactor.Resource(res)),
			sdklog.WithProcessor(logbridge.NewProcessor(
				sdklog.NewBatchProcessor(logExp), logbridge.WithRedactor(c.redactor))),
		),
		Redactor: c.redactor,
	}
	if c.global {
		otel.SetTracerProvider(p.TracerProvider)
		otel.SetLoggerProvider(p.LoggerProvider)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{}))
	}
	return p, nil
}

// Shutdown flushes and stops the TracerProvider, then the LoggerProvider,
// and returns their errors joined. Stop the HTTP server before calling it.
// It honours ctx's deadline; it is safe to call more than once (later calls
// return the providers' already-shut-down errors).
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	if p.TracerProvider != nil {
		if err := p.TracerProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: tracer provider shutdown: %w", err))
		}
	}
	if p.LoggerProvider != nil {
		if err := p.LoggerProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: logger provider shutdown: %w", err))
		}
	}
	return errors.Join(errs...)
}
