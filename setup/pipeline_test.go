package setup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

// gateExporter blocks its first Export until release is closed, after
// telling entered how many records it holds; it counts every record.
type gateExporter struct {
	entered chan int
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	seqs    []int64
}

func newGateExporter() *gateExporter {
	return &gateExporter{entered: make(chan int, 1), release: make(chan struct{})}
}

func (e *gateExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	first := false
	e.once.Do(func() { first = true })
	if first {
		e.entered <- len(recs)
		select {
		case <-e.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range recs {
		recs[i].WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "seq" {
				e.seqs = append(e.seqs, kv.Value.AsInt64())
			}
			return true
		})
	}
	return nil
}
func (*gateExporter) Shutdown(context.Context) error   { return nil }
func (*gateExporter) ForceFlush(context.Context) error { return nil }

func (e *gateExporter) exported() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.seqs...)
}

// emitAudit emits one otelbearer.authn record numbered seq.
func emitAudit(lp log.LoggerProvider, seq int) {
	var rec log.Record
	rec.SetEventName(otelbearer.AuditEventAuthn)
	rec.SetSeverity(log.SeverityWarn)
	rec.SetBody(attribute.StringValue("authentication result: token_invalid"))
	rec.AddAttributes(attribute.Int("seq", seq), otelbearer.AuthEventKey.String("token_invalid"),
		attribute.StringSlice("token.scopes", []string{"read", "write"}))
	lp.Logger("github.com/otelbearer/otelbearer", log.WithInstrumentationVersion("v9")).Emit(context.Background(), rec)
}

// handled collects what reaches otel.Handle while the test runs.
type handled struct {
	mu   sync.Mutex
	errs []error
}

func captureHandle(t *testing.T) *handled {
	h := &handled{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		h.mu.Lock()
		h.errs = append(h.errs, err)
		h.mu.Unlock()
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return h
}

// matching returns the messages wrapping target.
func (h *handled) matching(target error) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, err := range h.errs {
		if errors.Is(err, target) {
			out = append(out, err.Error())
		}
	}
	return out
}

// sum returns the value of the counter name at the point with attribute
// error.type=errType ("" for any point), summed.
func sum(t *testing.T, r *sdkmetric.ManualReader, name, errType string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					v, _ := dp.Attributes.Value("error.type")
					if errType == "" || v.AsString() == errType {
						n += dp.Value
					}
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}

func TestBoundsExhausted(t *testing.T) {
	const queue, extra = 10, 25 // extra records while the exporter is stuck
	for _, tc := range []struct {
		name string
		opts []setup.Option
	}{
		{"drop", nil},
		{"blocking", []setup.Option{setup.WithAuditBlocking(20 * time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := captureHandle(t)
			exp := newGateExporter()
			reader := sdkmetric.NewManualReader()
			p, err := setup.Start(t.Context(), append([]setup.Option{setup.WithoutGlobal(),
				setup.WithLogExporter(exp), setup.WithSpanExporter(discardSpans{}), setup.WithMetricReader(reader),
				setup.WithLogQueueSize(queue), setup.WithLogBatchSize(1),
				setup.WithLogExportInterval(time.Hour)}, tc.opts...)...) // the report of drops waits an interval
			require.NoError(t, err)

			emitAudit(p.LoggerProvider, 0)
			require.Equal(t, 1, <-exp.entered) // the export loop is stuck on record 0
			for i := 1; i <= extra; i++ {
				emitAudit(p.LoggerProvider, i)
			}
			assert.EqualValues(t, queue, sum(t, reader, "otelbearer.log.queue.size", ""))
			close(exp.release)
			require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))

			dropped := extra - queue
			assert.EqualValues(t, dropped, sum(t, reader, "otelbearer.audit.dropped", "queue_full"))
			assert.EqualValues(t, dropped, sum(t, reader, "otelbearer.log.dropped", ""))
			assert.EqualValues(t, 1+queue, sum(t, reader, "otelbearer.log.exported", ""))
			assert.Len(t, exp.exported(), 1+queue)
			msgs := h.matching(setup.ErrRecordsDropped)
			require.Len(t, msgs, 1, "one report for the burst")
			assert.Contains(t, msgs[0], fmt.Sprintf("dropped %d audit records and 0 other log records since ", dropped))
			assert.Contains(t, msgs[0], fmt.Sprintf("queue_full=%d", dropped))

			require.NoError(t, p.Shutdown(t.Context()))
			assert.Len(t, h.matching(setup.ErrRecordsDropped), 1, "nothing more to report")
		})
	}
}

func TestBlockingWaitsForRoom(t *testing.T) {
	exp := newGateExporter()
	p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithLogExporter(exp),
		setup.WithSpanExporter(discardSpans{}), setup.WithMetricReader(sdkmetric.NewManualReader()),
		setup.WithLogQueueSize(2), setup.WithLogBatchSize(1), setup.WithAuditBlocking(time.Minute))
	require.NoError(t, err)
	emitAudit(p.LoggerProvider, 0)
	<-exp.entered
	emitAudit(p.LoggerProvider, 1)
	emitAudit(p.LoggerProvider, 2) // the queue is full now
	done := make(chan struct{})
	go func() { // waits until the exporter frees room
		emitAudit(p.LoggerProvider, 3)
		close(done)
	}()
	close(exp.release)
	<-done
	require.NoError(t, p.Shutdown(t.Context()))
	assert.ElementsMatch(t, []int64{0, 1, 2, 3}, exp.exported())
}

// logSeqs returns every received log record's seq attribute, in arrival
// order, and the resource service.instance.id of each.
func logSeqs(reqs []*collogspb.ExportLogsServiceRequest) (seqs []int64, instances []string) {
	for _, req := range reqs {
		for _, rl := range req.GetResourceLogs() {
			inst := ""
			for _, kv := range rl.GetResource().GetAttributes() {
				if kv.GetKey() == "service.instance.id" {
					inst = kv.GetValue().GetStringValue()
				}
			}
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					if s, ok := attr(r, "seq"); ok {
						seqs = append(seqs, s.GetIntValue())
						instances = append(instances, inst)
					}
				}
			}
		}
	}
	return seqs, instances
}

func attr(r *logspb.LogRecord, key string) (v interface{ GetIntValue() int64 }, ok bool) {
	for _, kv := range r.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue(), true
		}
	}
	return nil, false
}

// discardSpans is a span exporter that drops every span.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// TestMetricsOverOTLP: Start exports the pipeline's own metrics with the
// OTLP exporters' settings, unless OTEL_METRICS_EXPORTER=none.
func TestMetricsOverOTLP(t *testing.T) {
	for _, tc := range []struct {
		exporter string
		want     bool
	}{{"", true}, {"otlp", true}, {"none", false}, {"NONE", false}} {
		t.Run("OTEL_METRICS_EXPORTER="+tc.exporter, func(t *testing.T) {
			rcv := otlptest.Start(t)
			env(t, rcv.Addr())
			t.Setenv("OTEL_METRICS_EXPORTER", tc.exporter)
			p, err := setup.Start(t.Context(), setup.WithoutGlobal())
			require.NoError(t, err)
			emitAudit(p.LoggerProvider, 0)
			require.NoError(t, p.Shutdown(t.Context()))
			names := map[string]bool{}
			for _, req := range rcv.Metrics() {
				for _, rm := range req.GetResourceMetrics() {
					for _, sm := range rm.GetScopeMetrics() {
						for _, m := range sm.GetMetrics() {
							names[m.GetName()] = true
						}
					}
				}
			}
			if !tc.want {
				assert.Empty(t, names)
				return
			}
			for _, n := range []string{"otelbearer.log.exported", "otelbearer.log.queue.size", "otelbearer.log.queue.capacity"} {
				assert.True(t, names[n], n)
			}
		})
	}
}

// TestDropReportedWhileExportStuck: drops are reported through
// otel.Handle even while the export loop waits on a stuck exporter, and
// the reports add up to the metric.
func TestDropReportedWhileExportStuck(t *testing.T) {
	h := captureHandle(t)
	exp := newGateExporter()
	reader := sdkmetric.NewManualReader()
	p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithLogExporter(exp),
		setup.WithSpanExporter(discardSpans{}), setup.WithMetricReader(reader),
		setup.WithLogQueueSize(4), setup.WithLogBatchSize(1), setup.WithLogExportInterval(10*time.Millisecond))
	require.NoError(t, err)
	emitAudit(p.LoggerProvider, 0)
	<-exp.entered
	for i := 1; i <= 10; i++ {
		emitAudit(p.LoggerProvider, i)
	}
	require.Eventually(t, func() bool { return len(h.matching(setup.ErrRecordsDropped)) > 0 }, 10*time.Second, 5*time.Millisecond)
	close(exp.release)
	require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
	var reported int
	for _, m := range h.matching(setup.ErrRecordsDropped) {
		var n int
		_, err := fmt.Sscanf(m[strings.Index(m, "dropped "):], "dropped %d audit records", &n)
		require.NoError(t, err)
		reported += n
	}
	assert.Equal(t, 6, reported)
	assert.EqualValues(t, 6, sum(t, reader, "otelbearer.audit.dropped", ""))
	require.NoError(t, p.Shutdown(t.Context()))
}
