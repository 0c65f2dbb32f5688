// Package otelbearer makes bearer-token APIs observable without leaking
// credentials: it wraps [go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp]
// so that every span and log record of a request carries a keyed
// fingerprint of its token (never the token), the authentication outcome
// and the authorization decision, and it strips credentials before any
// exporter sees them.
//
// # Quick start
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
//		sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(
//			sdktrace.NewBatchSpanProcessor(exporter), redactor)),
//	)
//	h := otelbearer.NewHandler(mux, "api",
//		otelbearer.WithValidator(myValidator),
//		otelbearer.WithTokenOptionalPaths("/healthz"),
//		otelbearer.WithTracerProvider(tp),
//	)
//
// The credential is parsed and fingerprinted before otelhttp starts the
// server span, validated inside it, and answered per RFC 6750 (400, 401,
// 403, or 503 when the validator reaches no verdict). Handlers read the
// outcome with [FromContext] and [ClaimsFromContext] and record decisions
// with [Allow] and [Deny]. One audit log record per request and one per
// decision go through the OpenTelemetry Logs API, whatever is sampled.
// Package logbridge stamps and redacts the application's own slog records.
package otelbearer
