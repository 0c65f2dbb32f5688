package setup

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// TestSpoolCodecRoundTrip: a decoded batch encodes to the same OTLP
// message as the original, for every value kind, two resources and two
// scopes, with trace context and timestamps.
func TestSpoolCodecRoundTrip(t *testing.T) {
	sink := &collector{}
	tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
	sid, _ := trace.SpanIDFromHex("0102030405060708")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	for i, res := range []*resource.Resource{
		resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "a")),
		resource.NewSchemaless(attribute.String("service.name", "b"), attribute.Int("n", 2)),
	} {
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sink))
		for _, scope := range []string{"one", "two"} {
			var r log.Record
			r.SetEventName("otelbearer.authn")
			r.SetTimestamp(time.Unix(1700000000, int64(i)))
			r.SetObservedTimestamp(time.Unix(1700000001, 0))
			r.SetSeverity(log.SeverityWarn2)
			r.SetSeverityText("WARN")
			r.SetBody(attribute.MapValue(attribute.String("k", "v"), attribute.Slice("s", attribute.IntValue(1), attribute.StringValue("x"))))
			r.AddAttributes(
				attribute.Bool("b", true), attribute.Int("i", -3), attribute.Float64("f", 1.5), attribute.String("s", "str"),
				attribute.ByteSlice("by", []byte{0, 1}), attribute.BoolSlice("bs", []bool{true, false}),
				attribute.IntSlice("is", []int{1, 2}), attribute.Float64Slice("fs", []float64{0.5}),
				attribute.StringSlice("token.scopes", []string{"read", "write"}), attribute.String("empty", ""),
			)
			lp.Logger(scope, log.WithInstrumentationVersion("v1"), log.WithSchemaURL("https://s"),
				log.WithInstrumentationAttributes(attribute.String("sa", scope))).Emit(ctx, r)
		}
		lp.Logger("untraced").Emit(context.Background(), log.Record{})
	}
	require.Len(t, sink.recs, 6)

	b, err := encodeBatch(sink.recs)
	require.NoError(t, err)
	got, err := newReplayer().decode(b)
	require.NoError(t, err)
	require.Len(t, got, 6)
	b2, err := encodeBatch(got)
	require.NoError(t, err)

	var want, have logspb.LogsData
	require.NoError(t, proto.Unmarshal(b, &want))
	require.NoError(t, proto.Unmarshal(b2, &have))
	assert.True(t, proto.Equal(&want, &have), "want %v\nhave %v", &want, &have)
	assert.Len(t, have.GetResourceLogs(), 2)
	assert.Len(t, have.GetResourceLogs()[0].GetScopeLogs(), 3)
	assert.Equal(t, attribute.STRINGSLICE, valueOf(&got[0], "token.scopes").Type())
	assert.Equal(t, tid, got[0].TraceID())
	assert.Equal(t, "https://opentelemetry.io/schemas/1.26.0", got[0].Resource().SchemaURL())
}

func valueOf(r *sdklog.Record, key attribute.Key) attribute.Value {
	var v attribute.Value
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == key {
			v = kv.Value
		}
		return true
	})
	return v
}
