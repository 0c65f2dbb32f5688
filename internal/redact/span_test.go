package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A span with nothing to redact costs no allocation: pinned.
func TestRedactSpanPassThroughAllocs(t *testing.T) {
	r := newTestRedactor(t, WithRedactionSummary(true))
	p := NewRedactingSpanProcessor(discardProcessor{}, r)
	span := benchSpan("GET /items/{id}", serverSpanAttrs("/items/42"))
	p.OnEnd(span) // warm the resource cache
	allocs := testing.AllocsPerRun(100, func() { p.OnEnd(span) })
	assert.Zero(t, allocs)
	assert.Equal(t, span, r.Span(span), "clean span is passed on as is")
}

func TestRedactSpanCopy(t *testing.T) {
	r := newTestRedactor(t, WithRedactionSummary(true))
	attrs := []attribute.KeyValue{
		attribute.String("url.full", "https://h/x?access_token=abc"),
		attribute.Int("redaction.count", 2),
	}
	orig := append([]attribute.KeyValue(nil), attrs...)
	stub := tracetest.SpanStub{
		Name:       "GET /x?token=t",
		Attributes: attrs,
		Status:     sdktrace.Status{Code: codes.Error, Description: "Bearer abc"},
		Events: []sdktrace.Event{
			{Name: "clean", Attributes: []attribute.KeyValue{attribute.String("a", "b")}},
			{Name: "exception", Attributes: []attribute.KeyValue{attribute.String("exception.message", "password=p")}},
		},
		Links:    []sdktrace.Link{{Attributes: []attribute.KeyValue{attribute.String("api_key", "k")}}},
		Resource: resource.NewSchemaless(attribute.String("db.password", "pw")),
		InstrumentationScope: instrumentation.Scope{Name: "s",
			Attributes: attribute.NewSet(attribute.String("token", "t"))},
	}
	span := stub.Snapshot()
	got := r.Span(span)
	require.NotEqual(t, span, got)

	assert.Equal(t, "GET /x?token=REDACTED", got.Name())
	assert.Equal(t, "https://h/x?access_token=REDACTED", got.Attributes()[0].Value.AsString())
	assert.Equal(t, int64(2+7), got.Attributes()[1].Value.AsInt64(), "count added to the existing redaction.count")
	assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "Bearer REDACTED"}, got.Status())
	assert.Equal(t, "b", got.Events()[0].Attributes[0].Value.AsString())
	assert.Equal(t, "password=REDACTED", got.Events()[1].Attributes[0].Value.AsString())
	assert.Equal(t, Redacted, got.Links()[0].Attributes[0].Value.AsString())
	v, _ := got.Resource().Set().Value("db.password")
	assert.Equal(t, Redacted, v.AsString())
	scopeAttrs := got.InstrumentationScope().Attributes
	v, _ = scopeAttrs.Value("token")
	assert.Equal(t, Redacted, v.AsString())
	//lint:ignore SA1019 the deprecated method is still part of the interface.
	assert.Equal(t, got.InstrumentationScope(), got.InstrumentationLibrary())
	assert.Equal(t, span.SpanContext(), got.SpanContext(), "the rest is delegated")

	// The snapshot itself is untouched.
	assert.Equal(t, orig, span.Attributes())
	assert.Equal(t, "GET /x?token=t", span.Name())
	assert.Equal(t, "password=p", span.Events()[1].Attributes[0].Value.AsString())
	v, _ = span.Resource().Set().Value("db.password")
	assert.Equal(t, "pw", v.AsString())

	// Idempotent: the redacted copy needs nothing more.
	again := r.Span(got)
	assert.Equal(t, got, again)
}

func TestRedactingExporterKeepsInput(t *testing.T) {
	r := newTestRedactor(t)
	rec := tracetest.NewInMemoryExporter()
	exp := NewRedactingExporter(rec, r)
	clean := benchSpan("GET /a", serverSpanAttrs("/a"))
	dirty := benchSpan("GET /b?access_token=x", nil)
	in := []sdktrace.ReadOnlySpan{clean, dirty}
	require.NoError(t, exp.ExportSpans(t.Context(), in))
	assert.Equal(t, "GET /b?access_token=x", in[1].Name(), "input slice not modified")
	got := rec.GetSpans()
	require.Len(t, got, 2)
	assert.Equal(t, "GET /a", got[0].Name)
	assert.Equal(t, "GET /b?access_token=REDACTED", got[1].Name)
	require.NoError(t, exp.Shutdown(t.Context()))
}

func TestRedactingProcessorDelegates(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	p := NewRedactingSpanProcessor(rec, newTestRedactor(t))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	_, span := tp.Tracer("t").Start(t.Context(), "GET /x?code=abc")
	require.Len(t, rec.Started(), 1, "OnStart passes through")
	span.End()
	require.NoError(t, tp.ForceFlush(t.Context()))
	require.NoError(t, tp.Shutdown(t.Context()))
	require.Len(t, rec.Ended(), 1)
	assert.Equal(t, "GET /x?code=REDACTED", rec.Ended()[0].Name())
}
