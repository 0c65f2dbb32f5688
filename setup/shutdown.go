package setup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Shutdown stops the pipelines in this order, each within its own budget:
//
//  1. the TracerProvider (flushes the batch span processor): at most the
//     trace budget ([WithShutdownBudget]) and at most a third of the time
//     ctx has left;
//  2. the log pipeline: queued records are exported within the log budget
//     and what ctx has left (less a reserve for step 3); what cannot be
//     exported in time is written to the spool ([WithSpoolDir]) or, without
//     one, dropped and counted;
//  3. the MeterProvider, so the final drop counts are exported.
//
// Stop the HTTP server before calling it, so in-flight requests emit
// their audit records first. Records emitted after step 2 began are
// written to the spool or counted in otelbearer.log.dropped with
// error.type=after_close and reported through otel.Handle: the
// LoggerProvider itself is not shut down, so it keeps handing them to the
// pipeline instead of discarding them unseen (the SDK does that after
// LoggerProvider.Shutdown).
//
// The error joins each step's error. Logs that were not exported wrap
// [ErrRecordsSpooled] (they wait in the spool for the next Start) or
// [ErrRecordsDropped] (lost), with the count; a timeout of the trace step
// does not shorten the log step. Later calls return nil.
func (p *Providers) Shutdown(ctx context.Context) error {
	if p.shut.Swap(true) {
		return nil
	}
	var errs []error
	if p.TracerProvider != nil {
		tctx, cancel := stage(ctx, p.traceBudget, 3)
		if err := p.TracerProvider.Shutdown(tctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: traces: %w", err))
		}
		cancel()
	}
	switch {
	case p.logs != nil:
		lctx, cancel := stage(ctx, p.logBudget, 0)
		if err := p.logs.Shutdown(lctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: logs: %w", err))
		}
		cancel()
	case p.LoggerProvider != nil: // Providers not built by Start
		if err := p.LoggerProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: logs: %w", err))
		}
	}
	if p.MeterProvider != nil {
		if err := p.MeterProvider.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stage derives the context of one shutdown step: at most budget (when
// > 0) and, when ctx has a deadline, at most 1/share of the time left
// (share > 0) or the time left less a reserve for the metrics step.
func stage(ctx context.Context, budget time.Duration, share int) (context.Context, context.CancelFunc) {
	limit := budget
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if share > 0 {
			left /= time.Duration(share)
		} else {
			left -= min(left/10, time.Second)
		}
		if limit <= 0 || left < limit {
			limit = left
		}
	}
	if limit <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, limit)
}
