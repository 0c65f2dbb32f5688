package setup

import (
	"os"
	"strconv"
	"strings"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer"
)

// Option configures [Start].
type Option interface {
	apply(config) config
}

type optFunc func(config) config

func (f optFunc) apply(c config) config { return f(c) }

type config struct {
	redactor     *otelbearer.Redactor
	global       bool
	spanExporter sdktrace.SpanExporter
	logExporter  sdklog.Exporter
	resource     *resource.Resource
	metricReader sdkmetric.Reader
	logs         logConfig
	traceBudget  time.Duration
	logBudget    time.Duration
}

// logConfig configures the log pipeline's queue, exports and spool.
type logConfig struct {
	queueSize     int
	batchSize     int
	interval      time.Duration
	exportTimeout time.Duration
	blockFor      time.Duration // 0: drop when the queue is full
	spoolDir      string
	spoolMaxBytes int64
}

// Defaults of the log pipeline and of Shutdown.
const (
	DefaultLogQueueSize      = 65536            // records; OTEL_BLRP_MAX_QUEUE_SIZE overrides
	DefaultLogBatchSize      = 512              // records; OTEL_BLRP_MAX_EXPORT_BATCH_SIZE overrides
	DefaultLogExportInterval = time.Second      // OTEL_BLRP_SCHEDULE_DELAY (ms) overrides
	DefaultLogExportTimeout  = 30 * time.Second // OTEL_BLRP_EXPORT_TIMEOUT (ms) overrides
	DefaultBlockTimeout      = time.Second      // WithAuditBlocking(0)
	DefaultSpoolMaxBytes     = 256 << 20        // WithSpoolDir(dir, 0)
	DefaultTraceShutdown     = 5 * time.Second  // WithShutdownBudget
	DefaultLogShutdown       = 30 * time.Second // WithShutdownBudget
)

func newConfig(opts []Option) config {
	c := config{global: true}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	l := &c.logs
	l.queueSize = firstPositive(l.queueSize, envInt("OTEL_BLRP_MAX_QUEUE_SIZE"), DefaultLogQueueSize)
	l.batchSize = min(firstPositive(l.batchSize, envInt("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"), DefaultLogBatchSize), l.queueSize)
	l.interval = firstPositive(l.interval, envMillis("OTEL_BLRP_SCHEDULE_DELAY"), DefaultLogExportInterval)
	l.exportTimeout = firstPositive(l.exportTimeout, envMillis("OTEL_BLRP_EXPORT_TIMEOUT"), DefaultLogExportTimeout)
	c.traceBudget = firstPositive(c.traceBudget, DefaultTraceShutdown)
	c.logBudget = firstPositive(c.logBudget, DefaultLogShutdown)
	return c
}

func firstPositive[T int | time.Duration](vs ...T) T {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// envInt reads a positive integer; anything else is 0 (unset).
func envInt(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(name)))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func envMillis(name string) time.Duration { return time.Duration(envInt(name)) * time.Millisecond }

// WithRedactor sets the Redactor of both pipelines (default:
// otelbearer.NewRedactor() with its default rules). A nil r is ignored.
func WithRedactor(r *otelbearer.Redactor) Option {
	return optFunc(func(c config) config {
		if r != nil {
			c.redactor = r
		}
		return c
	})
}

// WithoutGlobal leaves the global TracerProvider, LoggerProvider and
// propagator alone; use the returned [Providers] explicitly (for example
// with otelbearer.WithLoggerProvider and otelhttp.WithTracerProvider).
func WithoutGlobal() Option {
	return optFunc(func(c config) config {
		c.global = false
		return c
	})
}

// WithSpanExporter replaces the span exporter OTEL_TRACES_EXPORTER and
// the OTLP protocol variables choose (for tests and other backends). The exporter still sits behind the redacting and batch span
// processors, and Shutdown shuts it down. A nil exp is ignored.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return optFunc(func(c config) config {
		if exp != nil {
			c.spanExporter = exp
		}
		return c
	})
}

// WithLogExporter replaces the log exporter OTEL_LOGS_EXPORTER and the
// OTLP protocol variables choose (for tests and other backends). The exporter still sits behind the logbridge and batch log
// processors, and Shutdown shuts it down. A nil exp is ignored.
func WithLogExporter(exp sdklog.Exporter) Option {
	return optFunc(func(c config) config {
		if exp != nil {
			c.logExporter = exp
		}
		return c
	})
}

// WithResource replaces the resource read from the environment. A nil res
// is ignored.
func WithResource(res *resource.Resource) Option {
	return optFunc(func(c config) config {
		if res != nil {
			c.resource = res
		}
		return c
	})
}

// WithLogQueueSize bounds the in-memory queue of log records waiting for
// export (default [DefaultLogQueueSize], or OTEL_BLRP_MAX_QUEUE_SIZE). A
// record that finds the queue full is dropped and counted in
// otelbearer.log.dropped (and otelbearer.audit.dropped for an audit
// record), unless [WithAuditBlocking] lets it wait. n <= 0 is ignored.
func WithLogQueueSize(n int) Option {
	return optFunc(func(c config) config {
		if n > 0 {
			c.logs.queueSize = n
		}
		return c
	})
}

// WithLogBatchSize sets the most log records in one export (default
// [DefaultLogBatchSize], or OTEL_BLRP_MAX_EXPORT_BATCH_SIZE; at most the
// queue size). n <= 0 is ignored.
func WithLogBatchSize(n int) Option {
	return optFunc(func(c config) config {
		if n > 0 {
			c.logs.batchSize = n
		}
		return c
	})
}

// WithLogExportInterval sets the longest time a log record waits in the
// queue before an export is started (default [DefaultLogExportInterval], or
// OTEL_BLRP_SCHEDULE_DELAY). d <= 0 is ignored.
func WithLogExportInterval(d time.Duration) Option {
	return optFunc(func(c config) config {
		if d > 0 {
			c.logs.interval = d
		}
		return c
	})
}

// WithLogExportTimeout bounds one log export (default
// [DefaultLogExportTimeout], or OTEL_BLRP_EXPORT_TIMEOUT). A batch whose
// export fails or times out is not dropped: it goes to the spool
// ([WithSpoolDir]) or is kept in memory and retried. d <= 0 is ignored.
func WithLogExportTimeout(d time.Duration) Option {
	return optFunc(func(c config) config {
		if d > 0 {
			c.logs.exportTimeout = d
		}
		return c
	})
}

// WithAuditBlocking makes the request that emits an audit record
// (otelbearer.authn, otelbearer.authz) wait up to maxWait for room in a
// full queue instead of dropping the record (default: no wait). Other log
// records never wait. A record still without room after maxWait is
// dropped and counted. maxWait <= 0 means [DefaultBlockTimeout].
func WithAuditBlocking(maxWait time.Duration) Option {
	return optFunc(func(c config) config {
		c.logs.blockFor = firstPositive(maxWait, DefaultBlockTimeout)
		return c
	})
}

// WithSpoolDir keeps log batches the exporter could not deliver (collector
// slow or down) in dir, at most maxBytes of them (maxBytes <= 0:
// [DefaultSpoolMaxBytes]), and exports them in order once exports work
// again, before newer records. Batches left at exit are exported by the
// next Start with the same dir, with the resource they were recorded
// with. Start fails if dir cannot be created. One process per dir. An
// empty dir is ignored.
func WithSpoolDir(dir string, maxBytes int64) Option {
	return optFunc(func(c config) config {
		if dir != "" {
			c.logs.spoolDir = dir
			c.logs.spoolMaxBytes = maxBytes
			if maxBytes <= 0 {
				c.logs.spoolMaxBytes = DefaultSpoolMaxBytes
			}
		}
		return c
	})
}

// WithMetricReader replaces the metric reader OTEL_METRICS_EXPORTER and
// the OTLP protocol variables choose (for tests:
// sdkmetric.NewManualReader()). Shutdown shuts it down. A nil r is
// ignored.
func WithMetricReader(r sdkmetric.Reader) Option {
	return optFunc(func(c config) config {
		if r != nil {
			c.metricReader = r
		}
		return c
	})
}

// WithShutdownBudget bounds the parts of [Providers.Shutdown]: traces get
// at most traces (default [DefaultTraceShutdown]) and logs at most logs
// (default [DefaultLogShutdown]), each also within the ctx given to
// Shutdown. A value <= 0 keeps its default.
func WithShutdownBudget(traces, logs time.Duration) Option {
	return optFunc(func(c config) config {
		if traces > 0 {
			c.traceBudget = traces
		}
		if logs > 0 {
			c.logBudget = logs
		}
		return c
	})
}
