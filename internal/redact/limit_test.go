package redact

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A user-set attribute length limit cuts values before OnEnd; a cut JWT or
// bearer credential must still not leave a usable piece behind.
func TestRedactAfterSDKTruncation(t *testing.T) {
	r := newTestRedactor(t)
	for _, limit := range []int{12, 20, 33, 47, 80} {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
				AttributeValueLengthLimit: limit, AttributeCountLimit: 128,
				EventCountLimit: 128, LinkCountLimit: 128,
				AttributePerEventCountLimit: 128, AttributePerLinkCountLimit: 128,
			}),
			sdktrace.WithSpanProcessor(NewRedactingSpanProcessor(rec, r)),
		)
		_, span := tp.Tracer("t").Start(context.Background(), "op")
		span.SetAttributes(
			attribute.String("raw.jwt", testJWT),
			attribute.String("msg", "upstream said: Bearer "+testJWT),
			attribute.StringSlice("http.request.header.authorization", []string{"Bearer " + testJWT}),
		)
		span.End()
		require.NoError(t, tp.Shutdown(context.Background()))
		require.Len(t, rec.Ended(), 1)
		var got strings.Builder
		for _, kv := range rec.Ended()[0].Attributes() {
			got.WriteString(kv.Value.String() + "\n")
		}
		// No 8-character piece of the token's payload or signature
		// (past the well-known "eyJhbGciOi" header start) survives.
		parts := strings.Split(testJWT, ".")
		require.Len(t, parts, 3)
		for _, p := range parts[1:] {
			for i := 0; i+8 <= len(p); i += 4 {
				assert.NotContains(t, got.String(), p[i:i+8], "limit %d", limit)
			}
		}
	}
}
