package otelbearer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelbearer/otelbearer"
)

// The client span of an outgoing call carries the fingerprint of the
// credential it sends, never the credential.
func ExampleNewTransport() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
		sdktrace.WithSpanProcessor(spans),
	)
	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()

	client := &http.Client{Transport: otelbearer.NewTransport(nil,
		otelbearer.WithFingerprintKey([]byte("example-fingerprint-key")),
		otelbearer.WithTracerProvider(tp))}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, backend.URL, nil)
	req.Header.Set("Authorization", "Bearer service-s3cr3t")
	res, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = res.Body.Close()

	for _, kv := range spans.Ended()[0].Attributes() {
		if kv.Key == otelbearer.TokenOutgoingFingerprintKey {
			fmt.Println(kv.Key, kv.Value.AsString())
		}
	}
	// Output:
	// token.outgoing.fingerprint d9b73dcaf5cccab5c9a98336259fa7ab
}

// RequireScopes answers 403 insufficient_scope, with the RFC 6750
// challenge, when the validated token lacks a scope.
func ExampleRequireScopes() {
	write := otelbearer.RequireScopes(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "written")
	}), "write")
	h := otelbearer.NewHandler(write, "api", otelbearer.WithValidator(validator),
		otelbearer.WithFingerprintKey([]byte("example-fingerprint-key")))

	r := httptest.NewRequest(http.MethodPost, "/items", nil)
	r.Header.Set("Authorization", "Bearer s3cr3t-token") // scopes: read
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 403 Bearer error="insufficient_scope", error_description="the access token lacks a required scope", scope="write"
}
