package setup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
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

func (p *logProcessor) run() {
	timer := time.NewTimer(p.cfg.interval)
	defer timer.Stop()
	buf := make([]sdklog.Record, p.cfg.batchSize)
	for {
		select {
		case req := <-p.stopReq:
			req.resp <- p.shutdown(req.ctx, buf)
			close(p.done)
			p.cancel()
			return
		case req := <-p.flushReq:
			req.resp <- p.deliver(req.ctx, buf, true, true) // the caller's ctx bounds a flush
			p.drops.report(time.Now(), true)
			continue
		case <-timer.C:
			_ = p.deliver(p.ctx, buf, true, false)
		case <-p.trigger:
			_ = p.deliver(p.ctx, buf, false, false)
		}
		timer.Reset(p.cfg.interval)
	}
}

// deliver exports the backlog (a failed batch, then spooled batches,
// oldest first), then queued records: every queued record when all is
// set, else only full batches. While the exporter fails, it retries only
// after a backoff (unless now is set) and meanwhile moves queued batches to
// the spool, so their order is kept and memory freed. It returns the error
// that left records undelivered, if any.
func (p *logProcessor) deliver(ctx context.Context, buf []sdklog.Record, all, now bool) error {
	if p.lastErr != nil && !now && time.Now().Before(p.retryAt) {
		p.spill(buf)
		return p.lastErr
	}
	if err := p.deliverBacklog(ctx); err != nil {
		p.failed(err)
		p.spill(buf)
		return err
	}
	for p.q.Len() > 0 && (all || p.q.Len() >= p.cfg.batchSize) {
		n := p.q.pop(buf)
		err := p.export(ctx, buf[:n])
		if err != nil {
			p.keep(buf[:n])
			clear(buf[:n])
			p.failed(err)
			p.spill(buf)
			return err
		}
		clear(buf[:n])
	}
	p.lastErr, p.backoff = nil, 0
	return nil
}

func (p *logProcessor) failed(err error) {
	p.lastErr = err
	p.backoff = min(max(2*p.backoff, retryMin), retryMax)
	p.retryAt = time.Now().Add(p.backoff)
	otel.Handle(fmt.Errorf("setup: log export failed (records kept for a retry): %w", err))
}

// deliverBacklog exports the failed in-memory batch, then spooled
// batches in order.
func (p *logProcessor) deliverBacklog(ctx context.Context) error {
	if len(p.pending) > 0 {
		if err := p.export(ctx, p.pending); err != nil {
			return err
		}
		p.pending = nil
	}
	if p.spool == nil {
		return nil
	}
	// Segments appended meanwhile (records emitted after Shutdown) wait
	// for the next delivery: this one must end.
	last := p.spool.Newest()
	var prev uint64
	for {
		// Gather segments up to a batch (late records are one a segment).
		var recs []sdklog.Record
		var seqs []uint64
		for len(recs) < p.cfg.batchSize {
			seq, b, ok, err := p.spool.After(prev)
			if err != nil {
				return err
			}
			if !ok || seq > last {
				break
			}
			prev = seq
			seqs = append(seqs, seq)
			got, err := p.rp.decode(b)
			if err != nil {
				// An unreadable segment cannot become readable: count it, move on.
				otel.Handle(fmt.Errorf("setup: spool segment %d dropped: %w", seq, err))
				p.drop(false, reasonSpoolCorrupt, 1) // records unknown: one per segment
				continue
			}
			recs = append(recs, got...)
		}
		if len(seqs) == 0 {
			return nil
		}
		if err := p.export(ctx, recs); err != nil {
			return err
		}
		p.m.replayed.Add(context.Background(), int64(len(recs)))
		for _, seq := range seqs {
			if err := p.spool.Remove(seq); err != nil {
				return err
			}
		}
	}
}

// export exports recs within the export timeout and counts the outcome.
func (p *logProcessor) export(ctx context.Context, recs []sdklog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.exportTimeout)
	defer cancel()
	if err := p.exp.Export(ctx, recs); err != nil {
		p.m.failures.Add(context.Background(), 1)
		return err
	}
	p.m.exported.Add(context.Background(), int64(len(recs)))
	return nil
}

// keep puts a batch that failed to export into the spool, or keeps it in
// memory for the next attempt without one (the queue then fills and
// drops, counted, when full).
func (p *logProcessor) keep(recs []sdklog.Record) {
	if p.spool == nil {
		p.pending = append(p.pending, recs...)
		return
	}
	if err := p.spoolBatch(recs, true); err != nil {
		otel.Handle(fmt.Errorf("setup: spool: %w", err))
		p.dropRecords(recs, reasonSpoolFull)
	}
}

// spill moves every queued record to the spool while exports fail.
func (p *logProcessor) spill(buf []sdklog.Record) {
	if p.spool == nil {
		return
	}
	for p.q.Len() > 0 {
		n := p.q.pop(buf)
		p.keep(buf[:n])
		clear(buf[:n])
	}
}

func (p *logProcessor) spoolBatch(recs []sdklog.Record, durable bool) error {
	b, err := encodeBatch(recs)
	switch {
	case err != nil:
	case durable:
		err = p.spool.Append(b)
	default:
		err = p.spool.AppendNoSync(b)
	}
	if err == nil {
		p.m.spooled.Add(context.Background(), int64(len(recs)))
	}
	return err
}

// shutdown delivers what it can within ctx, spools or drops (counted) the
// rest, and shuts the exporter down.
func (p *logProcessor) shutdown(ctx context.Context, buf []sdklog.Record) error {
	var err error
	if ctx.Err() == nil {
		err = p.deliver(ctx, buf, true, true)
	} else {
		err = ctx.Err()
	}
	left := p.pending
	p.pending = nil
	for p.q.Len() > 0 {
		n := p.q.pop(buf)
		left = append(left, buf[:n]...)
		clear(buf[:n])
	}
	var result error
	switch {
	case len(left) > 0 && p.spool != nil:
		for i := 0; i < len(left); i += p.cfg.batchSize {
			p.keep(left[i:min(i+p.cfg.batchSize, len(left))])
		}
	case len(left) > 0:
		p.dropRecords(left, reasonShutdown)
		result = fmt.Errorf("%w: %d records not exported before the shutdown deadline: %w", ErrRecordsDropped, len(left), err)
	}
	if result == nil && p.spool != nil && p.spool.Len() > 0 {
		result = fmt.Errorf("%w: %d bytes in %s for the next Start: %w", ErrRecordsSpooled, p.spool.Bytes(), p.spool.Dir(), err)
	}
	p.drops.report(time.Now(), true)
	p.drops.stop()
	return errors.Join(result, p.exp.Shutdown(ctx))
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
