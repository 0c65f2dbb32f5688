package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
	"github.com/otelbearer/otelbearer/logbridge"
	"github.com/otelbearer/otelbearer/setup"
)

// scopeName is the instrumentation scope of the service's own spans and logs.
const scopeName = "github.com/otelbearer/otelbearer/internal/demo/service"

// Shutdown budgets: the HTTP server first (in-flight requests end their
// spans and audit records), then the providers (traces, then logs).
const (
	serverShutdownTimeout   = 5 * time.Second
	providerShutdownTimeout = 5 * time.Second
)

// serve runs the server on lis until ctx is done, then shuts it
// down in order: HTTP server, TracerProvider, LoggerProvider. It returns
// an error only when the server could not start or serve; shutdown
// problems (an unreachable collector) are reported on stderr.
func serve(ctx context.Context, cfg serveConfig, lis net.Listener, stderr io.Writer) error {
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		// Read by setup.Start through resource.WithService.
		if err := os.Setenv("OTEL_SERVICE_NAME", defaultServiceName); err != nil {
			_ = lis.Close()
			return err
		}
	}
	providers, err := setup.Start(ctx)
	if err != nil {
		_ = lis.Close()
		return err
	}
	logger := slog.New(logbridge.NewHandler(
		slog.NewMultiHandler(
			slog.NewJSONHandler(stderr, nil),
			otelslog.NewHandler(scopeName, otelslog.WithLoggerProvider(providers.LoggerProvider)),
		),
		logbridge.WithRedactor(providers.Redactor),
	))

	fpKey := otelbearer.WithFingerprintKey(cfg.fingerprintKey)
	otelOpts := otelbearer.WithOtelHTTPOptions(otelhttp.WithTracerProvider(providers.TracerProvider))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	a := &app{
		log:    logger,
		tracer: providers.TracerProvider.Tracer(scopeName),
		client: &http.Client{
			Transport: otelbearer.NewTransport(transport, fpKey, otelOpts),
			Timeout:   2 * time.Second,
		},
		pricingURL: "http://" + loopbackAddr(lis.Addr()) + "/internal/pricing",
		service:    newServiceToken(cfg.signingKey),
	}
	if _, err := a.service.get(time.Now()); err != nil {
		_ = lis.Close()
		return errors.Join(err, providers.Shutdown(ctx))
	}

	validator := jwtvalidator.NewHMAC(cfg.signingKey,
		jwtvalidator.WithAlgorithms("HS256"),
		jwtvalidator.WithIssuer(tokenIssuer),
		jwtvalidator.WithRevocation(func(_ context.Context, jti string) (bool, error) {
			return cfg.revoked[jti], nil
		}),
	)
	handler := otelbearer.NewHandler(a.routes(), "example",
		otelbearer.WithValidator(validator),
		otelbearer.WithPublicPaths("/healthz", "/internal/pricing"),
		// The pricing call comes back over loopback and continues the
		// caller's trace; any other client's trace context starts a new
		// trace linked to it.
		otelbearer.WithTrustedTraceContext(netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")),
		otelbearer.WithLoggerProvider(providers.LoggerProvider),
		fpKey, otelOpts,
	)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	logger.Info("listening", "addr", lis.Addr().String(), "revoked_jtis", len(cfg.revoked))

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serverShutdownTimeout)
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "service: http shutdown:", err)
	}
	cancel()
	if serveErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	transport.CloseIdleConnections()

	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), providerShutdownTimeout)
	defer cancel()
	if err := providers.Shutdown(pctx); err != nil {
		fmt.Fprintln(stderr, "service: telemetry shutdown:", err)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// loopbackAddr returns addr with an unspecified IP (0.0.0.0, ::) replaced
// by loopback, so the server can call itself.
func loopbackAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
