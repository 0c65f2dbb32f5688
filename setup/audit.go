package setup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/spool"
)

// ErrRecordsDropped is wrapped by the errors that report log records lost
// for good: by [Providers.Shutdown] and by the otel.Handle reports of
// drops.
var ErrRecordsDropped = errors.New("setup: log records dropped")

// ErrRecordsSpooled is wrapped by the error [Providers.Shutdown] returns
// when records could not be exported in time and wait in the spool
// directory; the next [Start] with the same directory replays them.
var ErrRecordsSpooled = errors.New("setup: log records left in the spool")

// Retry backoff after a failed export.
const (
	retryMin = time.Second
	retryMax = 10 * time.Second
)

// logProcessor is the log pipeline's exporting processor: a bounded queue,
// one export loop, an optional disk spool for batches the exporter
// refused, and counted drops.
type logProcessor struct {
	exp   sdklog.Exporter
	cfg   logConfig
	q     *queue
	spool *spool.Spool // nil without WithSpoolDir
	m     *logMetrics
	drops *dropReporter

	trigger  chan struct{}
	flushReq chan request
	stopReq  chan request
	done     chan struct{}
	stopped  atomic.Bool
	lateMu   sync.Mutex         // serialises spool writes of records emitted after Shutdown
	ctx      context.Context    // of timed exports; cancelled when Shutdown's ctx ends
	cancel   context.CancelFunc // cancels ctx

	// Owned by the export loop.
	rp      *replayer
	pending []sdklog.Record // a failed batch kept in memory (no spool)
	backoff time.Duration
	retryAt time.Time
	lastErr error
}

type request struct {
	ctx  context.Context
	resp chan error
}

func newLogProcessor(exp sdklog.Exporter, cfg logConfig, mp metric.MeterProvider) (*logProcessor, error) {
	p := &logProcessor{
		exp: exp, cfg: cfg, q: newQueue(cfg.queueSize), drops: newDropReporter(cfg.interval, time.Minute),
		trigger: make(chan struct{}, 1), flushReq: make(chan request), stopReq: make(chan request),
		done: make(chan struct{}), rp: newReplayer(),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if cfg.spoolDir != "" {
		s, err := spool.Open(cfg.spoolDir, cfg.spoolMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		p.spool = s
	}
	m, err := newLogMetrics(mp, p)
	if err != nil {
		return nil, fmt.Errorf("setup: log metrics: %w", err)
	}
	p.m = m
	go p.run()
	if p.spool != nil && p.spool.Len() > 0 {
		p.kick() // replay what an earlier process left
	}
	return p, nil
}

func isAudit(r *sdklog.Record) bool {
	n := r.EventName()
	return n == otelbearer.AuditEventAuthn || n == otelbearer.AuditEventAuthz
}

// Enabled reports true: every record is queued.
func (*logProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit queues a copy of r. With blocking on, an audit record waits for
// room up to the configured bound; a record that finds no room is dropped
// and counted. After Shutdown the record is written to the spool, or
// dropped and counted without one. It returns nil.
func (p *logProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	audit := isAudit(r)
	if p.stopped.Load() {
		p.late(r, audit)
		return nil
	}
	var wait time.Duration
	if audit {
		wait = p.cfg.blockFor
	}
	n, res := p.q.push(r.Clone(), wait)
	switch res {
	case pushed:
		if n >= p.cfg.batchSize {
			p.kick()
		}
	case pushFull:
		p.drop(audit, reasonQueueFull, 1)
	case pushClosed:
		p.late(r, audit)
	}
	return nil
}

// late handles a record emitted after Shutdown began.
func (p *logProcessor) late(r *sdklog.Record, audit bool) {
	if p.spool != nil {
		// The emitting request waits for this write: no fsync (the record
		// survives the process exiting, not a power cut).
		p.lateMu.Lock()
		err := p.spoolBatch([]sdklog.Record{r.Clone()}, false)
		p.lateMu.Unlock()
		if err == nil {
			return
		}
	}
	p.drop(audit, reasonAfterClose, 1)
	p.drops.report(time.Now(), false)
}

func (p *logProcessor) drop(audit bool, reason string, n int64) {
	if n == 0 {
		return
	}
	opt := metric.WithAttributes(errorTypeKey.String(reason))
	p.m.logDropped.Add(context.Background(), n, opt)
	if audit {
		p.m.auditDropped.Add(context.Background(), n, opt)
	}
	p.drops.add(audit, reason, n)
}

func (p *logProcessor) dropRecords(recs []sdklog.Record, reason string) {
	var audit int64
	for i := range recs {
		if isAudit(&recs[i]) {
			audit++
		}
	}
	p.drop(true, reason, audit)
	p.drop(false, reason, int64(len(recs))-audit)
}

func (p *logProcessor) kick() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Shutdown stops the queue, exports what it can within ctx, writes the
// rest to the spool (or drops it, counted) and shuts the exporter down.
// Records emitted later go to the spool or are counted as dropped. The
// error wraps [ErrRecordsSpooled] or [ErrRecordsDropped] when records were
// not exported. Later calls return nil.
func (p *logProcessor) Shutdown(ctx context.Context) error {
	if p.stopped.Swap(true) {
		return nil
	}
	p.q.close()
	req := request{ctx: ctx, resp: make(chan error, 1)}
	select {
	case p.stopReq <- req:
	case <-ctx.Done():
		p.cancel() // end the export in progress; its records are kept
		p.stopReq <- req
	}
	return <-req.resp
}

// ForceFlush exports the backlog and every queued record now and returns
// the error that left records undelivered (they stay spooled or queued).
func (p *logProcessor) ForceFlush(ctx context.Context) error {
	if p.stopped.Load() {
		return nil
	}
	req := request{ctx: ctx, resp: make(chan error, 1)}
	select {
	case p.flushReq <- req:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.resp
}

var _ sdklog.Processor = (*logProcessor)(nil)
