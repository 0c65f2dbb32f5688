package otelbearer

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

type outgoingKey struct{}

// NewSpanProcessor returns a span processor that stamps the auth context
// of the request being served on every span started under it, so a
// database or client span is queryable by token.fingerprint too. Register
// it on the TracerProvider before the exporting processor:
//
//	sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
//		sdktrace.WithSpanProcessor(otelbearer.NewRedactingSpanProcessor(batcher, redactor)),
//	)
//
// Every span of a request gets token.fingerprint (when the request has a
// bearer token), auth.event, authz.decision and user.id (validated
// subjects only) with the values known when the span starts. The server
// span also gets client.address (the peer, see [WithTrustedProxies]),
// token.source, auth.scheme and auth.optional, and is updated in place when
// validation ends and on every [Allow] / [Deny], so it always ends with the
// final values. A span that starts earlier keeps what was known at its
// start: spans started by a [Validator] carry auth.event=token_unverified;
// a span started before the handler's [Deny] carries authz.decision=none.
// Client spans of [NewTransport] also get token.outgoing.fingerprint, the
// fingerprint of the credential the outgoing request sends.
//
// OnStart is called synchronously and does not block or allocate; the
// other methods do nothing.
func NewSpanProcessor() sdktrace.SpanProcessor { return spanProcessor{} }

// spanProcessor is the processor of [NewSpanProcessor].
type spanProcessor struct{}

// OnStart stamps s from the request state found in parent.
func (spanProcessor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if st := stateFrom(parent); st != nil {
		if s.SpanKind() == trace.SpanKindServer && st.stamped.CompareAndSwap(false, true) {
			s.SetAttributes(st.serverStartAttrs()...)
		} else {
			s.SetAttributes(st.view.Load().attrs...)
		}
	}
	if s.SpanKind() == trace.SpanKindClient {
		if fp, ok := parent.Value(outgoingKey{}).(string); ok {
			s.SetAttributes(TokenOutgoingFingerprintKey.String(fp))
		}
	}
}

// OnEnd does nothing.
func (spanProcessor) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (spanProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (spanProcessor) ForceFlush(context.Context) error { return nil }
