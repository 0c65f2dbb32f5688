package logbridge_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/logbridge"
)

// capture keeps a copy of every record it is given.
type capture struct {
	recs  []sdklog.Record
	calls [4]int // Enabled, OnEmit, ForceFlush, Shutdown
}

func (c *capture) Enabled(context.Context, sdklog.EnabledParameters) bool {
	c.calls[0]++
	return true
}

func (c *capture) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.calls[1]++
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *capture) ForceFlush(context.Context) error { c.calls[2]++; return nil }
func (c *capture) Shutdown(context.Context) error   { c.calls[3]++; return nil }

// emit emits one record built from body and attrs through a LoggerProvider
// whose processor is logbridge's around a capture, and returns what the
// capture received.
func emit(t *testing.T, ctx context.Context, body attribute.Value, attrs ...attribute.KeyValue) *sdklog.Record {
	t.Helper()
	c := &capture{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(logbridge.NewProcessor(c)))
	var rec log.Record
	rec.SetBody(body)
	rec.AddAttributes(attrs...)
	lp.Logger("test").Emit(ctx, rec)
	require.NoError(t, lp.Shutdown(context.Background()))
	require.Len(t, c.recs, 1)
	return &c.recs[0]
}

func kvs(rec *sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

func TestProcessorRedactsBodyAndAttributes(t *testing.T) {
	t.Run("string body", func(t *testing.T) {
		rec := emit(t, t.Context(), attribute.StringValue("sent Authorization: Bearer cnryBody1"))
		assert.Equal(t, "sent Authorization: Bearer REDACTED", rec.Body().AsString())
	})
	t.Run("map body", func(t *testing.T) {
		rec := emit(t, t.Context(), attribute.MapValue(
			attribute.String("password", "cnryBody2"), attribute.String("user", "bob"),
			attribute.Slice("list", attribute.StringValue("Bearer cnryBody3"))))
		assert.NotContains(t, rec.Body().String(), "cnry")
		assert.Contains(t, rec.Body().String(), "bob")
	})
	t.Run("attributes replaced, not added", func(t *testing.T) {
		rec := emit(t, t.Context(), attribute.StringValue("m"),
			attribute.String("authorization", "Bearer cnryAttr1"), attribute.Int("n", 1),
			attribute.StringSlice("cookie", []string{"a=cnryAttr2"}))
		m := kvs(rec)
		assert.Equal(t, "Bearer REDACTED", m["authorization"].AsString())
		assert.Equal(t, int64(1), m["n"].AsInt64())
		assert.Equal(t, 3, rec.AttributesLen())
		assert.NotContains(t, m["cookie"].String(), "cnry")
	})
}

func TestProcessorStampsIdempotently(t *testing.T) {
	ctx := requestContext(t)
	stamped := otelbearer.Attributes(ctx)
	require.NotEmpty(t, stamped)

	rec := emit(t, ctx, attribute.StringValue("m"), attribute.String("k", "v"))
	assert.Equal(t, 1+len(stamped), rec.AttributesLen())
	for _, kv := range stamped {
		assert.Equal(t, kv.Value, kvs(rec)[string(kv.Key)], kv.Key)
	}

	// A record with its own decision (an authz audit record) keeps it.
	rec = emit(t, ctx, attribute.StringValue("m"), otelbearer.AuthzDecisionKey.String(string(otelbearer.AuthzDeny)))
	assert.Equal(t, "deny", kvs(rec)["authz.decision"].AsString())
	assert.Equal(t, len(stamped), rec.AttributesLen())
}

func TestProcessorUnchangedRecordAllocs(t *testing.T) {
	var rec log.Record
	rec.SetBody(attribute.StringValue("plain message"))
	rec.AddAttributes(attribute.String("k", "v"), attribute.Int("n", 1))
	ctx := context.Background()
	allocs := func(p sdklog.Processor) float64 {
		logger := sdklog.NewLoggerProvider(sdklog.WithProcessor(p)).Logger("t")
		return testing.AllocsPerRun(100, func() { logger.Emit(ctx, rec) })
	}
	assert.Equal(t, allocs(discard{}), allocs(logbridge.NewProcessor(discard{})),
		"a record outside a request with nothing to redact costs no allocation")
}

func TestProcessorDelegates(t *testing.T) {
	next := &capture{}
	p := logbridge.NewProcessor(next)
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(p))
	logger := lp.Logger("t")
	assert.True(t, logger.Enabled(t.Context(), log.EnabledParameters{}))
	logger.Emit(t.Context(), log.Record{})
	assert.NoError(t, lp.ForceFlush(t.Context()))
	assert.NoError(t, lp.Shutdown(t.Context()))
	assert.Equal(t, [4]int{1, 1, 1, 1}, next.calls)

	standalone := logbridge.NewProcessor(nil)
	assert.True(t, standalone.Enabled(t.Context(), sdklog.EnabledParameters{}))
	assert.NoError(t, standalone.ForceFlush(t.Context()))
	assert.NoError(t, standalone.Shutdown(t.Context()))
}

func TestProcessorRedactionSummary(t *testing.T) {
	r, err := otelbearer.NewRedactor(otelbearer.WithRedactionSummary(true))
	require.NoError(t, err)
	emitWith := func(body attribute.Value, attrs ...attribute.KeyValue) *sdklog.Record {
		c := &capture{}
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(logbridge.NewProcessor(c, logbridge.WithRedactor(r))))
		var rec log.Record
		rec.SetBody(body)
		rec.AddAttributes(attrs...)
		lp.Logger("test").Emit(t.Context(), rec)
		require.NoError(t, lp.Shutdown(context.Background()))
		require.Len(t, c.recs, 1)
		return &c.recs[0]
	}
	rec := emitWith(attribute.StringValue("Bearer cnrySum1"),
		attribute.String("password", "cnrySum2"), attribute.String("user", "bob"))
	assert.Equal(t, int64(2), kvs(rec)["redaction.count"].AsInt64(), "one attribute and the body")

	rec = emitWith(attribute.StringValue("clean"), attribute.String("user", "bob"))
	_, ok := kvs(rec)["redaction.count"]
	assert.False(t, ok, "nothing redacted, no count")
}
