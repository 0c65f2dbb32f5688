package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/stack"
)

// demo holds the running stack and what the traffic run produced.
type demo struct {
	st      *stack.Stack
	out     io.Writer
	percent int

	fp                *otelbearer.Fingerprinter
	alice, aliceFresh string // alice's token used in the run; a fresh one for the curl line
}

// request is one request of the traffic run.
type request struct {
	what string
	ip   string
	path string
	auth []string
}

// traffic mints tokens and sends the mixed run, printing one line per
// kind of request.
func (d *demo) traffic(ctx context.Context) error {
	var err error
	if d.fp, err = otelbearer.NewFingerprinter([]byte(fingerprintKey)); err != nil {
		return err
	}
	mint := func(args ...string) (string, error) { return d.st.Mint(ctx, args...) }
	tok := map[string]string{}
	for name, args := range map[string][]string{
		"alice":   {"-sub", "alice"},
		"fresh":   {"-sub", "alice"},
		"bob":     {"-sub", "bob"},
		"expired": {"-sub", "alice", "-ttl", "-1m"},
		"revoked": {"-sub", "alice", "-jti", "revoked-1"},
	} {
		if tok[name], err = mint(args...); err != nil {
			return err
		}
	}
	d.alice, d.aliceFresh = tok["alice"], tok["fresh"]
	p := strings.Split(d.alice, ".")
	forged := p[0] + "." + p[1] + "." + strings.Repeat("A", len(p[2])-1) + "E"

	data := "/api/data/alice-1"
	reqs := []request{
		{"valid: alice reads her record", "127.0.0.2", data, []string{"Bearer " + d.alice}},
		{"valid: alice reads her record", "127.0.0.2", "/api/data/alice-2", []string{"Bearer " + d.alice}},
		{"reuse: alice's token from a second IP", "127.0.0.3", data, []string{"Bearer " + d.alice}},
		{"reuse: alice's token from a second IP", "127.0.0.3", "/api/data/alice-7", []string{"Bearer " + d.alice}},
		{"BOLA: bob reads alice's record", "127.0.0.9", data, []string{"Bearer " + tok["bob"]}},
		{"missing token", "127.0.0.4", data, nil},
		{"malformed: duplicate Authorization headers", "127.0.0.4", data, []string{"Bearer a1b2c3d4e5", "Bearer f6g7h8i9j0"}},
		{"forged signature", "127.0.0.5", data, []string{"Bearer " + forged}},
		{"expired token", "127.0.0.6", data, []string{"Bearer " + tok["expired"]}},
		{"revoked token (jti revoked-1)", "127.0.0.8", data, []string{"Bearer " + tok["revoked"]}},
		{"token in the query string", "127.0.0.10", data + "?access_token=" + d.alice, nil},
		{"health check (public route)", "127.0.0.11", "/healthz", nil},
	}
	for i := range 12 {
		reqs = append(reqs, request{"burst: invalid tokens", "127.0.0.7", data,
			[]string{fmt.Sprintf("Bearer stolen-or-guessed-%02d-%s", i, strings.Repeat("x", 20))}})
	}

	fmt.Fprintf(d.out, "Traffic (%d requests to %s):\n", len(reqs), d.st.ExampleURL())
	type line struct {
		what, ip string
		codes    []int
	}
	var lines []*line
	for _, r := range reqs {
		code, err := send(ctx, d.st.ExampleURL(), r)
		if err != nil {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		if n := len(lines); n > 0 && lines[n-1].what == r.what && lines[n-1].ip == r.ip {
			lines[n-1].codes = append(lines[n-1].codes, code)
			continue
		}
		lines = append(lines, &line{r.what, r.ip, []int{code}})
	}
	for _, l := range lines {
		fmt.Fprintf(d.out, "  %-44s from %-11s -> %s\n", l.what, l.ip, codes(l.codes))
	}
	return nil
}

// codes formats status codes: "200" or "12 x 401".
func codes(cs []int) string {
	if len(cs) > 1 && cs[0] == cs[len(cs)-1] {
		return fmt.Sprintf("%d x %d", len(cs), cs[0])
	}
	return strings.Trim(fmt.Sprint(cs), "[]")
}

// send sends r from r.ip and returns the status code.
func send(ctx context.Context, base string, r request) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.path, nil)
	if err != nil {
		return 0, err
	}
	if r.auth != nil {
		req.Header["Authorization"] = r.auth
	}
	resp, err := stack.ClientFrom(r.ip).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// guide prints what the backends hold now and where to look.
func (d *demo) guide(ctx context.Context) error {
	out, st := d.out, d.st
	aliceFP := d.fp.Fingerprint(d.alice)
	section := func(title string) { fmt.Fprintf(out, "\n== %s\n", title) }

	section("Jaeger (traces; tail sampling kept every failure and " + fmt.Sprint(d.percent) + "% of the rest)")
	if os.Getenv("JAEGER_UI_ASSETS") != "" {
		fmt.Fprintf(out, "Jaeger UI at %s/ (assets from JAEGER_UI_ASSETS); its query API:\n", st.JaegerURL())
	} else {
		fmt.Fprintf(out, "This Jaeger build has no UI assets (%s/ is a placeholder; set JAEGER_UI_ASSETS to a Jaeger UI build); its query API works:\n", st.JaegerURL())
	}
	for _, q := range []struct {
		what string
		tags map[string]string
	}{
		{"invalid tokens", map[string]string{"auth.event": "token_invalid"}},
		{"expired tokens", map[string]string{"auth.event": "token_expired"}},
		{"revoked tokens", map[string]string{"auth.event": "token_revoked"}},
		{"BOLA denials", map[string]string{"authz.decision": "deny"}},
		{"alice's token (by fingerprint)", map[string]string{"token.fingerprint": aliceFP}},
	} {
		traces, _, err := stack.JaegerTraces(ctx, st.JaegerURL(), serviceName, q.tags)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-31s %2d traces  curl -s '%s'\n", q.what, len(traces),
			stack.JaegerTracesURL(st.JaegerURL(), serviceName, q.tags, 20))
	}
	fmt.Fprintf(out, "  (alice's successful requests are ordinary traffic: only %d%% of such traces are kept;\n"+
		"   the audit log below has every one of them)\n", d.percent)
	fmt.Fprintf(out, "  services: curl -s %s/api/services\n", st.JaegerURL())

	section("VictoriaLogs (the audit log: one record per request, never sampled)")
	fmt.Fprintf(out, "UI: %s/select/vmui/   (paste a query below)\n", st.VictoriaLogsURL())
	perIP, err := counts(ctx, st.VictoriaLogsURL(), `event_name:=otelbearer.authn AND auth.event:=token_invalid | stats by (client.address) count() as n`, "client.address")
	if err != nil {
		return err
	}
	reuse, err := counts(ctx, st.VictoriaLogsURL(), `event_name:=otelbearer.authn AND token.fingerprint:=`+aliceFP+` | stats by (client.address) count() as n`, "client.address")
	if err != nil {
		return err
	}
	for _, q := range []struct{ what, query, result string }{
		{"invalid tokens per client IP", `event_name:=otelbearer.authn AND auth.event:=token_invalid | stats by (client.address) count()`, perIP},
		{"where alice's token was used (token reuse across IPs)", `event_name:=otelbearer.authn AND token.fingerprint:=` + aliceFP + ` | stats by (client.address) count()`, reuse},
		{"outcomes of every request", `event_name:=otelbearer.authn | stats by (auth.event) count()`, ""},
		{"authorization denials", `event_name:=otelbearer.authz AND authz.decision:=deny`, ""},
		{"everything alice did", `user.id:=alice | sort by (_time)`, ""},
	} {
		fmt.Fprintf(out, "  %s:\n    %s\n", q.what, q.query)
		if q.result != "" {
			fmt.Fprintf(out, "    now: %s\n", q.result)
		}
	}
	fmt.Fprintf(out, "  from a shell: curl -s %s/select/logsql/query --data-urlencode 'query=auth.event:=token_invalid | stats by (client.address) count()'\n",
		st.VictoriaLogsURL())

	section("Tempo (TraceQL equivalents, for a Collector exporting there: collector-config.tempo.yaml)")
	for _, q := range []string{
		`{ span.auth.event = "token_invalid" }`,
		`{ span.auth.event = "token_invalid" } | count_over_time() by (span.client.address)`,
		`{ span.token.fingerprint = "` + aliceFP + `" } | count_over_time() by (span.client.address)`,
		`{ span.authz.decision = "deny" }`,
	} {
		fmt.Fprintf(out, "  %s\n", q)
	}

	section("Found a leaked token? Fingerprint it (read from stdin, never argv) and search for the result")
	fmt.Fprintf(out, "  printf '%%s' \"$TOKEN\" | OTELBEARER_FINGERPRINT_KEY=%s go run ./cmd/otelbearer fingerprint\n", fingerprintKey)
	fmt.Fprintf(out, "  (alice's token of this run -> %s)\n", aliceFP)

	section("Try it yourself (a freshly minted token for alice, valid 1h)")
	fmt.Fprintf(out, "  curl -i -H 'Authorization: Bearer %s' %s/api/data/alice-1\n", d.aliceFresh, st.ExampleURL())
	fmt.Fprintf(out, "  curl -i -H 'Authorization: Bearer %s' %s/api/data/bob-1     # 403, kept by tail sampling\n", d.aliceFresh, st.ExampleURL())
	fmt.Fprintf(out, "  mint more: go run ./internal/demo/service mint -sub bob [-scope read] [-ttl 1h]\n")
	return nil
}

// counts runs a LogsQL stats query and formats "value: n" pairs.
func counts(ctx context.Context, base, query, field string) (string, error) {
	rows, _, err := stack.LogsQL(ctx, base, query)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%v: %v", r[field], r["n"]))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "(none yet)", nil
	}
	return strings.Join(parts, ", "), nil
}
