// Package e2e is otelbearer's end-to-end suite: it runs the example
// service behind the real pipeline (Collector with redaction and tail
// sampling, Jaeger v2, VictoriaLogs; see internal/stack) and checks, by
// attribute, what reaches each backend and that no token does.
//
// It runs only with OTELBEARER_E2E=1 (make test / make e2e); the
// binaries come from tools/build.sh all.
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/stack"
)

const (
	serviceA = "otelbearer-e2e-a" // phase A: 100% baseline sampling
	serviceB = "otelbearer-e2e-b" // phase B: 0% baseline sampling
)

// TestCollectorConfigValidates runs `otelcol validate` on the shipped config.
func TestCollectorConfigValidates(t *testing.T) {
	root, bin := requireE2E(t)
	cmd := exec.Command(bin.Collector, "validate", "--config", filepath.Join(root, "collector-config.yaml"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("otelcol validate --config collector-config.yaml: %v\n%s", err, out)
	}
}

// TestPipeline runs the example behind the pipeline: phase A keeps every
// trace, phase B keeps only failures; then it looks for leaked tokens in
// every sink.
func TestPipeline(t *testing.T) {
	root, bin := requireE2E(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() { // keep the process logs for a failed run
			keep, err := os.MkdirTemp("", "otelbearer-e2e-")
			if err == nil && os.CopyFS(keep, os.DirFS(dir)) == nil {
				t.Logf("process logs and exports kept in %s", keep)
			}
		}
	})
	timing := map[string]time.Duration{}
	start := time.Now()

	var err error
	bin.Example, err = stack.BuildExample(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	timing["build example"] = time.Since(start)

	fpKey := "e2e-fingerprint-key-" + randHex(8)
	ex := stack.ExampleConfig{
		ServiceName:    serviceA,
		FingerprintKey: fpKey,
		SigningKey:     "e2e-signing-key-" + randHex(16),
		RevokedJTIs:    []string{"revoked-1"},
	}
	t0 := time.Now()
	st, err := stack.Start(ctx, stack.Config{
		Dir: dir, Root: root, Bin: bin,
		Collector: stack.CollectorConfig{SamplePercent: 100, DecisionWait: time.Second, DebugVerbosity: "detailed"},
		Example:   ex,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
		for _, p := range []*stack.Proc{st.Example, st.Collector, st.Jaeger, st.VictoriaLogs} {
			if p != nil && !p.Exited() {
				t.Errorf("%s (pid %d) still running after Stop", p.Name, p.Pid())
			}
		}
	})
	timing["start stack"] = time.Since(t0)

	fp, err := otelbearer.NewFingerprinter([]byte(fpKey))
	if err != nil {
		t.Fatal(err)
	}
	tk := mintAll(t, st)

	// The CLI a responder uses must agree with the middleware.
	t.Run("FingerprintCLI", func(t *testing.T) {
		cmd := exec.Command("go", "run", "./cmd/otelbearer", "fingerprint")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "OTELBEARER_FINGERPRINT_KEY="+fpKey)
		cmd.Stdin = strings.NewReader("Bearer " + tk.alice + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go run ./cmd/otelbearer fingerprint: %v", err)
		}
		if got, want := strings.TrimSpace(string(out)), fp.Fingerprint(tk.alice); got != want {
			t.Fatalf("CLI fingerprint %q, middleware fingerprint %q", got, want)
		}
	})

	t0 = time.Now()
	if !t.Run("PhaseA", func(t *testing.T) { phaseA(t, st, fp, tk) }) {
		t.FailNow()
	}
	timing["phase A (100%)"] = time.Since(t0)

	t0 = time.Now()
	if !t.Run("PhaseB", func(t *testing.T) { phaseB(t, st, fp, tk, ex) }) {
		t.FailNow()
	}
	timing["phase B (0%)"] = time.Since(t0)

	t0 = time.Now()
	t.Run("NoTokenLeaks", func(t *testing.T) { noLeaks(t, st, fp, tk) })
	timing["leak checks"] = time.Since(t0)

	t.Logf("timing: build example %s, start stack %s, phase A %s, phase B %s, leak checks %s, total %s",
		timing["build example"].Round(time.Millisecond), timing["start stack"].Round(time.Millisecond),
		timing["phase A (100%)"].Round(time.Millisecond), timing["phase B (0%)"].Round(time.Millisecond),
		timing["leak checks"].Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// tokens are the credentials the suite sends.
type tokens struct {
	alice, bob, expired, revoked, forged, garbage, garbageB string
}

// all lists every token sent, for the leak checks.
func (tk tokens) all() []string {
	return []string{tk.alice, tk.bob, tk.expired, tk.revoked, tk.forged, tk.garbage, tk.garbageB}
}

func mintAll(t *testing.T, st *stack.Stack) tokens {
	t.Helper()
	ctx := context.Background()
	mint := func(args ...string) string {
		tok, err := st.Mint(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tk := tokens{
		alice:    mint("-sub", "alice", "-scope", "read"),
		bob:      mint("-sub", "bob", "-scope", "read"),
		expired:  mint("-sub", "alice", "-ttl", "-1m"),
		revoked:  mint("-sub", "alice", "-jti", "revoked-1"),
		garbage:  "garbage-" + randHex(16),
		garbageB: "garbage-b-" + randHex(16),
	}
	// Forged: alice's header and payload with a signature made up of the
	// right alphabet and length.
	p := strings.Split(tk.alice, ".")
	sig := []byte(p[2])
	for i := range sig {
		sig[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(int(sig[i])*7+i)%64]
	}
	tk.forged = p[0] + "." + p[1] + "." + string(sig)
	return tk
}

// phaseA sends one request per scenario with TAIL_SAMPLE_PERCENT=100 and
// finds each trace in Jaeger by attribute.
func phaseA(t *testing.T, st *stack.Stack, fp *otelbearer.Fingerprinter, tk tokens) {
	base := st.ExampleURL()
	calls := []call{
		{name: "valid owner", ip: "127.0.0.2", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.alice}, status: 200},
		{name: "missing", ip: "127.0.0.3", path: "/api/data/alice-1", status: 401, challenge: "Bearer"},
		{name: "malformed empty", ip: "127.0.0.4", path: "/api/data/alice-1", auth: []string{"Bearer"}, status: 400, challenge: `error="invalid_request"`},
		{name: "malformed duplicate", ip: "127.0.0.4", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.alice, "Bearer " + tk.bob}, status: 400, challenge: `error="invalid_request"`},
		{name: "garbage", ip: "127.0.0.5", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.garbage}, status: 401, challenge: `error="invalid_token"`},
		{name: "forged", ip: "127.0.0.5", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.forged}, status: 401, challenge: `error="invalid_token"`},
		{name: "expired", ip: "127.0.0.6", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.expired}, status: 401, challenge: `error="invalid_token"`},
		{name: "revoked", ip: "127.0.0.8", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.revoked}, status: 401, challenge: `error="invalid_token"`},
		{name: "BOLA", ip: "127.0.0.9", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.bob}, status: 403},
		{name: "token in query", ip: "127.0.0.10", path: "/api/data/alice-1?access_token=" + tk.alice, status: 200},
		{name: "healthz", ip: "127.0.0.11", path: "/healthz", status: 200},
	}
	for _, c := range calls {
		c.do(t, base)
	}
	if t.Failed() {
		t.FailNow()
	}
	if err := st.StopExample(); err != nil { // SIGTERM: flush spans and records
		t.Fatal(err)
	}

	aliceFP, bobFP := fp.Fingerprint(tk.alice), fp.Fingerprint(tk.bob)
	// Each expectation: Jaeger tags to search by, and what the root span
	// of one of the found traces must carry.
	type want struct {
		tags map[string]string
		root map[string]string
	}
	ev := func(e string) map[string]string { return map[string]string{"auth.event": e} }
	wants := []want{
		{ev("token_valid"), map[string]string{"client.address": "127.0.0.2", "http.response.status_code": "200", "token.fingerprint": aliceFP, "token.source": "header", "user.id": "alice"}},
		{ev("token_missing"), map[string]string{"client.address": "127.0.0.3", "http.response.status_code": "401"}},
		{ev("token_missing"), map[string]string{"client.address": "127.0.0.11", "http.response.status_code": "200", "auth.optional": "true", "url.path": "/healthz"}},
		{ev("token_malformed"), map[string]string{"client.address": "127.0.0.4", "http.response.status_code": "400"}},
		{ev("token_invalid"), map[string]string{"client.address": "127.0.0.5", "http.response.status_code": "401", "token.fingerprint": fp.Fingerprint(tk.garbage)}},
		{ev("token_invalid"), map[string]string{"client.address": "127.0.0.5", "http.response.status_code": "401", "token.fingerprint": fp.Fingerprint(tk.forged)}},
		{ev("token_expired"), map[string]string{"client.address": "127.0.0.6", "http.response.status_code": "401", "token.fingerprint": fp.Fingerprint(tk.expired)}},
		{ev("token_revoked"), map[string]string{"client.address": "127.0.0.8", "http.response.status_code": "401", "token.fingerprint": fp.Fingerprint(tk.revoked)}},
		{map[string]string{"authz.decision": "deny"}, map[string]string{"client.address": "127.0.0.9", "http.response.status_code": "403", "token.fingerprint": bobFP, "authz.reason": "not_owner", "authz.resource": "alice-1"}},
		{map[string]string{"token.fingerprint": aliceFP}, map[string]string{"client.address": "127.0.0.10", "http.response.status_code": "200", "token.source": "query"}},
	}
	ctx := context.Background()
	found := make([]stack.Trace, len(wants))
	eventually(t, 20*time.Second, func() string {
		for i, w := range wants {
			if found[i].TraceID != "" {
				continue
			}
			traces, _, err := stack.JaegerTraces(ctx, st.JaegerURL(), serviceA, w.tags)
			if err != nil {
				return err.Error()
			}
			tr, _, ok := findRoot(traces, w.root)
			if !ok {
				return "no trace in Jaeger with tags " + stack.JaegerTracesURL("", serviceA, w.tags, 0) + " and root span " + strings.TrimSpace(strings.ReplaceAll(strings.Trim(stringify(w.root), "map[]"), " ", ", "))
			}
			found[i] = tr
		}
		return ""
	})

	// The valid request's trace: db.lookup and the pricing client span.
	tr := found[0]
	root, _ := rootSpan(tr)
	db, ok := childNamed(tr, root, "db.lookup")
	if !ok {
		t.Errorf("valid request: no db.lookup child span")
	} else if got := db.Tag("token.fingerprint"); got != aliceFP {
		t.Errorf("db.lookup token.fingerprint %q, want %q", got, aliceFP)
	}
	client, ok := tr.SpanByKind("client", "HTTP GET")
	if !ok {
		t.Errorf("valid request: no client span for the pricing call; spans: %v", spanNames(tr))
	} else {
		out := client.Tag("token.outgoing.fingerprint")
		if len(out) != 32 || out == aliceFP {
			t.Errorf("client span token.outgoing.fingerprint %q: want the service token's 32-hex fingerprint", out)
		}
		if got := client.Tag("token.fingerprint"); got != aliceFP {
			t.Errorf("client span token.fingerprint %q, want the caller's %q", got, aliceFP)
		}
	}
	// The BOLA trace: the lookup ran with bob's fingerprint.
	root, _ = rootSpan(found[8])
	if db, ok := childNamed(found[8], root, "db.lookup"); !ok || db.Tag("token.fingerprint") != bobFP {
		t.Errorf("BOLA trace: db.lookup missing or without bob's fingerprint")
	}
	// The query-token request: the token is nowhere in the span's URL.
	root, _ = rootSpan(found[9])
	for _, k := range []string{"url.full", "url.query", "url.path"} {
		if v := root.Tag(k); strings.Contains(v, "eyJ") {
			t.Errorf("query-token span %s = %q carries the token", k, v)
		} else if v != "" {
			t.Logf("query-token server span %s = %q", k, v)
		}
	}
}

// phaseB restarts the Collector at 0% baseline sampling: only failure
// traces reach Jaeger, yet VictoriaLogs has the audit record of every
// request.
func phaseB(t *testing.T, st *stack.Stack, fp *otelbearer.Fingerprinter, tk tokens, ex stack.ExampleConfig) {
	ctx := context.Background()
	if err := st.StopCollector(); err != nil {
		t.Fatal(err)
	}
	if err := st.StartCollector(ctx, stack.CollectorConfig{SamplePercent: 0, DecisionWait: time.Second, DebugVerbosity: "detailed"}); err != nil {
		t.Fatal(err)
	}
	ex.ServiceName = serviceB
	if err := st.StartExample(ctx, ex); err != nil {
		t.Fatal(err)
	}
	base := st.ExampleURL()
	valid := func(ip string) call {
		return call{name: "valid " + ip, ip: ip, path: "/api/data/alice-1", auth: []string{"Bearer " + tk.alice}, status: 200}
	}
	invalid := func(ip string) call {
		return call{name: "invalid " + ip, ip: ip, path: "/api/data/alice-1", auth: []string{"Bearer " + tk.garbageB}, status: 401, challenge: `error="invalid_token"`}
	}
	calls := []call{
		valid("127.0.0.2"), valid("127.0.0.2"), valid("127.0.0.3"), // alice's token reused from two IPs
		{name: "healthz", ip: "127.0.0.11", path: "/healthz", status: 200},
		invalid("127.0.0.5"), invalid("127.0.0.5"), invalid("127.0.0.5"),
		invalid("127.0.0.6"), invalid("127.0.0.6"),
		{name: "BOLA", ip: "127.0.0.9", path: "/api/data/alice-1", auth: []string{"Bearer " + tk.bob}, status: 403},
		{name: "missing", ip: "127.0.0.3", path: "/api/data/alice-1", status: 401, challenge: "Bearer"},
	}
	for _, c := range calls {
		c.do(t, base)
	}
	if err := st.StopExample(); err != nil {
		t.Fatal(err)
	}
	const failures = 7 // 5 invalid, 1 deny, 1 missing

	var traces []stack.Trace
	eventually(t, 20*time.Second, func() string {
		var err error
		traces, _, err = stack.JaegerTraces(ctx, st.JaegerURL(), serviceB, nil)
		if err != nil {
			return err.Error()
		}
		if n := len(traces); n < failures {
			return "phase B: " + itoa(n) + " traces in Jaeger, want the " + itoa(failures) + " failures"
		}
		return ""
	})
	// Decisions are made per trace after decision_wait; give late ones a
	// moment, then every kept trace must be a failure.
	time.Sleep(1500 * time.Millisecond)
	traces, _, err := stack.JaegerTraces(ctx, st.JaegerURL(), serviceB, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, tr := range traces {
		root, ok := rootSpan(tr)
		if !ok {
			t.Errorf("trace %s has no root span (spans %v)", tr.TraceID, spanNames(tr))
			continue
		}
		if !failureRoot(root) {
			t.Errorf("0%% baseline kept a non-failure trace: %s %s auth.event=%s authz.decision=%s from %s",
				root.OperationName, root.Tag("url.path"), root.Tag("auth.event"), root.Tag("authz.decision"), root.Tag("client.address"))
			continue
		}
		kept++
	}
	if kept != failures {
		t.Errorf("phase B: %d failure traces in Jaeger, want %d", kept, failures)
	}

	// The audit log is the complete record, whatever sampling dropped.
	svc := `service.name:="` + serviceB + `" AND `
	authn := svc + `event_name:="otelbearer.authn" AND `
	aliceFP := fp.Fingerprint(tk.alice)
	queries := []struct {
		query, by string
		want      map[string]int
	}{
		{authn + `auth.event:="token_invalid"`, "client.address", map[string]int{"127.0.0.5": 3, "127.0.0.6": 2}},
		{authn + `token.fingerprint:="` + aliceFP + `"`, "client.address", map[string]int{"127.0.0.2": 2, "127.0.0.3": 1}},
		{authn + `auth.event:="token_valid" AND url.path:="/api/data/alice-1"`, "client.address", map[string]int{"127.0.0.2": 2, "127.0.0.3": 1, "127.0.0.9": 1}},
		{authn + `url.path:="/healthz" AND client.address:="127.0.0.11"`, "auth.event", map[string]int{"token_missing": 1}},
		{svc + `event_name:="otelbearer.authz" AND authz.decision:="deny"`, "client.address", map[string]int{"127.0.0.9": 1}},
		// The example logs r.Header on a denial; the record arrives with
		// the credential replaced and the scheme kept.
		{svc + `"access denied" AND headers.Authorization:="[\"Bearer REDACTED\"]"`, "authz.decision", map[string]int{"deny": 1}},
	}
	eventually(t, 20*time.Second, func() string {
		for _, q := range queries {
			got, err := countsBy(ctx, st.VictoriaLogsURL(), q.query, q.by)
			if err != nil {
				return err.Error()
			}
			if stringify(got) != stringify(q.want) {
				return "LogsQL " + q.query + " | stats by (" + q.by + ") count(): got " + stringify(got) + ", want " + stringify(q.want)
			}
		}
		return ""
	})
}

// noLeaks looks for every token sent in every sink: Jaeger's API for both
// services, the Collector's file exports and debug log, VictoriaLogs, and
// the example's own log. A fingerprint of a request the sink must hold
// has to be in each (so the check is not vacuous): alice's, except in
// phase B's Jaeger, which keeps only failures (bob's denied request).
func noLeaks(t *testing.T, st *stack.Stack, fp *otelbearer.Fingerprinter, tk tokens) {
	ctx := context.Background()
	checkDetector(t, tk.all())
	aliceFP, bobFP := fp.Fingerprint(tk.alice), fp.Fingerprint(tk.bob)
	sinks := map[string][]byte{}
	for _, svc := range []string{serviceA, serviceB} {
		_, raw, err := stack.JaegerTraces(ctx, st.JaegerURL(), svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		sinks["Jaeger API ("+svc+")"] = raw
	}
	for _, f := range st.ExportFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sinks["Collector file export "+filepath.Base(f)] = b
	}
	_, raw, err := stack.LogsQL(ctx, st.VictoriaLogsURL(), "*")
	if err != nil {
		t.Fatal(err)
	}
	sinks["VictoriaLogs (*)"] = raw
	for _, name := range []string{"collector", "example"} {
		b, err := st.ReadLogs(name)
		if err != nil {
			t.Fatal(err)
		}
		sinks[name+" process log"] = []byte(b)
	}
	for where, data := range sinks {
		checkNoLeak(t, where, data, tk.all())
		marker := aliceFP
		if strings.Contains(where, serviceB) {
			marker = bobFP
		}
		if !bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s: fingerprint %s of a request it must hold is absent: the leak check there proves nothing", where, marker)
		}
		t.Logf("%s: %d bytes, no token found", where, len(data))
	}
}
