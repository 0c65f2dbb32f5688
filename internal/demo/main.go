// Command demo runs the otelbearer pipeline on loopback for `make demo`:
// VictoriaLogs, Jaeger v2, the OpenTelemetry Collector
// (collector-config.yaml: redaction, tail sampling) and the example
// service. It sends a mixed run of legitimate traffic and attacks, prints
// where to look and what to ask, then keeps everything running until
// Ctrl-C or SIGTERM (or -duration), and stops it all in order.
//
// Usage:
//
//	go run ./internal/demo [-duration 0] [-sample-percent 10] [-keep]
//
// The usual ports are used when free (Jaeger query 16686, VictoriaLogs
// 9428, example 8080, Collector 4317/4318), free ones otherwise.
// DEMO_EXIT_AFTER (a duration such as 30s) works like -duration, for
// running the demo non-interactively. The binaries come from
// tools/build.sh all (make demo builds what is missing).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelbearer/otelbearer/internal/stack"
)

const (
	serviceName = "otelbearer-demo"
	// fingerprintKey is the example's development fingerprint key, set
	// explicitly so the printed commands use the same one.
	fingerprintKey = "otelbearer-dev-fingerprint-key"
	// decisionWait is the Collector's tail-sampling decision wait.
	decisionWait = 2 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the stack, sends traffic, prints the guide and waits until
// ctx is done or the duration passes.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	duration := fs.Duration("duration", 0, "stop after this long (0: run until Ctrl-C/SIGTERM); also $DEMO_EXIT_AFTER")
	percent := fs.Int("sample-percent", 10, "tail sampling: percent of non-failure traces kept (TAIL_SAMPLE_PERCENT)")
	keep := fs.Bool("keep", false, "keep the working directory (process logs, Collector export) after exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if v := os.Getenv("DEMO_EXIT_AFTER"); v != "" && *duration == 0 {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("DEMO_EXIT_AFTER: %w", err)
		}
		*duration = d
	}

	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	bin, err := stack.FindBinaries(root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "otelbearer-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if *keep || err != nil {
			fmt.Fprintf(out, "working directory kept: %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()

	start := time.Now()
	fmt.Fprintln(out, "demo: building the example service…")
	if bin.Example, err = stack.BuildExample(ctx, root, dir); err != nil {
		return err
	}
	fmt.Fprintln(out, "demo: starting VictoriaLogs, VictoriaMetrics, Jaeger, the Collector, vmalert and the example…")
	st, err := stack.Start(ctx, stack.Config{
		Dir: dir, Root: root, Bin: bin,
		Ports: stack.Ports{
			VictoriaLogs: 9428, JaegerQuery: 16686, JaegerQueryGRPC: 16685, JaegerOTLPGRPC: 14317,
			JaegerOTLPHTTP: 14318, JaegerHealth: 13134, JaegerMetrics: 18888, CollectorGRPC: 4317,
			CollectorHTTP: 4318, CollectorHealth: 13133, CollectorMetrics: 8889, Example: 8080,
		},
		Collector: stack.CollectorConfig{SamplePercent: *percent, DecisionWait: decisionWait},
		Detect:    stack.DetectConfig{VictoriaMetrics: 8428, VMAlertLogs: 8880, VMAlertMetrics: 8881},
		Example: stack.ExampleConfig{
			ServiceName:    serviceName,
			FingerprintKey: fingerprintKey,
			RevokedJTIs:    []string{"revoked-1"},
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "demo: stopping the example (flush), the Collector, Jaeger, VictoriaLogs…")
		if serr := st.Stop(); serr != nil {
			err = errors.Join(err, serr)
			return
		}
		fmt.Fprintln(out, "demo: stopped cleanly.")
	}()
	fmt.Fprintf(out, "demo: stack ready in %s (logs in %s)\n\n", time.Since(start).Round(100*time.Millisecond), dir)

	d := &demo{st: st, out: out, percent: *percent}
	if err := d.traffic(ctx); err != nil {
		return err
	}
	if err := d.attacks(ctx); err != nil {
		return err
	}
	// Let tail sampling decide and the batches reach the backends.
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(decisionWait + 2*time.Second):
	}
	if err := d.guide(ctx); err != nil {
		return err
	}
	d.alerts(ctx, 30*time.Second)

	if *duration > 0 {
		fmt.Fprintf(out, "\nRunning for %s (-duration / DEMO_EXIT_AFTER); Ctrl-C stops earlier.\n", *duration)
		select {
		case <-ctx.Done():
		case <-time.After(*duration):
		}
	} else {
		fmt.Fprintln(out, "\nEverything keeps running. Press Ctrl-C to stop.")
		<-ctx.Done()
	}
	fmt.Fprintln(out)
	return nil
}
