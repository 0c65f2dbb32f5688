package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// meterScope is the instrumentation scope of the pipeline's own metrics.
const meterScope = "github.com/otelbearer/otelbearer/setup"

// Reasons a record is dropped, the error.type of the drop counters.
const (
	reasonQueueFull    = "queue_full"    // the queue was full (after the blocking wait, if any)
	reasonSpoolFull    = "spool_full"    // an export failed and the spool was full or failed
	reasonShutdown     = "shutdown"      // not delivered within the shutdown budget, no spool
	reasonAfterClose   = "after_close"   // emitted after Shutdown, no spool
	reasonSpoolCorrupt = "spool_corrupt" // a spooled segment could not be decoded (counted once)
	reasonRejected     = "rejected"      // the receiver rejected the record for good (alone, or in a partial success)
)

var errorTypeKey = attribute.Key("error.type")

// newMeterProvider builds the MeterProvider: the reader given with
// WithMetricReader (or chosen from OTEL_METRICS_EXPORTER and the OTLP
// protocol variables), else an OTLP/gRPC periodic reader unless
// OTEL_METRICS_EXPORTER is "none".
func newMeterProvider(ctx context.Context, c config, res *resource.Resource) (*sdkmetric.MeterProvider, error) {
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	switch {
	case c.metricReader != nil:
		opts = append(opts, sdkmetric.WithReader(c.metricReader))
	case strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_METRICS_EXPORTER")), "none"):
	default:
		exp, err := otlpmetricgrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("setup: metric exporter: %w", err)
		}
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	return sdkmetric.NewMeterProvider(opts...), nil
}

// logMetrics are the log pipeline's instruments.
type logMetrics struct {
	auditDropped metric.Int64Counter
	logDropped   metric.Int64Counter
	exported     metric.Int64Counter
	failures     metric.Int64Counter
	spooled      metric.Int64Counter
	replayed     metric.Int64Counter
}

func newLogMetrics(mp metric.MeterProvider, p *logProcessor) (*logMetrics, error) {
	m := mp.Meter(meterScope)
	var lm logMetrics
	var errs [9]error
	lm.auditDropped, errs[0] = m.Int64Counter("otelbearer.audit.dropped", metric.WithUnit("{record}"),
		metric.WithDescription("Audit records (otelbearer.authn, otelbearer.authz) dropped, by error.type."))
	lm.logDropped, errs[1] = m.Int64Counter("otelbearer.log.dropped", metric.WithUnit("{record}"),
		metric.WithDescription("Log records dropped (audit records included), by error.type."))
	lm.exported, errs[2] = m.Int64Counter("otelbearer.log.exported", metric.WithUnit("{record}"),
		metric.WithDescription("Log records the exporter accepted (replayed ones included)."))
	lm.failures, errs[3] = m.Int64Counter("otelbearer.log.export.failures", metric.WithUnit("{export}"),
		metric.WithDescription("Log exports that returned an error; their records were spooled or kept for a retry, or split and, when rejected alone, dropped."))
	lm.spooled, errs[4] = m.Int64Counter("otelbearer.log.spooled", metric.WithUnit("{record}"),
		metric.WithDescription("Log records written to the disk spool."))
	lm.replayed, errs[5] = m.Int64Counter("otelbearer.log.replayed", metric.WithUnit("{record}"),
		metric.WithDescription("Spooled log records exported."))
	qSize, e6 := m.Int64ObservableGauge("otelbearer.log.queue.size", metric.WithUnit("{record}"),
		metric.WithDescription("Log records waiting in the in-memory queue."))
	qCap, e7 := m.Int64ObservableGauge("otelbearer.log.queue.capacity", metric.WithUnit("{record}"),
		metric.WithDescription("Capacity of the in-memory log queue."))
	spoolSize, e8 := m.Int64ObservableGauge("otelbearer.log.spool.size", metric.WithUnit("By"),
		metric.WithDescription("Bytes waiting in the disk spool."))
	errs[6], errs[7], errs[8] = e6, e7, e8
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	// The callback stays registered after the pipeline's Shutdown, so the
	// MeterProvider's final collection still reports the spool size.
	_, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(qSize, int64(p.q.Len()))
		o.ObserveInt64(qCap, int64(p.cfg.queueSize))
		if p.spool != nil {
			o.ObserveInt64(spoolSize, p.spool.Bytes())
		}
		return nil
	}, qSize, qCap, spoolSize)
	return &lm, err
}

// dropReporter counts drops not yet reported through otel.Handle. The
// first drop after a quiet period schedules one report a short delay
// later (so a burst is reported as one count, even while the export loop
// is stuck in a slow export); later drops wait until the quiet period
// since the last report has passed.
type dropReporter struct {
	delay time.Duration
	quiet time.Duration

	mu         sync.Mutex
	audit      int64
	other      int64
	reasons    map[string]int64
	since      time.Time // start of the unreported period
	lastReport time.Time
	timer      *time.Timer // the scheduled report, if any

	lastRejection error // the receiver's last permanent rejection since the last report
}

// rejection keeps err, the receiver's reason for a permanent rejection,
// for the next report (the count itself goes through add).
func (d *dropReporter) rejection(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastRejection = err
}

func newDropReporter(delay, quiet time.Duration) *dropReporter {
	return &dropReporter{delay: delay, quiet: quiet, reasons: map[string]int64{}, since: time.Now()}
}

func (d *dropReporter) add(audit bool, reason string, n int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if audit {
		d.audit += n
	} else {
		d.other += n
	}
	d.reasons[reason] += n
	if d.timer != nil {
		return
	}
	wait := d.delay
	if !d.lastReport.IsZero() {
		wait = max(wait, time.Until(d.lastReport.Add(d.quiet)))
	}
	d.timer = time.AfterFunc(wait, func() { d.report(time.Now(), true) })
}

// stop cancels a scheduled report (Shutdown reports what is left itself).
func (d *dropReporter) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// report hands the unreported drops to otel.Handle when there are any and
// the last report is at least a quiet period old (or force is set).
func (d *dropReporter) report(now time.Time, force bool) {
	d.mu.Lock()
	if d.audit+d.other == 0 || (!force && !d.lastReport.IsZero() && now.Sub(d.lastReport) < d.quiet) {
		d.mu.Unlock()
		return
	}
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	var why []string
	for _, r := range []string{reasonQueueFull, reasonSpoolFull, reasonShutdown, reasonAfterClose, reasonSpoolCorrupt, reasonRejected} {
		if n := d.reasons[r]; n > 0 {
			why = append(why, fmt.Sprintf("%s=%d", r, n))
		}
	}
	err := fmt.Errorf("%w: dropped %d audit records and %d other log records since %s (%s); see metric otelbearer.audit.dropped",
		ErrRecordsDropped, d.audit, d.other, d.since.UTC().Format(time.RFC3339), strings.Join(why, ", "))
	if d.lastRejection != nil {
		err = fmt.Errorf("%w; last rejection: %w", err, d.lastRejection)
	}
	d.audit, d.other, d.lastRejection = 0, 0, nil
	clear(d.reasons)
	d.since, d.lastReport = now, now
	d.mu.Unlock()
	otel.Handle(err)
}

// spanExporter counts failed span exports.
type spanExporter struct {
	sdktrace.SpanExporter
	failures metric.Int64Counter
	dropped  metric.Int64Counter
}

func newSpanExporter(exp sdktrace.SpanExporter, mp metric.MeterProvider) (*spanExporter, error) {
	m := mp.Meter(meterScope)
	f, err1 := m.Int64Counter("otelbearer.span.export.failures", metric.WithUnit("{export}"),
		metric.WithDescription("Span exports that returned an error (their spans are lost)."))
	d, err2 := m.Int64Counter("otelbearer.span.export.dropped", metric.WithUnit("{span}"),
		metric.WithDescription("Spans in exports that returned an error."))
	return &spanExporter{SpanExporter: exp, failures: f, dropped: d}, errors.Join(err1, err2)
}

func (e *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.failures.Add(context.Background(), 1)
		e.dropped.Add(context.Background(), int64(len(spans)))
	}
	return err
}
