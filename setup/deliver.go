package setup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelbearer/otelbearer/internal/spool"
)

// The export loop: it alone calls the exporter and reads the spool.

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
			err := p.deliver(req.ctx, buf, true, true) // the caller's ctx bounds a flush
			p.drops.report(time.Now(), true)
			req.resp <- err
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
	if err := p.deliverBacklog(ctx, buf); err != nil {
		p.failed(err)
		p.spill(buf)
		return err
	}
	for p.q.Len() > 0 && (all || p.q.Len() >= p.cfg.batchSize) {
		n := p.q.pop(buf)
		done, _, err := p.exportSplit(ctx, buf[:n])
		if err != nil {
			p.keep(buf[done:n])
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

// failed schedules a retry after a failed delivery and reports it. A
// receiver that refuses this client (see classify) is reported as a
// configuration error; its records are kept all the same.
func (p *logProcessor) failed(err error) {
	p.lastErr = err
	p.backoff = min(max(2*p.backoff, retryMin), retryMax)
	p.retryAt = time.Now().Add(p.backoff)
	if classify(err) == refused {
		otel.Handle(fmt.Errorf("setup: the log receiver refuses this client, check the endpoint, headers "+
			"and credentials (records kept for a retry): %w", err))
		return
	}
	otel.Handle(fmt.Errorf("setup: log export failed (records kept for a retry): %w", err))
}

// deliverBacklog exports the failed in-memory batch, then spooled
// batches in order.
func (p *logProcessor) deliverBacklog(ctx context.Context, buf []sdklog.Record) error {
	// Spooled batches are older than the in-memory one: it is only kept
	// when there is no spool or the spool is full.
	if err := p.replay(ctx, buf); err != nil {
		return err
	}
	if len(p.pending) > 0 {
		done, _, err := p.exportSplit(ctx, p.pending)
		if err != nil {
			clear(p.pending[:done])
			p.pending = p.pending[done:]
			return err
		}
		p.pending = nil
	}
	return nil
}

// replay exports spooled batches, oldest first. While a long backlog is
// replayed and the queue fills up, queued records are spilled behind it
// (and replayed in turn), so they keep their order and are not dropped.
func (p *logProcessor) replay(ctx context.Context, buf []sdklog.Record) error {
	if p.spool == nil {
		return nil
	}
	for {
		spilled, err := p.replayTo(ctx, buf, p.spool.Newest())
		if err != nil || !spilled {
			return err
		}
	}
}

// replayTo exports spooled batches up to segment last. Segments appended
// by others meanwhile (records emitted after Shutdown) wait for the next
// delivery, so a replay during Shutdown ends. It reports whether it spilled
// queued records into the spool.
func (p *logProcessor) replayTo(ctx context.Context, buf []sdklog.Record, last uint64) (spilled bool, err error) {
	var prev uint64
	for {
		// Gather segments up to a batch (late records are one a segment).
		var recs []sdklog.Record
		var seqs []uint64
		var counts []int // records per segment
		for len(recs) < p.cfg.batchSize {
			seq, b, ok, err := p.spool.After(prev)
			if err != nil {
				return spilled, err
			}
			if !ok || seq > last {
				break
			}
			prev = seq
			got, err := p.rp.decode(b)
			if err != nil {
				// An unreadable segment cannot become readable: count it, remove it.
				otel.Handle(fmt.Errorf("setup: spool segment %d dropped: %w", seq, err))
				p.drop(false, reasonSpoolCorrupt, 1) // records unknown: one per segment
				if err := p.spool.Remove(seq); err != nil {
					return spilled, err
				}
				continue
			}
			seqs = append(seqs, seq)
			counts = append(counts, len(got))
			recs = append(recs, got...)
		}
		if len(seqs) == 0 {
			return spilled, nil
		}
		done, dropped, err := p.exportSplit(ctx, recs)
		p.m.replayed.Add(context.Background(), int64(done-dropped))
		// Remove the segments whose records are all done. After a split
		// that failed half way, a segment partly delivered stays and is
		// sent again whole: delivery stays at least once.
		covered := 0
		for i, seq := range seqs {
			if covered += counts[i]; covered > done {
				break
			}
			if err := p.spool.Remove(seq); err != nil {
				return spilled, err
			}
		}
		if err != nil {
			return spilled, err
		}
		if p.q.Len() >= p.cfg.queueSize/2 && len(p.pending) == 0 {
			p.spill(buf)
			spilled = true
		}
	}
}

// exportSplit exports recs and applies the rule that a bad record never
// takes its batch with it. When the receiver rejects recs for good (see
// classify), it splits them in halves (or, when the error gives the
// request's size and the receiver's limit, in as many parts as the limit
// requires) and exports each part the same way, so the good records are
// delivered and a record still rejected alone is dropped and counted
// (error.type "rejected"). A batch of n records with one bad record costs
// about 2·log2(n) more exports. It returns how many leading records are
// done (delivered or dropped), how many of those were dropped, and the
// error that left recs[done:] undelivered.
func (p *logProcessor) exportSplit(ctx context.Context, recs []sdklog.Record) (done, dropped int, err error) {
	err = p.export(ctx, recs)
	if err == nil {
		return len(recs), 0, nil
	}
	if classify(err) != rejected {
		return 0, 0, err
	}
	if len(recs) == 1 {
		p.dropRecords(recs, reasonRejected)
		p.drops.rejection(err)
		return 1, 1, nil
	}
	parts := min(len(recs), splitParts(err))
	for i := range parts {
		part := recs[i*len(recs)/parts : (i+1)*len(recs)/parts]
		d, x, err := p.exportSplit(ctx, part)
		done, dropped = done+d, dropped+x
		if err != nil {
			return done, dropped, err
		}
	}
	return done, dropped, nil
}

// export exports recs within the export timeout and counts the outcome.
// A partial success (the receiver took the request and rejected some of
// its records, which must not be sent again) is a success: the rejected
// records are counted as dropped (error.type "rejected"; as audit records
// up to the number of audit records in recs, since the receiver does not
// say which).
func (p *logProcessor) export(ctx context.Context, recs []sdklog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.exportTimeout)
	defer cancel()
	if err := p.exp.Export(ctx, recs); err != nil {
		n, ok := partialSuccess(err)
		if !ok {
			p.m.failures.Add(context.Background(), 1)
			return err
		}
		n = min(max(n, 0), int64(len(recs)))
		var audit int64
		for i := range recs {
			if isAudit(&recs[i]) {
				audit++
			}
		}
		audit = min(audit, n)
		p.drop(true, reasonRejected, audit)
		p.drop(false, reasonRejected, n-audit)
		if n > 0 {
			p.drops.rejection(err)
		}
		p.m.exported.Add(context.Background(), int64(len(recs))-n)
		return nil
	}
	p.m.exported.Add(context.Background(), int64(len(recs)))
	return nil
}

// keep puts a batch that failed to export into the spool or, without one
// or when it is full, keeps it in memory for the next attempt (the queue
// then fills and drops, counted, when full). At most one batch is kept in
// memory: callers keep only while nothing is pending.
func (p *logProcessor) keep(recs []sdklog.Record) {
	if p.spool != nil {
		err := p.spoolBatch(recs, true)
		if err == nil {
			return
		}
		if !errors.Is(err, spool.ErrFull) {
			otel.Handle(fmt.Errorf("setup: %w", err))
		}
	}
	p.pending = append(p.pending, recs...)
}

// spill moves queued records to the spool while exports fail, until the
// spool is full.
func (p *logProcessor) spill(buf []sdklog.Record) {
	if p.spool == nil {
		return
	}
	for p.q.Len() > 0 && len(p.pending) == 0 {
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
		var lost []sdklog.Record
		for i := 0; i < len(left); i += p.cfg.batchSize {
			chunk := left[i:min(i+p.cfg.batchSize, len(left))]
			if err := p.spoolBatch(chunk, true); err != nil {
				lost = append(lost, chunk...)
			}
		}
		if len(lost) > 0 {
			p.dropRecords(lost, reasonSpoolFull)
			result = fmt.Errorf("%w: %d records not exported before the shutdown deadline, spool %s full: %w",
				ErrRecordsDropped, len(lost), p.spool.Dir(), err)
		}
	case len(left) > 0:
		p.dropRecords(left, reasonShutdown)
		result = fmt.Errorf("%w: %d records not exported before the shutdown deadline: %w", ErrRecordsDropped, len(left), err)
	}
	if p.spool != nil && p.spool.Len() > 0 {
		result = errors.Join(result, fmt.Errorf("%w: %d bytes in %s for the next Start: %w", ErrRecordsSpooled, p.spool.Bytes(), p.spool.Dir(), err))
	}
	p.drops.report(time.Now(), true)
	p.drops.stop()
	return errors.Join(result, p.exp.Shutdown(ctx))
}
