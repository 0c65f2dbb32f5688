package otelbearer_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelbearer/otelbearer"
)

// A Redactor rewrites credentials in values before they leave the
// process; the package's own attributes pass untouched.
func ExampleRedactor() {
	r, err := otelbearer.NewRedactor()
	if err != nil {
		panic(err)
	}
	in := [][2]string{
		{"http.request.header.authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
		{"http.request.header.cookie", "sid=abc123"},
		{"url.full", "https://bob:pw@api.example.com/cb?code=xyz&state=1"},
		{"exception.message", `Get "http://h/x?access_token=abc": dial tcp: connection refused`},
		{"token.fingerprint", "0123456789abcdef0123456789abcdef"},
		{"url.path", "/items/42"},
	}
	n := 0
	for _, kv := range in {
		out, changed := r.String(kv[0], kv[1])
		if changed {
			n++
		}
		fmt.Printf("%s\n  before: %s\n  after:  %s\n", kv[0], kv[1], out)
	}
	fmt.Println("redacted values:", n)
	// Output:
	// http.request.header.authorization
	//   before: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig
	//   after:  Bearer REDACTED
	// http.request.header.cookie
	//   before: sid=abc123
	//   after:  REDACTED
	// url.full
	//   before: https://bob:pw@api.example.com/cb?code=xyz&state=1
	//   after:  https://REDACTED:REDACTED@api.example.com/cb?code=REDACTED&state=1
	// exception.message
	//   before: Get "http://h/x?access_token=abc": dial tcp: connection refused
	//   after:  Get "http://h/x?access_token=REDACTED": dial tcp: connection refused
	// token.fingerprint
	//   before: 0123456789abcdef0123456789abcdef
	//   after:  0123456789abcdef0123456789abcdef
	// url.path
	//   before: /items/42
	//   after:  /items/42
	// redacted values: 4
}

// NewRedactingSpanProcessor wraps the exporting processor: the exporter
// only ever sees redacted copies of the spans.
func ExampleNewRedactingSpanProcessor() {
	r, err := otelbearer.NewRedactor()
	if err != nil {
		panic(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(
		otelbearer.NewRedactingSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp), r)))

	_, span := tp.Tracer("example").Start(context.Background(), "GET /callback?code=secret-code")
	span.SetAttributes(attribute.String("url.full", "http://h/callback?code=secret-code&state=s1"))
	span.End()

	s := exp.GetSpans()[0]
	_ = tp.Shutdown(context.Background())
	fmt.Println(s.Name)
	fmt.Println(s.Attributes[0].Value.AsString())
	// Output:
	// GET /callback?code=REDACTED
	// http://h/callback?code=REDACTED&state=s1
}
