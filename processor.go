package otelbearer

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// NewSpanProcessor returns a processor, registered before the exporting
// one, that stamps each span of a request with [Attributes] as at its
// start; client spans of [NewTransport] also get token.outgoing.fingerprint.
// The server span is the middleware's own: it gets [Attributes] plus
// client.address, token.source, auth.scheme and auth.optional in one call
// once validation ran, and later updates as they happen.
func NewSpanProcessor() sdktrace.SpanProcessor { return spanProcessor{} }

// spanProcessor is the processor of [NewSpanProcessor].
type spanProcessor struct{}

// OnStart stamps s from the request state found in parent.
func (spanProcessor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if st := stateFrom(parent); st != nil {
		// The middleware sets the server span's attributes itself, in one
		// call once validation ran; here it only learns that it may.
		server := s.SpanKind() == trace.SpanKindServer && st.stamped.CompareAndSwap(false, true)
		if !server {
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
