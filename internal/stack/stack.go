// Package stack starts the otelbearer pipeline on loopback for the
// end-to-end suite and the demo: VictoriaLogs, Jaeger v2, the
// OpenTelemetry Collector (collector-config.yaml) and the example service,
// each a child process in its own process group with its output in a file,
// plus the detection part (VictoriaMetrics, vmalert, an alert receiver;
// see detect.go).
//
// Start order is VictoriaLogs, VictoriaMetrics, Jaeger, Collector, vmalert,
// example, each waited for on its health endpoint; [Stack.Stop] stops the
// example, the Collector, Jaeger and VictoriaLogs in that order, then the
// detection part, SIGTERM first, so the
// example flushes its spans and audit records into a Collector that is
// still running. On Linux the children also die with the parent process
// (parent-death signal), so a crashed test leaves no orphans.
//
// The binaries are built by tools/build.sh (see [FindBinaries]); the
// example is built with [BuildExample].
package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ports are the loopback ports of the stack. A zero field gets a free
// port; a non-zero one is used when it is free, else a free port is
// chosen instead (the demo asks for the usual ports this way).
type Ports struct {
	VictoriaLogs     int // VictoriaLogs HTTP: ingestion, LogsQL, UI
	JaegerQuery      int // Jaeger query HTTP API (and placeholder UI)
	JaegerOTLPGRPC   int // Jaeger's OTLP/gRPC receiver (the Collector sends here)
	JaegerOTLPHTTP   int
	JaegerQueryGRPC  int
	JaegerHealth     int
	JaegerMetrics    int
	CollectorGRPC    int // Collector OTLP/gRPC receiver (the example sends here)
	CollectorHTTP    int
	CollectorHealth  int
	CollectorMetrics int
	Example          int // the example service
}

// Config describes one stack.
type Config struct {
	// Dir holds process logs, VictoriaLogs data and the Collector's file
	// export. It must exist.
	Dir string
	// Root is the repository root (collector-config.yaml, tools/).
	Root string
	// Bin holds the binary paths; see FindBinaries and BuildExample.
	Bin Binaries
	// Ports are the preferred ports; zero fields get free ports.
	Ports Ports
	// Collector is the Collector's tail-sampling and debug setup.
	Collector CollectorConfig
	// Example is the example service's setup.
	Example ExampleConfig
	// ReadyTimeout bounds each process's readiness wait (default 60s).
	ReadyTimeout time.Duration
	// Detect is the detection setup (VictoriaMetrics, vmalert).
	Detect DetectConfig
}

// CollectorConfig are the Collector knobs a run changes.
type CollectorConfig struct {
	// SamplePercent is TAIL_SAMPLE_PERCENT: the share of traces without a
	// failure that tail sampling keeps.
	SamplePercent int
	// DecisionWait is TAIL_DECISION_WAIT (default 1s).
	DecisionWait time.Duration
	// DebugVerbosity is the debug exporter's verbosity (default basic;
	// "detailed" prints every attribute to the Collector's log).
	DebugVerbosity string
	// ExportFile is the file exporter's output (default Dir/export-N.jsonl,
	// N counting Collector starts).
	ExportFile string
	// StorageDir is COLLECTOR_STORAGE_DIR, the file_storage directory of
	// the exporters' persistent queues (default Dir/collector-storage,
	// the same for every start, so a restarted Collector replays what a
	// killed one left queued). StartCollector creates it.
	StorageDir string
}

// ExampleConfig is the example service's environment.
type ExampleConfig struct {
	// ServiceName is OTEL_SERVICE_NAME.
	ServiceName string
	// FingerprintKey is OTELBEARER_FINGERPRINT_KEY.
	FingerprintKey string
	// SigningKey is EXAMPLE_SIGNING_KEY (also used by Mint).
	SigningKey string
	// RevokedJTIs is EXAMPLE_REVOKED_JTIS.
	RevokedJTIs []string
	// Env is added to the example's environment last (NAME=value), e.g.
	// OTEL_EXPORTER_OTLP_TIMEOUT.
	Env []string
}

// Stack is a running pipeline.
type Stack struct {
	cfg Config
	// Ports are the ports in use.
	Ports Ports

	VictoriaLogs, Jaeger, Collector, Example *Proc
	// Detect is the running detection part (see detect.go).
	Detect *Detection

	collectorStarts int
	// ExportFiles lists the Collector's file-export paths, one per start.
	ExportFiles []string
}

// Start starts the whole stack and waits until every part is ready; the
// example only when cfg.Bin.Example is set (a test that sends its own
// telemetry leaves it empty). On error everything already started is
// stopped again.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	s := &Stack{cfg: cfg, Ports: cfg.Ports}
	p := &s.Ports
	if err := ports(&p.VictoriaLogs, &p.JaegerQuery, &p.JaegerOTLPGRPC, &p.JaegerOTLPHTTP, &p.JaegerQueryGRPC,
		&p.JaegerHealth, &p.JaegerMetrics, &p.CollectorGRPC, &p.CollectorHTTP, &p.CollectorHealth,
		&p.CollectorMetrics, &p.Example); err != nil {
		return nil, err
	}
	err := s.startVictoriaLogs(ctx)
	if err == nil {
		err = s.startDetection(ctx)
	}
	if err == nil {
		err = s.startJaeger(ctx)
	}
	if err == nil {
		err = s.StartCollector(ctx, cfg.Collector)
	}
	if err == nil {
		err = s.startVMAlert(ctx)
	}
	if err == nil && cfg.Bin.Example != "" {
		err = s.StartExample(ctx, cfg.Example)
	}
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// VictoriaLogsFlushInterval is VictoriaLogs' -inmemoryDataFlushInterval
// here. It is an operator setting: the longest time an ingested record
// sits only in memory, i.e. what a killed VictoriaLogs may lose of what it
// had already acknowledged (its default is 5s; 1s is its minimum). Short
// also makes records searchable sooner.
const VictoriaLogsFlushInterval = "1s"

func (s *Stack) startVictoriaLogs(ctx context.Context) error {
	if s.VictoriaLogs != nil && !s.VictoriaLogs.Exited() {
		return errors.New("stack: victorialogs already running")
	}
	var err error
	s.VictoriaLogs, err = startProc(s.cfg.Dir, "victorialogs", s.cfg.Bin.VictoriaLogs, []string{
		"-storageDataPath", filepath.Join(s.cfg.Dir, "victorialogs-data"),
		"-httpListenAddr", addr(s.Ports.VictoriaLogs),
		"-inmemoryDataFlushInterval", VictoriaLogsFlushInterval,
	}, nil)
	if err != nil {
		return err
	}
	return s.VictoriaLogs.waitHTTP(ctx, s.VictoriaLogsURL()+"/health", s.cfg.ReadyTimeout)
}

// StopVictoriaLogs stops VictoriaLogs (SIGTERM; it flushes its data).
func (s *Stack) StopVictoriaLogs() error {
	if s.VictoriaLogs == nil {
		return nil
	}
	return s.VictoriaLogs.Stop(15 * time.Second)
}

// StartVictoriaLogs starts VictoriaLogs again after StopVictoriaLogs, on
// the same port and data directory, and waits until it is ready.
func (s *Stack) StartVictoriaLogs(ctx context.Context) error { return s.startVictoriaLogs(ctx) }

// startJaeger starts Jaeger with tools/jaeger/config.yaml. A binary built
// from the module serves a placeholder page at /; JAEGER_UI_ASSETS in the
// environment (inherited) points it at an unpacked Jaeger UI instead.
func (s *Stack) startJaeger(ctx context.Context) error {
	p := s.Ports
	var err error
	s.Jaeger, err = startProc(s.cfg.Dir, "jaeger", s.cfg.Bin.Jaeger,
		[]string{"--config", filepath.Join(s.cfg.Root, "tools", "jaeger", "config.yaml")},
		[]string{
			"JAEGER_OTLP_GRPC_ENDPOINT=" + addr(p.JaegerOTLPGRPC),
			"JAEGER_OTLP_HTTP_ENDPOINT=" + addr(p.JaegerOTLPHTTP),
			"JAEGER_QUERY_HTTP_ENDPOINT=" + addr(p.JaegerQuery),
			"JAEGER_QUERY_GRPC_ENDPOINT=" + addr(p.JaegerQueryGRPC),
			"JAEGER_HEALTH_ENDPOINT=" + addr(p.JaegerHealth),
			"JAEGER_METRICS_PORT=" + strconv.Itoa(p.JaegerMetrics),
		})
	if err != nil {
		return err
	}
	return s.Jaeger.waitHTTP(ctx, "http://"+addr(p.JaegerHealth)+"/status", s.cfg.ReadyTimeout)
}

// StartCollector starts the Collector with cc on the stack's ports. Stop
// the running one first with StopCollector.
func (s *Stack) StartCollector(ctx context.Context, cc CollectorConfig) error {
	if s.Collector != nil && !s.Collector.Exited() {
		return errors.New("stack: collector already running")
	}
	if cc.DecisionWait == 0 {
		cc.DecisionWait = time.Second
	}
	if cc.DebugVerbosity == "" {
		cc.DebugVerbosity = "basic"
	}
	s.collectorStarts++
	if cc.ExportFile == "" {
		cc.ExportFile = filepath.Join(s.cfg.Dir, fmt.Sprintf("export-%d.jsonl", s.collectorStarts))
	}
	if cc.StorageDir == "" {
		cc.StorageDir = filepath.Join(s.cfg.Dir, "collector-storage")
	}
	if err := os.MkdirAll(cc.StorageDir, 0o750); err != nil {
		return err
	}
	s.ExportFiles = append(s.ExportFiles, cc.ExportFile)
	s.cfg.Collector = cc
	p := s.Ports
	var err error
	s.Collector, err = startProc(s.cfg.Dir, "collector", s.cfg.Bin.Collector,
		[]string{"--config", filepath.Join(s.cfg.Root, "collector-config.yaml")},
		[]string{
			"OTLP_GRPC_ENDPOINT=" + addr(p.CollectorGRPC),
			"OTLP_HTTP_ENDPOINT=" + addr(p.CollectorHTTP),
			"COLLECTOR_HEALTH_ENDPOINT=" + addr(p.CollectorHealth),
			"COLLECTOR_METRICS_PORT=" + strconv.Itoa(p.CollectorMetrics),
			"JAEGER_OTLP_ENDPOINT=" + addr(p.JaegerOTLPGRPC),
			"VICTORIALOGS_OTLP_LOGS_URL=" + s.VictoriaLogsURL() + "/insert/opentelemetry/v1/logs",
			"VICTORIAMETRICS_OTLP_METRICS_URL=" + s.VictoriaMetricsURL() + "/opentelemetry/v1/metrics",
			"TAIL_SAMPLE_PERCENT=" + strconv.Itoa(cc.SamplePercent),
			"TAIL_DECISION_WAIT=" + cc.DecisionWait.String(),
			"COLLECTOR_FILE_EXPORT_PATH=" + cc.ExportFile,
			"COLLECTOR_FILE_FLUSH_INTERVAL=100ms",
			"DEBUG_VERBOSITY=" + cc.DebugVerbosity,
			"COLLECTOR_STORAGE_DIR=" + cc.StorageDir,
		})
	if err != nil {
		return err
	}
	return s.Collector.waitHTTP(ctx, "http://"+addr(p.CollectorHealth)+"/", s.cfg.ReadyTimeout)
}

// StopCollector stops the Collector (SIGTERM: it flushes its pipelines,
// including traces still waiting for a tail-sampling decision).
func (s *Stack) StopCollector() error {
	if s.Collector == nil {
		return nil
	}
	return s.Collector.Stop(15 * time.Second)
}

// KillCollector kills the Collector with SIGKILL, as a crash or the OOM
// killer would: nothing is flushed; what its persistent queues hold on disk
// is sent by the next StartCollector, what tail sampling held in memory is
// lost.
func (s *Stack) KillCollector() error {
	if s.Collector == nil {
		return nil
	}
	return s.Collector.Kill()
}

// CollectorOTLPEndpoint is the Collector's OTLP/gRPC host:port.
func (s *Stack) CollectorOTLPEndpoint() string { return addr(s.Ports.CollectorGRPC) }

// StartExample starts the example service with ec, sending OTLP to the
// Collector. Stop the running one first with StopExample.
func (s *Stack) StartExample(ctx context.Context, ec ExampleConfig) error {
	if s.Example != nil && !s.Example.Exited() {
		return errors.New("stack: example already running")
	}
	s.cfg.Example = ec
	env := append(s.exampleEnv(),
		"OTEL_SERVICE_NAME="+ec.ServiceName,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+addr(s.Ports.CollectorGRPC),
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_BSP_SCHEDULE_DELAY=200",
		"OTEL_BLRP_SCHEDULE_DELAY=200",
		"OTEL_METRIC_EXPORT_INTERVAL=1000", // auth metrics reach VictoriaMetrics within a second
		"OTEL_TRACES_SAMPLER=always_on",
		"EXAMPLE_REVOKED_JTIS="+strings.Join(ec.RevokedJTIs, ","),
	)
	env = append(env, ec.Env...)
	var err error
	s.Example, err = startProc(s.cfg.Dir, "example", s.cfg.Bin.Example,
		[]string{"-addr", s.ExampleAddr()}, env)
	if err != nil {
		return err
	}
	return s.Example.waitHTTP(ctx, s.ExampleURL()+"/healthz", s.cfg.ReadyTimeout)
}

// exampleEnv is the environment both the server and mint need.
func (s *Stack) exampleEnv() []string {
	var env []string
	if k := s.cfg.Example.FingerprintKey; k != "" {
		env = append(env, "OTELBEARER_FINGERPRINT_KEY="+k)
	}
	if k := s.cfg.Example.SigningKey; k != "" {
		env = append(env, "EXAMPLE_SIGNING_KEY="+k)
	}
	return env
}

// StopExample stops the example with SIGTERM, which makes it shut its
// HTTP server down and flush its spans and audit records.
func (s *Stack) StopExample() error {
	if s.Example == nil {
		return nil
	}
	return s.Example.Stop(15 * time.Second)
}

// Stop stops everything that runs: the example first (it flushes), then
// the Collector (it flushes), Jaeger and VictoriaLogs. It is safe to call
// more than once and on a partly started stack.
func (s *Stack) Stop() error {
	var errs []error
	for _, p := range []*Proc{s.Example, s.Collector, s.Jaeger, s.VictoriaLogs} {
		if p != nil {
			if err := p.Stop(15 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, s.stopDetection())
	return errors.Join(errs...)
}

// Mint runs "example mint" with args and returns the token.
func (s *Stack) Mint(ctx context.Context, args ...string) (string, error) {
	return Mint(ctx, s.cfg.Bin.Example, s.exampleEnv(), args...)
}

// ExampleAddr is the example's host:port.
func (s *Stack) ExampleAddr() string { return addr(s.Ports.Example) }

// ExampleURL is the example's base URL.
func (s *Stack) ExampleURL() string { return "http://" + s.ExampleAddr() }

// JaegerURL is the base URL of Jaeger's query API.
func (s *Stack) JaegerURL() string { return "http://" + addr(s.Ports.JaegerQuery) }

// VictoriaLogsURL is the base URL of VictoriaLogs.
func (s *Stack) VictoriaLogsURL() string { return "http://" + addr(s.Ports.VictoriaLogs) }

// Dir is the stack's working directory.
func (s *Stack) Dir() string { return s.cfg.Dir }

// ReadLogs returns the concatenated logs of the named processes.
func (s *Stack) ReadLogs(names ...string) (string, error) {
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(s.cfg.Dir, n+".log"))
		if err != nil {
			return "", err
		}
		b.Write(data)
	}
	return b.String(), nil
}
