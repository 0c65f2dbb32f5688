package setup_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

// TestShutdownSlowReceiver: the collector answers later than the shutdown
// deadline. Without a spool the error says how many records were lost;
// with one, they wait on disk and the next Start delivers them once.
func TestShutdownSlowReceiver(t *testing.T) {
	const n = 100
	for _, tc := range []struct {
		name     string
		spoolMax int64 // -1: no spool
	}{{"no spool", -1}, {"spool", 0}, {"spool full", 1}} {
		spooled := tc.spoolMax >= 0 && tc.spoolMax != 1
		t.Run(tc.name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			env(t, rcv.Addr())
			rcv.SetDelay(time.Minute)
			dir := t.TempDir()
			opts := []setup.Option{setup.WithoutGlobal(), setup.WithLogBatchSize(16), setup.WithLogExportTimeout(time.Minute)}
			if tc.spoolMax >= 0 {
				opts = append(opts, setup.WithSpoolDir(dir, tc.spoolMax))
			}
			p, err := setup.Start(t.Context(), append(opts, setup.WithMetricReader(sdkmetric.NewManualReader()))...)
			require.NoError(t, err)
			for i := range n {
				emitAudit(p.LoggerProvider, i)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = p.Shutdown(ctx)
			assert.Less(t, time.Since(start), 2*time.Second, "Shutdown keeps to ctx")
			assert.Equal(t, 0, rcv.LogCount())
			if !spooled {
				require.ErrorIs(t, err, setup.ErrRecordsDropped)
				assert.Contains(t, err.Error(), fmt.Sprintf("%d records not exported before the shutdown deadline", n))
				assert.NotErrorIs(t, err, setup.ErrRecordsSpooled)
				return
			}
			require.ErrorIs(t, err, setup.ErrRecordsSpooled)
			assert.NotErrorIs(t, err, setup.ErrRecordsDropped)

			rcv.SetDelay(0)
			p2, err := setup.Start(t.Context(), append(opts, setup.WithMetricReader(sdkmetric.NewManualReader()))...)
			require.NoError(t, err)
			require.NoError(t, p2.Shutdown(t.Context()))
			seqs, _ := logSeqs(rcv.Logs())
			assert.Len(t, seqs, n)
			assert.ElementsMatch(t, seqRange(0, n), seqs)
		})
	}
}

func seqRange(from, to int) []int64 {
	out := make([]int64, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

// stuckSpans blocks every export until its context ends or the test
// does (the batch span processor drains with a context of its own).
type stuckSpans struct{ end chan struct{} }

func (s stuckSpans) ExportSpans(ctx context.Context, _ []sdktrace.ReadOnlySpan) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.end:
		return context.Canceled
	}
}
func (stuckSpans) Shutdown(context.Context) error { return nil }

// TestShutdownBudgets: a trace backend that never answers costs the trace
// budget only; the logs still get theirs.
func TestShutdownBudgets(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	end := make(chan struct{})
	t.Cleanup(func() { close(end) })
	p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithMetricReader(sdkmetric.NewManualReader()),
		setup.WithSpanExporter(stuckSpans{end: end}), setup.WithShutdownBudget(100*time.Millisecond, 0))
	require.NoError(t, err)
	_, span := p.TracerProvider.Tracer("t").Start(t.Context(), "op")
	span.End()
	for i := range 10 {
		emitAudit(p.LoggerProvider, i)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err = p.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "setup: traces: ")
	assert.NotContains(t, err.Error(), "setup: logs: ")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, 10, rcv.LogCount())
}

// TestShutdownDuringTraffic: records emitted while and after Shutdown runs
// are not lost: the queue is drained and later records go to the spool,
// which the next Start delivers.
func TestShutdownDuringTraffic(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	rcv.SetDelay(5 * time.Millisecond)
	dir := t.TempDir()
	// A small queue with blocking keeps the emitters at the receiver's pace.
	opts := []setup.Option{setup.WithoutGlobal(), setup.WithSpoolDir(dir, 0), setup.WithLogBatchSize(32),
		setup.WithLogQueueSize(256), setup.WithAuditBlocking(time.Minute)}
	p, err := setup.Start(t.Context(), append(opts, setup.WithMetricReader(sdkmetric.NewManualReader()))...)
	require.NoError(t, err)

	var next atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				emitAudit(p.LoggerProvider, int(next.Add(1)-1))
			}
		})
	}
	for next.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	err = p.Shutdown(t.Context())
	for after := next.Load() + 100; next.Load() < after; { // traffic goes on after Shutdown
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if err != nil {
		require.ErrorIs(t, err, setup.ErrRecordsSpooled)
	}
	assert.NotErrorIs(t, err, setup.ErrRecordsDropped)

	rcv.SetDelay(0)
	p2, err := setup.Start(t.Context(), append(opts, setup.WithMetricReader(sdkmetric.NewManualReader()))...)
	require.NoError(t, err)
	require.NoError(t, p2.Shutdown(t.Context()))
	seqs, _ := logSeqs(rcv.Logs())
	emitted := int(next.Load())
	t.Logf("emitted %d records, received %d", emitted, len(seqs))
	assert.ElementsMatch(t, seqRange(0, emitted), seqs, "every record exactly once")
}

// TestLateRecordWithoutSpool: a record emitted after Shutdown is counted
// and reported, not silently discarded.
func TestLateRecordWithoutSpool(t *testing.T) {
	h := captureHandle(t)
	p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithMetricReader(sdkmetric.NewManualReader()),
		setup.WithLogExporter(newGateExporterOpen()), setup.WithSpanExporter(discardSpans{}))
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(t.Context()))
	emitAudit(p.LoggerProvider, 0)
	msgs := h.matching(setup.ErrRecordsDropped)
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "dropped 1 audit records")
	assert.Contains(t, msgs[0], "after_close=1")
}

// newGateExporterOpen is a gateExporter that never blocks.
func newGateExporterOpen() *gateExporter {
	e := newGateExporter()
	close(e.release) // entered has room for the one send
	return e
}

// TestSpanDropsCounted: with OTEL_GO_X_OBSERVABILITY=true the SDK's batch
// span processor counts the spans it drops on the MeterProvider Start
// made global; failed span exports are counted by setup itself.
func TestSpanDropsCounted(t *testing.T) {
	t.Setenv("OTEL_GO_X_OBSERVABILITY", "true")
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "1")
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1")
	restoreGlobals(t)
	end := make(chan struct{})
	reader := sdkmetric.NewManualReader()
	p, err := setup.Start(t.Context(), setup.WithMetricReader(reader), setup.WithLogExporter(newGateExporterOpen()),
		setup.WithSpanExporter(stuckSpans{end: end}), setup.WithShutdownBudget(50*time.Millisecond, 0))
	require.NoError(t, err)
	for range 20 {
		_, span := p.TracerProvider.Tracer("t").Start(t.Context(), "op")
		span.End()
	}
	assert.Positive(t, sum(t, reader, "otel.sdk.processor.span.processed", "queue_full"))
	close(end) // the stuck exports fail
	require.Eventually(t, func() bool {
		return sum(t, reader, "otelbearer.span.export.failures", "") > 0
	}, 10*time.Second, 10*time.Millisecond)
	_ = p.Shutdown(t.Context())
}
