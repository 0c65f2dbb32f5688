package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelbearer/otelbearer/internal/stack"
)

// serviceF is the example's service name in TestFaultInjection.
const serviceF = "otelbearer-e2e-faults"

// traffic sends GET /api/data/alice-<n> at a steady rate, n counting up
// from 1, so each request's audit record is told apart by url.path.
type traffic struct {
	base, token string
	every       time.Duration

	mu     sync.Mutex
	phase  string
	phases []string       // phase of request n at index n-1
	status map[int]int    // answered requests: n -> status
	errs   map[string]int // transport errors by phase

	stop chan struct{}
	done chan struct{}
}

func startTraffic(base, token string, rate int) *traffic {
	tr := &traffic{base: base, token: token, every: time.Second / time.Duration(rate), phase: "steady",
		status: map[int]int{}, errs: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go tr.run()
	return tr
}

func (tr *traffic) run() {
	defer close(tr.done)
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(tr.every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-tr.stop:
			return
		case <-tick.C:
		}
		tr.mu.Lock()
		phase := tr.phase
		tr.phases = append(tr.phases, phase)
		tr.mu.Unlock()
		req, _ := http.NewRequest(http.MethodGet, tr.base+"/api/data/alice-"+strconv.Itoa(n), nil)
		req.Header.Set("Authorization", "Bearer "+tr.token)
		resp, err := client.Do(req)
		tr.mu.Lock()
		if err != nil {
			tr.errs[phase]++
		} else {
			resp.Body.Close()
			tr.status[n] = resp.StatusCode
		}
		tr.mu.Unlock()
	}
}

// set names the phase the following requests belong to.
func (tr *traffic) set(phase string) {
	tr.mu.Lock()
	tr.phase = phase
	tr.mu.Unlock()
}

// end stops the traffic and waits for the last request.
func (tr *traffic) end() {
	close(tr.stop)
	<-tr.done
}

// TestFaultInjection kills the real Collector (SIGKILL) for 10 s under
// steady traffic, then again while VictoriaLogs is down, brings
// everything back and counts the authentication audit records that
// reached VictoriaLogs against the requests answered: missing ones per
// phase and duplicates. It measures; it fails only when the stack cannot
// be restarted, or with OTELBEARER_STRESS_STRICT=1 when a record is
// missing. It runs with OTELBEARER_STRESS=1 (about 75 s);
// OTELBEARER_STRESS_OTLP_TIMEOUT (milliseconds) sets the service's
// OTEL_EXPORTER_OTLP_TIMEOUT, the time its exporter keeps retrying one
// batch (SDK default 10000: about the length of each outage here).
func TestFaultInjection(t *testing.T) {
	root, bin := requireE2E(t)
	if os.Getenv("OTELBEARER_STRESS") != "1" {
		t.Skip("fault injection: set OTELBEARER_STRESS=1 (make stress); about 75 s")
	}
	ctx := context.Background()
	cc := stack.CollectorConfig{SamplePercent: 0, DecisionWait: time.Second}
	ex := stack.ExampleConfig{
		ServiceName:    serviceF,
		FingerprintKey: "e2e-fingerprint-key-" + randHex(8),
		SigningKey:     "e2e-signing-key-" + randHex(16),
	}
	if ms := os.Getenv("OTELBEARER_STRESS_OTLP_TIMEOUT"); ms != "" {
		ex.Env = append(ex.Env, "OTEL_EXPORTER_OTLP_TIMEOUT="+ms)
		t.Logf("service exporter: OTEL_EXPORTER_OTLP_TIMEOUT=%s", ms)
	}
	st := startStack(t, root, bin, cc, ex)
	tok, err := st.Mint(ctx, "-sub", "alice", "-scope", "read", "-ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const rate = 25 // requests per second
	tr := startTraffic(st.ExampleURL(), tok, rate)
	stopped := false
	defer func() {
		if !stopped {
			tr.end()
		}
	}()

	time.Sleep(5 * time.Second)
	tr.set("collector killed")
	must("kill collector", st.KillCollector())
	time.Sleep(10 * time.Second)
	tr.set("after collector restart")
	must("restart collector", st.StartCollector(ctx, cc))
	time.Sleep(5 * time.Second)

	tr.set("victorialogs down")
	must("stop victorialogs", st.StopVictoriaLogs())
	time.Sleep(3 * time.Second)
	tr.set("victorialogs down, collector killed")
	must("kill collector", st.KillCollector())
	time.Sleep(10 * time.Second)
	tr.set("victorialogs down, collector back")
	must("restart collector", st.StartCollector(ctx, cc))
	time.Sleep(5 * time.Second)
	tr.set("all back")
	must("restart victorialogs", st.StartVictoriaLogs(ctx))
	time.Sleep(5 * time.Second)
	tr.end()
	stopped = true
	must("stop example (flush)", st.StopExample())

	// Wait until the count settles: the Collector's queues retry with up
	// to 10 s backoff, the example's exporter with up to 30 s.
	query := `service.name:="` + serviceF + `" AND event_name:="otelbearer.authn"`
	var byPath map[string]int
	last, same := -1, 0
	deadline := time.Now().Add(90 * time.Second)
	for same < 4 && time.Now().Before(deadline) {
		time.Sleep(3 * time.Second)
		got, err := countsBy(ctx, st.VictoriaLogsURL(), query, "url.path")
		if err != nil {
			t.Logf("query: %v", err)
			continue
		}
		total := 0
		for _, n := range got {
			total += n
		}
		if total == last {
			same++
		} else {
			last, same, byPath = total, 0, got
		}
	}

	// What reached the Collector: its file exports, one per start (the
	// file exporter flushes every 100 ms, so a kill may cut the last lines).
	atCollector, err := authnPaths(st.ExportFiles)
	if err != nil {
		t.Fatal(err)
	}

	type figures struct{ sent, collector, arrived, missing, dups, errs int }
	per := map[string]*figures{}
	var order []string
	var all figures
	tr.mu.Lock()
	for i, phase := range tr.phases {
		n := i + 1
		f := per[phase]
		if f == nil {
			f = &figures{errs: tr.errs[phase]}
			per[phase] = f
			order = append(order, phase)
		}
		if _, ok := tr.status[n]; !ok {
			continue // no answer: the service saw no request or did not answer
		}
		f.sent++
		path := "/api/data/alice-" + strconv.Itoa(n)
		if atCollector[path] > 0 {
			f.collector++
		}
		switch c := byPath[path]; {
		case c == 0:
			f.missing++
		default:
			f.arrived++
			f.dups += c - 1
		}
	}
	tr.mu.Unlock()
	var report strings.Builder
	fmt.Fprintf(&report, "%-38s %6s %9s %8s %8s %5s %6s\n", "phase", "sent", "collector", "arrived", "missing", "dups", "errors")
	for _, p := range order {
		f := per[p]
		fmt.Fprintf(&report, "%-38s %6d %9d %8d %8d %5d %6d\n", p, f.sent, f.collector, f.arrived, f.missing, f.dups, f.errs)
		all.sent += f.sent
		all.collector += f.collector
		all.arrived += f.arrived
		all.missing += f.missing
		all.dups += f.dups
		all.errs += f.errs
	}
	fmt.Fprintf(&report, "%-38s %6d %9d %8d %8d %5d %6d", "total", all.sent, all.collector, all.arrived, all.missing, all.dups, all.errs)
	t.Logf("authn audit records per request answered (%d req/s): sent = requests answered, collector = records the "+
		"Collector received (its file export), arrived / missing / dups = in VictoriaLogs:\n%s", rate, report.String())
	if all.arrived == 0 {
		t.Fatal("no audit record arrived at all")
	}
	if os.Getenv("OTELBEARER_STRESS_STRICT") == "1" && all.missing > 0 {
		t.Errorf("%d of %d audit records missing", all.missing, all.sent)
	}
}

// authnPaths counts the otelbearer.authn records by url.path in the
// Collector's OTLP JSON file exports.
func authnPaths(files []string) (map[string]int, error) {
	type kv struct {
		Key   string `json:"key"`
		Value struct {
			S string `json:"stringValue"`
		} `json:"value"`
	}
	var line struct {
		ResourceLogs []struct {
			ScopeLogs []struct {
				LogRecords []struct {
					EventName  string `json:"eventName"`
					Attributes []kv   `json:"attributes"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	paths := map[string]int{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
		for sc.Scan() {
			line.ResourceLogs = nil
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue // a line cut by a kill
			}
			for _, rl := range line.ResourceLogs {
				for _, sl := range rl.ScopeLogs {
					for _, r := range sl.LogRecords {
						if r.EventName != "otelbearer.authn" {
							continue
						}
						for _, a := range r.Attributes {
							if a.Key == "url.path" {
								paths[a.Value.S]++
							}
						}
					}
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
