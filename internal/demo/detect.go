package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/otelbearer/otelbearer/internal/stack"
)

// attacks sends one burst per detection rule, on top of the mixed run:
// alice's token replayed from two more addresses (four in all), a 401
// flood with a forged X-Forwarded-For on each request, and bob walking
// other users' records (BOLA). The mixed run already guessed 12 tokens
// from 127.0.0.7 and used a revoked token.
func (d *demo) attacks(ctx context.Context) error {
	bob, err := d.st.Mint(ctx, "-sub", "bob")
	if err != nil {
		return err
	}
	var reqs []request
	for _, ip := range []string{"127.0.0.12", "127.0.0.13"} {
		reqs = append(reqs, request{"stolen: alice's token from another IP", ip, "/api/data/alice-3", []string{"Bearer " + d.alice}})
	}
	for i := range 25 { // no token, or one made-up token (one fingerprint: not guessing)
		var auth []string
		if i%2 == 0 {
			auth = []string{"Bearer flood-" + strings.Repeat("f", 24)}
		}
		reqs = append(reqs, request{"401 flood (X-Forwarded-For forged)", "127.0.0.15", "/api/data/alice-1", auth})
	}
	for i := range 6 {
		reqs = append(reqs, request{"BOLA: bob walks other users' records", "127.0.0.9",
			fmt.Sprintf("/api/data/%s-%d", []string{"alice", "carol", "dave"}[i%3], 10+i), []string{"Bearer " + bob}})
	}
	fmt.Fprintf(d.out, "\nAttacks (%d requests), one per detection rule:\n", len(reqs))
	counts := map[string][]int{}
	var order []string
	for i, r := range reqs {
		code, err := sendXFF(ctx, d.st.ExampleURL(), r, fmt.Sprintf("198.51.100.%d", i+1))
		if err != nil {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		k := r.what
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k] = append(counts[k], code)
	}
	for _, k := range order {
		fmt.Fprintf(d.out, "  %-44s -> %s\n", k, codes(counts[k]))
	}
	return nil
}

// sendXFF is send with a forged X-Forwarded-For (otelbearer ignores it:
// no trusted proxy is configured).
func sendXFF(ctx context.Context, base string, r request, xff string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.path, nil)
	if err != nil {
		return 0, err
	}
	if r.auth != nil {
		req.Header["Authorization"] = r.auth
	}
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := stack.ClientFrom(r.ip).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// alerts waits until the six alerts of the run arrive (up to timeout, or
// until none arrived for a while after the first), then prints them
// with where to look and the report command.
func (d *demo) alerts(ctx context.Context, timeout time.Duration) {
	out, st := d.out, d.st
	recv := st.Detect.Receiver
	deadline := time.Now().Add(timeout)
	last, lastN := time.Now(), 0
	for time.Now().Before(deadline) {
		n := len(recv.Alerts())
		if n != lastN {
			last, lastN = time.Now(), n
		}
		if n >= 6 || (n > 0 && time.Since(last) > 5*st.Detect.Ports.EvalInterval) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "\n== Alerts (vmalert evaluates alerts/*.rules.yml every %s)\n", st.Detect.Ports.EvalInterval)
	as := recv.Alerts()
	sort.Slice(as, func(i, j int) bool { return as[i].Name() < as[j].Name() })
	if len(as) == 0 {
		fmt.Fprintln(out, "  none yet")
	}
	for _, a := range as {
		var pivot []string
		for _, k := range []string{"fingerprint", "client_address", "subject", "service_name"} {
			if v := a.Labels[k]; v != "" {
				pivot = append(pivot, k+"="+v)
			}
		}
		fmt.Fprintf(out, "  FIRING %-27s %s\n         %s\n         evidence (LogsQL): %s\n",
			a.Name(), strings.Join(pivot, " "), a.Annotations["summary"], a.Annotations["logsql"])
	}
	fmt.Fprintf(out, "  vmalert (audit-log rules): %s/vmalert/alerts\n", st.VMAlertLogsURL())
	fmt.Fprintf(out, "  vmalert (metrics rules):   %s/vmalert/alerts\n", st.VMAlertMetricsURL())
	fmt.Fprintf(out, "  alerts as received (Alertmanager API stand-in): curl -s %s/api/v2/alerts\n", recv.URL())
	fmt.Fprintf(out, "  auth metrics (VictoriaMetrics): %s/vmui/?g0.expr=sum+by+(auth_event)+(otelbearer_authn_outcomes_total)\n", st.VictoriaMetricsURL())

	fmt.Fprintln(out, "\n== Investigate (one report over the audit log; a token is read from stdin, never argv)")
	fmt.Fprintf(out, "  go run ./cmd/otelbearer investigate -logs %s -since 15m\n", st.VictoriaLogsURL())
	fmt.Fprintf(out, "  printf '%%s' \"$TOKEN\" | OTELBEARER_FINGERPRINT_KEY=%s go run ./cmd/otelbearer investigate -logs %s -since 15m -token\n",
		fingerprintKey, st.VictoriaLogsURL())
	fmt.Fprintf(out, "  go run ./cmd/otelbearer investigate -logs %s -since 15m -fingerprint %s   # alice's token\n",
		st.VictoriaLogsURL(), d.fp.Fingerprint(d.alice))
}
