package e2e

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/otelbearer/otelbearer/internal/stack"
)

// serviceC is the example's service name in TestCollectorDefenses.
const serviceC = "otelbearer-e2e-c"

// startStack starts a stack in a fresh directory (kept on failure, or
// always with OTELBEARER_E2E_KEEP=1), with
// the example (built there) when ex.ServiceName is set, and stops it when
// t ends.
func startStack(t *testing.T, root string, bin stack.Binaries, cc stack.CollectorConfig, ex stack.ExampleConfig) *stack.Stack {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("OTELBEARER_E2E_KEEP") == "1" { // keep the process logs
			keep, err := os.MkdirTemp("", "otelbearer-e2e-")
			if err == nil && os.CopyFS(keep, os.DirFS(dir)) == nil {
				t.Logf("process logs and exports kept in %s", keep)
			}
		}
	})
	if ex.ServiceName != "" {
		var err error
		if bin.Example, err = stack.BuildExample(context.Background(), root, dir); err != nil {
			t.Fatal(err)
		}
	}
	st, err := stack.Start(context.Background(), stack.Config{Dir: dir, Root: root, Bin: bin, Collector: cc, Example: ex})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	return st
}

// TestCollectorDefenses runs the Collector at 0% baseline sampling and
// checks what it does on its own: it strips the credentials of services
// that do not use otelbearer, and a failure trace is kept whatever trace
// context its client sent.
func TestCollectorDefenses(t *testing.T) {
	root, bin := requireE2E(t)
	ex := stack.ExampleConfig{
		ServiceName:    serviceC,
		FingerprintKey: "e2e-fingerprint-key-" + randHex(8),
		SigningKey:     "e2e-signing-key-" + randHex(16),
	}
	st := startStack(t, root, bin, stack.CollectorConfig{SamplePercent: 0, DecisionWait: time.Second}, ex)

	t.Run("PlainServiceCredentials", func(t *testing.T) { plainCredentials(t, st) })
	t.Run("UntrustedTraceContext", func(t *testing.T) { untrustedTraceContext(t, st) })
}

// untrustedTraceContext sends a benign request with a client-chosen
// traceparent X (the 0% baseline drops its trace and the Collector
// remembers X as dropped), then a failing request with the same X. The
// failure's trace must reach Jaeger: the service starts a new trace for an
// untrusted traceparent (linking X), so a client cannot pick a trace id
// whose fate is already sealed.
func untrustedTraceContext(t *testing.T, st *stack.Stack) {
	ctx := context.Background()
	tok, err := st.Mint(ctx, "-sub", "alice", "-scope", "read")
	if err != nil {
		t.Fatal(err)
	}
	traceX, spanX := randHex(16), randHex(8)
	traceparent := "00-" + traceX + "-" + spanX + "-01"
	send := func(ip, auth string, want int) {
		req, err := http.NewRequest(http.MethodGet, st.ExampleURL()+"/api/data/alice-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Traceparent", traceparent)
		resp, err := stack.ClientFrom(ip).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}

	send("127.0.0.21", "Bearer "+tok, http.StatusOK)
	// Wait until the benign request's audit record is in VictoriaLogs (the
	// service exported its spans in the same cycle), then past the
	// Collector's decision for it: decision_wait (1s) plus its 1s tick.
	authn := `service.name:="` + serviceC + `" AND event_name:="otelbearer.authn" AND client.address:="127.0.0.21"`
	eventually(t, 20*time.Second, func() string {
		got, err := countsBy(ctx, st.VictoriaLogsURL(), authn, "auth.event")
		if err != nil {
			return err.Error()
		}
		if got["token_valid"] != 1 {
			return "benign request's audit record not in VictoriaLogs yet: " + stringify(got)
		}
		return ""
	})
	time.Sleep(3 * time.Second)

	send("127.0.0.22", "Bearer garbage-"+randHex(16), http.StatusUnauthorized)
	var found stack.Trace
	eventually(t, 20*time.Second, func() string {
		traces, _, err := stack.JaegerTraces(ctx, st.JaegerURL(), serviceC, map[string]string{"auth.event": "token_invalid"})
		if err != nil {
			return err.Error()
		}
		for _, tr := range traces {
			if s, ok := tr.SpanByKind("server", ""); ok && s.Tag("client.address") == "127.0.0.22" {
				found = tr
				return ""
			}
		}
		return "the failure trace of a request that sent traceparent " + traceparent + " is not in Jaeger: tail sampling dropped it with the benign trace of the same id"
	})
	server, _ := found.SpanByKind("server", "")
	if found.TraceID == traceX {
		t.Errorf("the failure trace continued the client's trace id %s", traceX)
	}
	linked := false
	for _, r := range server.References {
		if r.TraceID == traceX && r.SpanID == spanX {
			linked = true
		}
	}
	if !linked {
		t.Errorf("server span of trace %s has no link to the client's context %s/%s; references %+v", found.TraceID, traceX, spanX, server.References)
	}
}
