// Package otelbearer makes bearer-token APIs observable without leaking
// credentials. It wraps [go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp]
// so that every span and every log record of a request says which token was
// used (a keyed fingerprint, never the token), what authentication
// concluded and what authorization decided, and it strips credentials from
// everything recorded before any exporter sees it.
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
// # Request flow
//
// The credential is parsed and fingerprinted before otelhttp starts the
// server span; validation runs inside it; [NewSpanProcessor] stamps every
// span of the request. Handlers read the outcome with [FromContext] and
// [ClaimsFromContext] and record object-level decisions with [Allow] and
// [Deny]. With a [Validator], failures are answered per RFC 6750 §3.1 (400,
// 401 or 403 with WWW-Authenticate); a validation without a verdict fails
// closed with 503. The middleware emits one audit log record per request
// ([AuditEventAuthn]) and one per decision ([AuditEventAuthz]), whatever
// traces are sampled. The attribute keys below are the public contract.
//
// [Redactor] strips Authorization and cookie headers, API keys, secret URL
// parameters, Bearer credentials and JWT-shaped strings from spans
// ([NewRedactingSpanProcessor]); package logbridge stamps and redacts the
// application's own slog records.
package otelbearer
