package setup

import (
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer"
)

// Option configures [Start].
type Option interface {
	apply(config) config
}

type optFunc func(config) config

func (f optFunc) apply(c config) config { return f(c) }

type config struct {
	redactor     *otelbearer.Redactor
	global       bool
	spanExporter sdktrace.SpanExporter
	logExporter  sdklog.Exporter
	resource     *resource.Resource
}

func newConfig(opts []Option) config {
	c := config{global: true}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}

// WithRedactor sets the Redactor of both pipelines (default:
// otelbearer.NewRedactor() with its default rules). A nil r is ignored.
func WithRedactor(r *otelbearer.Redactor) Option {
	return optFunc(func(c config) config {
		if r != nil {
			c.redactor = r
		}
		return c
	})
}

// WithoutGlobal leaves the global TracerProvider, LoggerProvider and
// propagator alone; use the returned [Providers] explicitly (for example
// with otelbearer.WithLoggerProvider and otelhttp.WithTracerProvider).
func WithoutGlobal() Option {
	return optFunc(func(c config) config {
		c.global = false
		return c
	})
}

// WithSpanExporter replaces the otlptracegrpc exporter (for tests and other
// backends). The exporter still sits behind the redacting and batch span
// processors, and Shutdown shuts it down. A nil exp is ignored.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return optFunc(func(c config) config {
		if exp != nil {
			c.spanExporter = exp
		}
		return c
	})
}

// WithLogExporter replaces the otlploggrpc exporter (for tests and other
// backends). The exporter still sits behind the logbridge and batch log
// processors, and Shutdown shuts it down. A nil exp is ignored.
func WithLogExporter(exp sdklog.Exporter) Option {
	return optFunc(func(c config) config {
		if exp != nil {
			c.logExporter = exp
		}
		return c
	})
}

// WithResource replaces the resource read from the environment. A nil res
// is ignored.
func WithResource(res *resource.Resource) Option {
	return optFunc(func(c config) config {
		if res != nil {
			c.resource = res
		}
		return c
	})
}
