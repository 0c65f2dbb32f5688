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
// The message and every attribute, including those added with WithAttrs
// and those of resolved [slog.LogValuer] values and groups. Each value's
// key selects its key rules; camelCase keys (AccessToken, clientSecret)
// are read as their snake_case form.
//
//   - Strings, []string, []byte, http.Header, url.Values and string maps
//     are redacted in place (each member's key selects its rules, so
//     Authorization keeps its scheme: "Bearer REDACTED") and passed on as
//     they are when nothing needs redaction.
//   - Errors are passed on as errors that print only their redacted text
//     (otelslog still records exception.type of the original);
//     [fmt.Stringer] values as their redacted text.
//   - Every other composite value (structs, pointers, maps, slices,
//     json.Marshaler and encoding.TextMarshaler implementations, named
//     types) is converted to its encoding/json form, redacted member by
//     member and passed on as groups and plain values, so the next handler
//     encodes exactly what was redacted, whatever its encoder. A composite
//     value under a sensitive key is replaced as a whole. A value
//     encoding/json cannot encode (a func field, a cycle, a failing
//     MarshalJSON) or whose JSON form exceeds 256 KiB becomes
//     "!ERROR:cannot encode <type>"; nesting beyond 32 levels and members
//     beyond 10,000 become "!TRUNCATED".
//
// Go-syntax and key=value text ({AccessToken:… TokenType:Bearer},
// "apiKey":"…") gets the key rules for its field names, in messages,
// strings, error texts and String results. Attribute keys are not
// redacted; keys inside composite values get the value rules.
//
// Plain slog.Info calls have no context: their records are redacted but
// carry no stamped attributes (and otelslog gives them no trace id).
package logbridge
