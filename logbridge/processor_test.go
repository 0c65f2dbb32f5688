package logbridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
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
	rec = emit(t, ctx, attribute.StringValue("m"), otelbearer.AuthzDecisionAttr(otelbearer.AuthzDeny))
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

// wirePipeline is a LoggerProvider exporting everything in one batch at
// shutdown through the real otlploggrpc exporter (no retries) to an
// in-process receiver; with bridge, logbridge's Processor comes first.
func wirePipeline(t *testing.T, bridge bool, opts ...sdklog.LoggerProviderOption) (*otlptest.Receiver, *sdklog.LoggerProvider) {
	t.Helper()
	rcv := otlptest.Start(t)
	exp, err := otlploggrpc.New(t.Context(), otlploggrpc.WithEndpoint(rcv.Addr()), otlploggrpc.WithInsecure(),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	var proc sdklog.Processor = sdklog.NewBatchProcessor(exp, sdklog.WithExportInterval(time.Hour))
	if bridge {
		proc = logbridge.NewProcessor(proc)
	}
	return rcv, sdklog.NewLoggerProvider(append(opts, sdklog.WithProcessor(proc))...)
}

// wireRecords returns every record received, and the resources they came
// with.
func wireRecords(rcv *otlptest.Receiver) []*logspb.LogRecord {
	var out []*logspb.LogRecord
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				out = append(out, sl.GetLogRecords()...)
			}
		}
	}
	return out
}

func recordAttr(r *logspb.LogRecord, key string) (*commonpb.AnyValue, bool) {
	for _, kv := range r.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue(), true
		}
	}
	return nil, false
}

// An audit record of GET /%ff carries invalid UTF-8 in url.path: the OTLP
// exporter fails to marshal the whole batch, and every audit record in it
// is lost. Five ~900 KB paths push one export over the receiver's 4 MiB
// limit. With the Processor every record arrives, valid and bounded, the
// changed ones marked with redaction.sanitized.
func TestProcessorWireSanitizesAndBounds(t *testing.T) {
	long := "/" + strings.Repeat("p", 900<<10)
	tests := []struct {
		name   string
		paths  []string
		marked int
		body   string // of an application record
		key    string
		wire   string // the exporter's error without the Processor
	}{
		{"invalid UTF-8", []string{"/ok/1", "/\xff", "/ok/2", "/\xc3("}, 3, "body \xff", "k\xff", "invalid UTF-8"},
		{"over 4 MiB", []string{long, long, long, long, long}, 5, "body", "k", "larger than max"},
	}
	for _, tt := range tests {
		for _, bridge := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bridge=%v", tt.name, bridge), func(t *testing.T) {
				rcv, lp := wirePipeline(t, bridge)
				// Records as a logger that copies request bytes verbatim writes
				// them (otelbearer's own audit records are cleaned at the
				// source, see TestWireValidUTF8 in the root package).
				for _, p := range tt.paths {
					var rec log.Record
					rec.SetEventName(otelbearer.AuditEventAuthn)
					rec.AddAttributes(attribute.String("url.path", p))
					lp.Logger("access").Emit(t.Context(), rec)
				}
				var rec log.Record
				rec.SetBody(attribute.StringValue(tt.body))
				rec.AddAttributes(attribute.String(tt.key, "v"))
				lp.Logger("app").Emit(t.Context(), rec)
				err := lp.Shutdown(t.Context())
				if !bridge {
					require.ErrorContains(t, err, tt.wire)
					assert.Zero(t, rcv.LogCount(), "the whole batch is lost")
					return
				}
				require.NoError(t, err)
				recs := wireRecords(rcv)
				require.Len(t, recs, len(tt.paths)+1, "every record arrives")
				marked := 0
				for _, r := range recs {
					assert.True(t, utf8.ValidString(r.GetBody().GetStringValue()))
					for _, kv := range r.GetAttributes() {
						assert.True(t, utf8.ValidString(kv.GetKey()))
						assert.True(t, utf8.ValidString(kv.GetValue().GetStringValue()), kv.GetKey())
					}
					if p, ok := recordAttr(r, "url.path"); ok {
						assert.LessOrEqual(t, len(p.GetStringValue()), otelbearer.DefaultMaxValueBytes)
					}
					if _, ok := recordAttr(r, string(otelbearer.RedactionSanitizedKey)); ok {
						marked++
					}
				}
				assert.Equal(t, tt.marked, marked, "the changed records")
			})
		}
	}
}

// The log resource cannot be rewritten by a processor; the LoggerProvider
// gets it redacted once (as setup.Start does), and the wire shows it.
func TestProcessorWireResource(t *testing.T) {
	r, err := otelbearer.NewRedactor()
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "api"),
		attribute.String("deployment.api_key", "cnryRes1"), attribute.String("note", "Bearer cnryRes2"))
	for _, redacted := range []bool{false, true} {
		give := res
		if redacted {
			give = r.Resource(res)
		}
		rcv, lp := wirePipeline(t, true, sdklog.WithResource(give))
		var rec log.Record
		rec.SetBody(attribute.StringValue("m"))
		lp.Logger("app").Emit(t.Context(), rec)
		require.NoError(t, lp.Shutdown(t.Context()))
		require.Equal(t, 1, rcv.LogCount())
		assert.Equal(t, !redacted, rcv.Contains("cnryRes1"))
		assert.Equal(t, !redacted, rcv.Contains("cnryRes2"))
		assert.True(t, rcv.Contains("api"))
	}
}

// Over the record bound, the body and attributes are cut longest first;
// the stamped attributes stay whole.
func TestProcessorRecordBound(t *testing.T) {
	ctx := requestContext(t)
	attrs := make([]attribute.KeyValue, 0, 20)
	for i := range 20 {
		attrs = append(attrs, attribute.String(fmt.Sprintf("big.%d", i), strings.Repeat("v", 8<<10)))
	}
	rec := emit(t, ctx, attribute.StringValue(strings.Repeat("b", 8<<10)), attrs...)
	total := len(rec.Body().AsString())
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		total += len(kv.Key) + len(kv.Value.String())
		return true
	})
	assert.LessOrEqual(t, total, otelbearer.DefaultMaxRecordBytes)
	m := kvs(rec)
	for _, kv := range otelbearer.Attributes(ctx) {
		assert.Equal(t, kv.Value, m[string(kv.Key)], kv.Key)
	}
	assert.Equal(t, int64(21), m[string(otelbearer.RedactionSanitizedKey)].AsInt64())
}

// A record's scope cannot be rewritten by a processor; NewLoggerProvider
// redacts and sanitizes it when the Logger is made. Without it, a scope
// name with invalid UTF-8 loses the whole batch and a scope attribute
// reaches the wire.
func TestLoggerProviderWireScope(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		rcv, lp := wirePipeline(t, true)
		var provider log.LoggerProvider = lp
		if wrap {
			provider = logbridge.NewLoggerProvider(lp)
		}
		logger := provider.Logger("app\xff", log.WithInstrumentationVersion("1.0"),
			log.WithInstrumentationAttributes(attribute.String("api_key", "cnryScope1")))
		var rec log.Record
		rec.SetBody(attribute.StringValue("m"))
		logger.Emit(t.Context(), rec)
		err := lp.Shutdown(t.Context())
		if !wrap {
			require.ErrorContains(t, err, "invalid UTF-8")
			assert.Zero(t, rcv.LogCount())
			continue
		}
		require.NoError(t, err)
		require.Equal(t, 1, rcv.LogCount())
		assert.False(t, rcv.Contains("cnryScope1"))
		sl := rcv.Logs()[0].GetResourceLogs()[0].GetScopeLogs()[0]
		assert.Equal(t, "app\uFFFD", sl.GetScope().GetName())
		assert.Equal(t, "1.0", sl.GetScope().GetVersion())
	}
}
