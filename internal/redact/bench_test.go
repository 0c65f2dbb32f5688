package redact

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var benchResource = resource.NewWithAttributes("",
	attribute.String("service.name", "api"),
	attribute.String("service.version", "1.2.3"),
	attribute.String("telemetry.sdk.language", "go"),
	attribute.String("telemetry.sdk.name", "opentelemetry"),
	attribute.String("telemetry.sdk.version", "1.47.0"),
)

// serverSpanAttrs is what otelhttp v0.72 records on a server span, plus the
// package's own attributes.
func serverSpanAttrs(urlPath string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("url.scheme", "http"),
		attribute.String("server.address", "api.example.com"),
		attribute.Int("server.port", 8080),
		attribute.String("network.peer.address", "10.0.0.7"),
		attribute.Int("network.peer.port", 51234),
		attribute.String("user_agent.original", "Go-http-client/1.1"),
		attribute.String("client.address", "10.0.0.7"),
		attribute.String("url.path", urlPath),
		attribute.String("network.protocol.version", "1.1"),
		attribute.String("http.route", "/items/{id}"),
		attribute.Int("http.response.status_code", 200),
		attribute.String("token.fingerprint", testFP),
		attribute.String("auth.event", "token_valid"),
	}
}

// sdkSpan returns the SDK's own ended span (its *snapshot), as a span
// processor receives it in OnEnd.
func sdkSpan(name string, attrs []attribute.KeyValue) sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(benchResource))
	_, span := tp.Tracer("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp").Start(
		context.Background(), name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	span.End()
	_ = tp.Shutdown(context.Background())
	return rec.Ended()[0]
}

func benchSpan(name string, attrs []attribute.KeyValue) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{
		Name:                 name,
		SpanKind:             trace.SpanKindServer,
		Attributes:           attrs,
		Resource:             benchResource,
		InstrumentationScope: instrumentation.Scope{Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"},
	}.Snapshot()
}

type discardProcessor struct{}

func (discardProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardProcessor) Shutdown(context.Context) error                  { return nil }
func (discardProcessor) ForceFlush(context.Context) error                { return nil }

func BenchmarkRedactSpan(b *testing.B) {
	r := newTestRedactor(b)
	cases := []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{
		{"clean", sdkSpan("GET /items/{id}", serverSpanAttrs("/items/42"))},
		{"clean-stub", benchSpan("GET /items/{id}", serverSpanAttrs("/items/42"))},
		{"secret", sdkSpan("GET /items/{id}", append(serverSpanAttrs("/items/42"),
			attribute.String("url.full", "http://api.example.com/items/42?access_token=abc.def.ghi&page=2")))},
		{"jwt-in-header", sdkSpan("GET /items/{id}", append(serverSpanAttrs("/items/42"),
			attribute.StringSlice("http.request.header.authorization", []string{"Bearer " + testJWT})))},
	}
	for _, c := range cases {
		p := NewRedactingSpanProcessor(discardProcessor{}, r)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.OnEnd(c.span)
			}
		})
	}
}

func BenchmarkRedactString(b *testing.B) {
	r := newTestRedactor(b)
	cases := []struct{ name, key, v string }{
		{"clean-path", "url.path", "/api/v1/items/42"},
		{"clean-useragent", "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
		{"url-token", "url.full", "https://api.example.com/items/42?access_token=abc.def.ghi&page=2"},
		{"url-error", "", `Get "http://h/x?access_token=abc": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"bearer-header", "http.request.header.authorization", "Bearer " + testJWT},
		{"jwt-text", "exception.message", "token " + testJWT + " expired"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.String(c.key, c.v)
			}
		})
	}
}
