package setup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

func instance(id string) *resource.Resource {
	return resource.NewSchemaless(attribute.String("service.name", "spool-test"), attribute.String("service.instance.id", id))
}

// startSpooled starts providers exporting to rcv with a spool in dir.
func startSpooled(t *testing.T, rcv *otlptest.Receiver, dir, inst string, opts ...setup.Option) (*setup.Providers, *sdkmetric.ManualReader) {
	t.Helper()
	env(t, rcv.Addr())
	reader := sdkmetric.NewManualReader()
	p, err := setup.Start(t.Context(), append([]setup.Option{setup.WithoutGlobal(), setup.WithResource(instance(inst)),
		setup.WithMetricReader(reader), setup.WithSpoolDir(dir, 0), setup.WithLogExportTimeout(300 * time.Millisecond),
		setup.WithLogBatchSize(16)}, opts...)...)
	require.NoError(t, err)
	return p, reader
}

func segments(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	return len(entries)
}

// TestSpoolReplayAcrossRestart: collector down, records go to disk; the
// process stops; the next Start, with the collector back, delivers every
// record exactly once, in order, before newer records, with the resource
// and trace context it was recorded with.
func TestSpoolReplayAcrossRestart(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.SetUnavailable(true)
	dir := t.TempDir()
	p, reader := startSpooled(t, rcv, dir, "first")

	tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
	sid, _ := trace.SpanIDFromHex("0102030405060708")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	const n = 40
	for i := range n {
		if i == 7 {
			var rec log.Record
			rec.SetEventName(otelbearer.AuditEventAuthz)
			rec.SetTimestamp(time.Unix(1700000000, 42))
			rec.AddAttributes(attribute.Int("seq", i))
			p.LoggerProvider.Logger("traced").Emit(ctx, rec)
			continue
		}
		emitAudit(p.LoggerProvider, i)
	}
	err := p.LoggerProvider.ForceFlush(t.Context())
	require.Error(t, err, "the collector is down")
	assert.Equal(t, 0, rcv.LogCount())
	assert.Positive(t, segments(t, dir))
	assert.EqualValues(t, n, sum(t, reader, "otelbearer.log.spooled", ""))
	assert.Positive(t, sum(t, reader, "otelbearer.log.export.failures", ""))
	assert.Positive(t, sum(t, reader, "otelbearer.log.spool.size", ""))

	assert.Zero(t, sum(t, reader, "otelbearer.log.dropped", ""))
	err = p.Shutdown(t.Context())
	require.ErrorIs(t, err, setup.ErrRecordsSpooled)
	assert.NotErrorIs(t, err, setup.ErrRecordsDropped)

	rcv.SetUnavailable(false)
	p2, reader2 := startSpooled(t, rcv, dir, "second")
	for i := n; i < n+5; i++ {
		emitAudit(p2.LoggerProvider, i)
	}
	require.NoError(t, p2.LoggerProvider.ForceFlush(t.Context()))
	assert.EqualValues(t, n, sum(t, reader2, "otelbearer.log.replayed", ""))
	require.NoError(t, p2.Shutdown(t.Context()))
	assert.Equal(t, 0, segments(t, dir))

	seqs, insts := logSeqs(rcv.Logs())
	want := make([]int64, n+5)
	for i := range want {
		want[i] = int64(i)
	}
	// Within one export the OTLP request groups records by scope: record 7
	// (scope "traced") is listed apart from its neighbours.
	assert.ElementsMatch(t, want, seqs, "every record once")
	assert.Equal(t, append(want[:7:7], want[8:]...), slices.DeleteFunc(slices.Clone(seqs), func(s int64) bool { return s == 7 }),
		"spooled ones first, in order")
	assert.Less(t, slices.Index(seqs, 7), slices.Index(seqs, n), "spooled ones first")
	for i, inst := range insts {
		if i < n {
			assert.Equal(t, "first", inst, "record %d keeps the resource it was recorded with", i)
		} else {
			assert.Equal(t, "second", inst)
		}
	}
	var traced, scoped bool
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					if s, _ := attr(r, "seq"); s != nil && s.GetIntValue() == 7 {
						traced = assert.Equal(t, tid[:], r.GetTraceId()) && assert.Equal(t, sid[:], r.GetSpanId()) &&
							assert.EqualValues(t, 1, r.GetFlags()) && assert.EqualValues(t, 1700000000_000000042, r.GetTimeUnixNano()) &&
							assert.Equal(t, "traced", sl.GetScope().GetName()) && assert.Equal(t, otelbearer.AuditEventAuthz, r.GetEventName())
					}
					if s, _ := attr(r, "seq"); s != nil && s.GetIntValue() == 3 {
						scoped = assert.Equal(t, "v9", sl.GetScope().GetVersion()) &&
							assert.Contains(t, r.String(), `string_value:"write"`) &&
							assert.EqualValues(t, log.SeverityWarn, r.GetSeverityNumber())
					}
				}
			}
		}
	}
	assert.True(t, traced && scoped)
}

// TestSpoolReplayInProcess: the collector comes back while the process
// runs; the spool drains before newer records.
func TestSpoolReplayInProcess(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.SetUnavailable(true)
	p, reader := startSpooled(t, rcv, t.TempDir(), "one")
	for i := range 20 {
		emitAudit(p.LoggerProvider, i)
	}
	require.Error(t, p.LoggerProvider.ForceFlush(t.Context()))
	rcv.SetUnavailable(false)
	for i := 20; i < 25; i++ {
		emitAudit(p.LoggerProvider, i)
	}
	require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
	seqs, _ := logSeqs(rcv.Logs())
	want := make([]int64, 25)
	for i := range want {
		want[i] = int64(i)
	}
	assert.Equal(t, want, seqs)
	// The 20 spooled records are replayed; records 20-24 are replayed too
	// when they reached the queue while the replay ran (a queue filling
	// during a replay is spilled behind the backlog, to keep the order).
	replayed := sum(t, reader, "otelbearer.log.replayed", "")
	assert.GreaterOrEqual(t, replayed, int64(20))
	assert.LessOrEqual(t, replayed, int64(25))
	require.NoError(t, p.Shutdown(t.Context()))
}

// TestSpoolFull: with the collector down and the spool full, a failed
// batch waits in memory and the queue holds later records; only a record
// that finds the queue full too is dropped, and counted.
func TestSpoolFull(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.SetUnavailable(true)
	h := captureHandle(t)
	p, reader := startSpooled(t, rcv, t.TempDir(), "one", setup.WithSpoolDir(t.TempDir(), 1),
		setup.WithLogBatchSize(1), setup.WithLogQueueSize(2))
	emitAudit(p.LoggerProvider, 0)
	require.Error(t, p.LoggerProvider.ForceFlush(t.Context()))
	assert.Zero(t, sum(t, reader, "otelbearer.log.spooled", ""), "the spool is full")
	for i := 1; i <= 3; i++ { // 1 and 2 fill the queue; 3 finds it full
		emitAudit(p.LoggerProvider, i)
	}
	rcv.SetUnavailable(false)
	require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
	seqs, _ := logSeqs(rcv.Logs())
	assert.Equal(t, []int64{0, 1, 2}, seqs)
	assert.EqualValues(t, 1, sum(t, reader, "otelbearer.audit.dropped", "queue_full"))
	assert.EqualValues(t, 1, sum(t, reader, "otelbearer.audit.dropped", ""))
	require.NoError(t, p.Shutdown(t.Context()))
	msgs := h.matching(setup.ErrRecordsDropped)
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "dropped 1 audit records")
}

// failExporter refuses every export.
type failExporter struct{}

func (failExporter) Export(context.Context, []sdklog.Record) error {
	return errors.New("collector down")
}
func (failExporter) Shutdown(context.Context) error   { return nil }
func (failExporter) ForceFlush(context.Context) error { return nil }

// TestReplaySpillsQueue: while a spooled backlog is replayed, records
// filling the queue are spilled behind it, and everything is exported in
// order.
func TestReplaySpillsQueue(t *testing.T) {
	dir := t.TempDir()
	base := []setup.Option{setup.WithoutGlobal(), setup.WithSpanExporter(discardSpans{}),
		setup.WithSpoolDir(dir, 0), setup.WithLogBatchSize(8), setup.WithLogExportInterval(time.Hour)}
	p, err := setup.Start(t.Context(), append(base, setup.WithLogExporter(failExporter{}), setup.WithLogQueueSize(64),
		setup.WithMetricReader(sdkmetric.NewManualReader()))...)
	require.NoError(t, err)
	for i := range 40 {
		emitAudit(p.LoggerProvider, i)
	}
	require.ErrorIs(t, p.Shutdown(t.Context()), setup.ErrRecordsSpooled)

	exp := newGateExporter()
	reader := sdkmetric.NewManualReader()
	p2, err := setup.Start(t.Context(), append(base, setup.WithLogExporter(exp), setup.WithMetricReader(reader),
		setup.WithLogQueueSize(8))...)
	require.NoError(t, err)
	require.Equal(t, 8, <-exp.entered) // the replay's first batch
	for i := 40; i < 48; i++ {         // fill the queue meanwhile
		emitAudit(p2.LoggerProvider, i)
	}
	close(exp.release)
	require.NoError(t, p2.LoggerProvider.ForceFlush(t.Context()))
	assert.Equal(t, seqRange(0, 48), exp.exported())
	assert.EqualValues(t, 8, sum(t, reader, "otelbearer.log.spooled", ""), "the queue was spilled")
	assert.EqualValues(t, 48, sum(t, reader, "otelbearer.log.replayed", ""))
	assert.Zero(t, sum(t, reader, "otelbearer.log.dropped", ""))
	require.NoError(t, p2.Shutdown(t.Context()))
}

// TestSpoolHoldsRedactedRecords: records reach the spool after stamping
// and redaction; the raw credential is never written to disk.
func TestSpoolHoldsRedactedRecords(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.SetUnavailable(true)
	dir := t.TempDir()
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "200") // ms: the spans are lost quickly
	p, _ := startSpooled(t, rcv, dir, "one")
	require.Equal(t, 200, serveOne(t, p))
	require.ErrorIs(t, p.Shutdown(t.Context()), setup.ErrRecordsSpooled)
	var disk []byte
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		disk = append(disk, b...)
	}
	assert.NotContains(t, string(disk), token)
	assert.Contains(t, string(disk), "Bearer "+otelbearer.Redacted)
	assert.Contains(t, string(disk), "token.fingerprint")
}

func TestStartBadSpoolDir(t *testing.T) {
	rcv := otlptest.Start(t)
	env(t, rcv.Addr())
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	p, err := setup.Start(t.Context(), setup.WithoutGlobal(), setup.WithSpoolDir(filepath.Join(file, "spool"), 0))
	require.Error(t, err)
	assert.ErrorContains(t, err, "setup: spool: ")
	assert.Nil(t, p)
}
