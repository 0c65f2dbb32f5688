package otelbearer_test

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
	"github.com/otelbearer/otelbearer/setup"
)

// serve runs an API until ctx ends: traces and audit logs go to the OTLP
// endpoint of the OTEL_* variables, every request is fingerprinted,
// validated and audited, and the handler checks ownership.
func serve(ctx context.Context, keyFunc jwt.Keyfunc, issuer string) error {
	providers, err := setup.Start(ctx) // TracerProvider + LoggerProvider from OTEL_* env
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /notes/{owner}", func(w http.ResponseWriter, r *http.Request) {
		// an object-level (ownership) check
		claims, _ := otelbearer.ClaimsFromContext(r.Context())
		if owner := r.PathValue("owner"); owner != claims.Subject {
			otelbearer.Deny(r.Context(), "not_owner", owner)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		otelbearer.Allow(r.Context(), "owner", claims.Subject)
	})
	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second,
		Handler: otelbearer.NewHandler(mux, "api",
			otelbearer.WithValidator(jwtvalidator.New(keyFunc, jwtvalidator.WithIssuer(issuer))),
			otelbearer.WithTokenOptionalPaths("/healthz"),
		)}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	// Shutdown order: the server first (in-flight requests end their spans
	// and audit records), then traces and logs.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx), providers.Shutdown(sctx))
}

// The quick start of README.md; it needs a Collector, so it is compiled
// but not run here (the examples below run).
func Example_quickStart() {
	var keyFunc jwt.Keyfunc // e.g. the issuer's public key
	_ = serve(context.Background(), keyFunc, "https://issuer.example")
}
