// Package logbridge carries otelbearer's request attributes into an
// application's own logs and keeps credentials out of them.
//
// The root package stamps token.fingerprint, auth.event, authz.decision
// (and user.id for validated subjects) on every span of a request. This
// package does the same for log records, so a responder can go from an
// alert on a fingerprint to every line the application logged for it, and
// it applies the same [otelbearer.Redactor] rules to what is logged.
//
// # Two entry points
//
//   - [NewHandler] wraps any [slog.Handler] (JSON to stdout, otelslog, …).
//     Records logged with a request context (slog.InfoContext(r.Context(),
//     …)) get the stamped attributes at the top level, never inside the
//     caller's WithGroup; the message and every attribute are redacted.
//   - [NewProcessor] wraps an [go.opentelemetry.io/otel/sdk/log.Processor]
//     (the batch processor). It stamps and redacts every record the SDK
//     emits, including the root middleware's audit records and records from
//     otelslog, before the wrapped processor copies them.
//
// Use one or both: with otelslog over an SDK LoggerProvider whose
// processor is wrapped by [NewProcessor], the processor alone is enough.
// Stamping is idempotent: a key a record already has is never added again.
//
// # What is redacted
//
// Strings, []string and []byte values, http.Header, url.Values and other
// string-keyed maps (each member's key selects its rules, so
// Authorization keeps its scheme: "Bearer REDACTED"), slices, groups,
// resolved [slog.LogValuer] values, errors and [fmt.Stringer] values (their
// text) and, as a last resort, other structs, maps and pointers through
// their %+v text. A value whose text needs no redaction is passed on as it
// is. Attribute keys are not redacted.
//
// Plain slog.Info calls have no context: their records are redacted but
// carry no stamped attributes (and otelslog gives them no trace id).
package logbridge
