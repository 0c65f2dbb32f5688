package setup_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/setup"
)

const poison = "POISON-RECORD"

// emitBody emits audit record seq with body body.
func emitBody(lp log.LoggerProvider, seq int, body string) {
	var rec log.Record
	rec.SetEventName(otelbearer.AuditEventAuthn)
	rec.SetSeverity(log.SeverityWarn)
	rec.SetBody(attribute.StringValue(body))
	rec.AddAttributes(attribute.Int("seq", seq))
	lp.Logger("github.com/otelbearer/otelbearer").Emit(context.Background(), rec)
}

// emitLarge emits audit record seq carrying about size bytes: the marker
// in the body and strings under the value bound (8 KiB) in attributes.
func emitLarge(lp log.LoggerProvider, seq, size int, marker string) {
	var rec log.Record
	rec.SetEventName(otelbearer.AuditEventAuthn)
	rec.SetBody(attribute.StringValue(marker))
	rec.AddAttributes(attribute.Int("seq", seq))
	for i := 0; size > 0; i++ {
		n := min(size, 8000)
		rec.AddAttributes(attribute.String(fmt.Sprintf("blob.%d", i), strings.Repeat(string(rune('a'+(seq+i)%26)), n)))
		size -= n
	}
	lp.Logger("github.com/otelbearer/otelbearer").Emit(context.Background(), rec)
}

// recordSizes returns the smallest and largest serialized log record received.
func recordSizes(rcv *otlptest.Receiver) (smallest, largest int) {
	smallest = math.MaxInt
	for _, req := range rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, r := range sl.GetLogRecords() {
					n := proto.Size(r)
					smallest, largest = min(smallest, n), max(largest, n)
				}
			}
		}
	}
	return smallest, largest
}

// startRejecting starts providers exporting through the real otlploggrpc
// exporter to rcv, with a batch of 512 and spool dir (none when "").
func startRejecting(t *testing.T, rcv *otlptest.Receiver, dir string, opts ...setup.Option) (*setup.Providers, *sdkmetric.ManualReader) {
	t.Helper()
	env(t, rcv.Addr())
	reader := sdkmetric.NewManualReader()
	all := []setup.Option{setup.WithoutGlobal(), setup.WithMetricReader(reader), setup.WithLogBatchSize(512),
		setup.WithLogExportTimeout(2 * time.Second)}
	if dir != "" {
		all = append(all, setup.WithSpoolDir(dir, 0))
	}
	p, err := setup.Start(t.Context(), append(all, opts...)...)
	require.NoError(t, err)
	return p, reader
}

// TestRejectedRecordDroppedAlone: the receiver rejects for good every
// request that carries one record (a marker it refuses, or a size over its
// limit). The batch of 512 it sits in is split; the 511 others arrive,
// the bad one is dropped and counted once, and later records keep flowing.
// With a spool, the same holds for the batch replayed from disk.
func TestRejectedRecordDroppedAlone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []otlptest.Option
		marker  bool
		down    bool // the receiver is down first: the batch is kept
		spooled bool
		http    bool // through otlploghttp
	}{
		{name: "InvalidArgument", marker: true},
		{name: "over the receiver's size limit", opts: []otlptest.Option{otlptest.WithMaxRecvMsgSize(48 << 10)}},
		{name: "replayed from the spool", marker: true, down: true, spooled: true},
		{name: "retried from memory", marker: true, down: true},
		{name: "OTLP/HTTP 400", marker: true, http: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := captureHandle(t)
			rcv := otlptest.Start(t, tc.opts...)
			size := 0
			if tc.marker {
				rcv.SetRejectMarker(poison)
			} else {
				size = 60 << 10 // alone over 48 KiB
			}
			dir := ""
			var opts []setup.Option
			if tc.spooled {
				dir = t.TempDir()
			}
			if tc.down {
				rcv.SetUnavailable(true)
				opts = append(opts, setup.WithLogExportTimeout(200*time.Millisecond))
			}
			if tc.http {
				t.Setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
				t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://"+rcv.HTTPAddr()+"/v1/logs")
			}
			p, reader := startRejecting(t, rcv, dir, opts...)
			for i := range 512 {
				if i == 300 {
					emitLarge(p.LoggerProvider, i, size, poison)
					continue
				}
				emitBody(p.LoggerProvider, i, "authentication result: token_invalid")
			}
			if tc.down {
				require.Error(t, p.LoggerProvider.ForceFlush(t.Context()), "the receiver is down: kept")
				if tc.spooled {
					assert.EqualValues(t, 512, sum(t, reader, "otelbearer.log.spooled", ""))
				}
				rcv.SetUnavailable(false)
			}
			require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
			assert.Equal(t, 511, rcv.LogCount(), "every good record arrives")
			assert.False(t, rcv.Contains(poison))
			assert.EqualValues(t, 1, sum(t, reader, "otelbearer.audit.dropped", "rejected"))
			assert.EqualValues(t, 1, sum(t, reader, "otelbearer.log.dropped", "rejected"))
			assert.EqualValues(t, 1, sum(t, reader, "otelbearer.log.dropped", ""), "nothing else dropped")
			if tc.spooled {
				assert.EqualValues(t, 511, sum(t, reader, "otelbearer.log.replayed", ""))
				assert.Zero(t, segments(t, dir), "the spool is empty")
			}
			reports := h.matching(setup.ErrRecordsDropped)
			require.Len(t, reports, 1)
			assert.Contains(t, reports[0], "dropped 1 audit records and 0 other log records")
			assert.Contains(t, reports[0], "rejected=1")
			assert.Contains(t, reports[0], "last rejection:")
			t.Logf("%d requests accepted, %d export failures, %d rejected by the marker",
				len(rcv.Logs()), sum(t, reader, "otelbearer.log.export.failures", ""), rcv.Rejected())

			for i := 512; i < 522; i++ {
				emitBody(p.LoggerProvider, i, "authentication result: token_invalid")
			}
			require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
			assert.Equal(t, 521, rcv.LogCount(), "later records keep flowing")
			assert.EqualValues(t, 1, sum(t, reader, "otelbearer.log.dropped", ""))
			require.NoError(t, p.Shutdown(t.Context()))
			seqs, _ := logSeqs(rcv.Logs())
			assert.NotContains(t, seqs, int64(300))
			assert.Len(t, seqs, 521)
		})
	}
}

// TestOversizedBatchSplit: 100 records of 60 KiB (6 MiB) exceed the
// receiver's default 4 MiB limit together; each fits. All arrive, by
// splitting, and none is dropped.
func TestOversizedBatchSplit(t *testing.T) {
	rcv := otlptest.Start(t)
	p, reader := startRejecting(t, rcv, "", setup.WithLogBatchSize(100))
	for i := range 100 {
		emitLarge(p.LoggerProvider, i, 60<<10, "large")
	}
	require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
	assert.Equal(t, 100, rcv.LogCount())
	assert.Zero(t, sum(t, reader, "otelbearer.log.dropped", ""))
	assert.EqualValues(t, 100, sum(t, reader, "otelbearer.log.exported", ""))
	assert.Positive(t, sum(t, reader, "otelbearer.log.export.failures", ""), "the whole batch was refused")
	smallest, _ := recordSizes(rcv)
	assert.GreaterOrEqual(t, smallest, 60<<10, "records arrive whole")
	t.Logf("%d requests, %d export failures", len(rcv.Logs()), sum(t, reader, "otelbearer.log.export.failures", ""))
	require.NoError(t, p.Shutdown(t.Context()))
}

// TestNotRejectedKeptForRetry: a receiver that is down (Unavailable) or
// refuses this client (Unauthenticated, PermissionDenied, Unimplemented)
// gets the batch again later: nothing is split or dropped; a refusal is
// reported as a configuration error.
func TestNotRejectedKeptForRetry(t *testing.T) {
	for _, tc := range []struct {
		code   codes.Code
		report string
	}{
		{codes.Unavailable, "log export failed (records kept for a retry)"},
		{codes.Unauthenticated, "the log receiver refuses this client"},
		{codes.PermissionDenied, "the log receiver refuses this client"},
		{codes.Unimplemented, "the log receiver refuses this client"},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			h := captureHandle(t)
			rcv := otlptest.Start(t)
			rcv.SetCode(tc.code)
			p, reader := startRejecting(t, rcv, "", setup.WithLogExportTimeout(200*time.Millisecond))
			for i := range 20 {
				emitBody(p.LoggerProvider, i, "authentication result: token_invalid")
			}
			require.Error(t, p.LoggerProvider.ForceFlush(t.Context()))
			assert.Zero(t, sum(t, reader, "otelbearer.log.dropped", ""))
			assert.Zero(t, rcv.LogCount())
			assert.EqualValues(t, 1, sum(t, reader, "otelbearer.log.export.failures", ""), "not split")
			h.mu.Lock()
			var msgs []string
			for _, err := range h.errs {
				msgs = append(msgs, err.Error())
			}
			h.mu.Unlock()
			require.NotEmpty(t, msgs)
			assert.Contains(t, msgs[0], tc.report)

			rcv.SetCode(codes.OK)
			require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
			assert.Equal(t, 20, rcv.LogCount())
			assert.Zero(t, sum(t, reader, "otelbearer.log.dropped", ""))
			require.NoError(t, p.Shutdown(t.Context()))
		})
	}
}

// TestPartialSuccessNotRetried: a receiver that takes a request and
// reports some of its records rejected (an OTLP partial success) is not
// sent the request again; the rejected records are counted as dropped.
func TestPartialSuccessNotRetried(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.SetPartialSuccess(2)
	p, reader := startRejecting(t, rcv, "")
	for i := range 10 {
		emitBody(p.LoggerProvider, i, "authentication result: token_invalid")
	}
	require.NoError(t, p.LoggerProvider.ForceFlush(t.Context()))
	assert.Len(t, rcv.Logs(), 1, "one request, not retried")
	assert.EqualValues(t, 2, sum(t, reader, "otelbearer.log.dropped", "rejected"))
	assert.EqualValues(t, 2, sum(t, reader, "otelbearer.audit.dropped", "rejected"))
	assert.EqualValues(t, 8, sum(t, reader, "otelbearer.log.exported", ""))
	assert.Zero(t, sum(t, reader, "otelbearer.log.export.failures", ""))
	require.NoError(t, p.Shutdown(t.Context()))
}
