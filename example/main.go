// Command example is a bearer-token API instrumented with otelbearer, in
// the fewest lines that show the whole library: setup.Start for the
// pipelines, NewHandler with a validator and a public path, an ownership
// check recorded with Allow and Deny, slog through logbridge, and a
// shutdown in the order that loses no record. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
	"github.com/otelbearer/otelbearer/logbridge"
	"github.com/otelbearer/otelbearer/setup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := net.Listen("tcp", "127.0.0.1:8080")
	if err == nil {
		err = run(ctx, lis, signingKey())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// signingKey is the HS256 key of the tokens: $EXAMPLE_SIGNING_KEY, or a
// development key that `go run ./internal/demo/service mint` signs with too.
func signingKey() []byte {
	if k := os.Getenv("EXAMPLE_SIGNING_KEY"); k != "" {
		return []byte(k)
	}
	return []byte("otelbearer-example-signing-key-dev-only")
}

// run serves on lis until ctx is done, then shuts down.
func run(ctx context.Context, lis net.Listener, key []byte) error {
	// Traces and logs to OTLP (OTEL_* variables), stamped with each
	// request's token.fingerprint, auth.event and authz.decision, and
	// redacted before any exporter sees them.
	providers, err := setup.Start(ctx)
	if err != nil {
		return err
	}
	// Application logs: logbridge stamps and redacts them, on stderr and
	// through otelslog to the same LoggerProvider as the audit records.
	logger := slog.New(logbridge.NewHandler(slog.NewMultiHandler(
		slog.NewJSONHandler(os.Stderr, nil),
		otelslog.NewHandler("example", otelslog.WithLoggerProvider(providers.LoggerProvider)),
	), logbridge.WithRedactor(providers.Redactor)))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	// A token with scope "read" reads a user's notes; only that user may.
	mux.Handle("GET /users/{user}/notes", otelbearer.RequireScopes(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			claims, _ := otelbearer.ClaimsFromContext(ctx) // the validated token's
			if user := r.PathValue("user"); user != claims.Subject {
				// Without this check: broken object-level authorization.
				otelbearer.Deny(ctx, "not_owner", user)
				// Logging the headers is a common mistake; the Authorization
				// value leaves the process as "Bearer REDACTED".
				logger.WarnContext(ctx, "access denied", "headers", r.Header)
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			otelbearer.Allow(ctx, "owner", claims.Subject)
			logger.InfoContext(ctx, "notes served")
			fmt.Fprintf(w, "notes of %s\n", claims.Subject)
		}), "read"))

	srv := &http.Server{
		Handler: otelbearer.NewHandler(mux, "example",
			otelbearer.WithValidator(jwtvalidator.NewHMAC(key,
				jwtvalidator.WithIssuer("otelbearer-example"))),
			otelbearer.WithPublicPaths("/healthz"), // token optional there
		),
		ReadHeaderTimeout: 5 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	logger.Info("listening", "addr", lis.Addr().String())
	select {
	case <-ctx.Done():
	case err = <-errc:
	}

	// Shutdown order: the HTTP server first (in-flight requests end their
	// spans and audit records), then traces, then logs.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(err, srv.Shutdown(sctx), providers.Shutdown(sctx))
}
