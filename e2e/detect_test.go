package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/stack"
)

const serviceD = "otelbearer-e2e-detect"

// detectReq sends one GET from ip with the Authorization header auth ("":
// none) and extra headers, and returns the status.
func detectReq(t *testing.T, base, ip, path, auth string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := stack.ClientFrom(ip).Do(req)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", path, ip, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// alertKey names an alert by its name and pivot labels.
func alertKey(a stack.Alert) string {
	var parts []string
	for _, k := range []string{"fingerprint", "client_address", "subject"} {
		if v, ok := a.Labels[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return a.Name() + "{" + strings.Join(parts, ",") + "}"
}

func alertKeys(as []stack.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, alertKey(a))
	}
	sort.Strings(out)
	return out
}

// detectScenario is the traffic of TestDetection and what it must raise.
type detectScenario struct {
	users   map[string]string // benign subject -> token
	userIP  map[string]string // benign subject -> its one address
	victim  string            // stolen token, replayed from stolenIPs
	mallory string            // BOLA actor's token
	revoked string
	expired string
	guesses []string
	flood   string // the one bad token of the 401 flood
}

func (sc detectScenario) secrets() []string {
	out := []string{sc.victim, sc.mallory, sc.revoked, sc.expired, sc.flood}
	for _, tok := range sc.users {
		out = append(out, tok)
	}
	return append(out, sc.guesses...)
}

var (
	stolenIPs = []string{"127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"}
	floodIP   = "127.0.2.10"
	guessIP   = "127.0.2.20"
	revokedIP = "127.0.2.30"
	bolaIP    = "127.0.2.40"
	expiredIP = "127.0.2.50"
)

// TestDetection plays benign traffic, checks that nothing fires, then plays
// one attack per rule from distinct loopback addresses and checks that
// exactly the expected alerts reach the receiver, each naming the right
// fingerprint, address or subject, with no credential in any alert,
// metric or report.
func TestDetection(t *testing.T) {
	root, bin := requireE2E(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			keep, err := os.MkdirTemp("", "otelbearer-e2e-detect-")
			if err == nil && os.CopyFS(keep, os.DirFS(dir)) == nil {
				t.Logf("process logs kept in %s", keep)
			}
		}
	})
	var err error
	bin.Example, err = stack.BuildExample(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	fpKey := "e2e-fingerprint-key-" + randHex(8)
	st, err := stack.Start(ctx, stack.Config{
		Dir: dir, Root: root, Bin: bin,
		Collector: stack.CollectorConfig{SamplePercent: 0, DecisionWait: time.Second},
		Example: stack.ExampleConfig{ServiceName: serviceD, FingerprintKey: fpKey,
			SigningKey: "e2e-signing-key-" + randHex(16), RevokedJTIs: []string{"revoked-d"}},
		Detect: stack.DetectConfig{EvalInterval: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	fp, err := otelbearer.NewFingerprinter([]byte(fpKey))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(args ...string) string {
		tok, err := st.Mint(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sc := detectScenario{users: map[string]string{}, userIP: map[string]string{}}
	for i, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		sc.users[u] = mint("-sub", u, "-scope", "read")
		sc.userIP[u] = fmt.Sprintf("127.0.1.%d", i+1)
	}
	sc.victim = mint("-sub", "grace", "-scope", "read")
	sc.mallory = mint("-sub", "mallory", "-scope", "read")
	sc.revoked = mint("-sub", "heidi", "-scope", "read", "-jti", "revoked-d")
	sc.expired = mint("-sub", "ivan", "-scope", "read", "-ttl", "-1m")
	sc.flood = "flood-" + randHex(16)
	for i := range 12 {
		sc.guesses = append(sc.guesses, fmt.Sprintf("guess%02d-%s", i, randHex(16)))
	}
	base := st.ExampleURL()
	recv := st.Detect.Receiver

	// Benign traffic, about the volume of the attack below: each user
	// from its own address reads its own records, now and then without a
	// token or on a record that is not theirs.
	benign := 0
	for round := range 12 {
		for u, tok := range sc.users {
			ip := sc.userIP[u]
			want := 200
			switch {
			case round == 3:
				detectReq(t, base, ip, "/api/data/"+u+"-1", "", nil) // forgot the token: 401
				want = 200
			case round == 7 && u == "bob":
				if s := detectReq(t, base, ip, "/api/data/alice-1", "Bearer "+tok, nil); s != 403 {
					t.Errorf("benign deny: status %d", s)
				}
				benign++
				continue
			}
			if s := detectReq(t, base, ip, fmt.Sprintf("/api/data/%s-%d", u, round), "Bearer "+tok, nil); s != want {
				t.Errorf("benign %s: status %d", u, s)
			}
			benign++
		}
	}
	benign += len(sc.users)
	for range 25 { // a health probe: no token on a public route is no failure
		if s := detectReq(t, base, "127.0.1.9", "/healthz", "", nil); s != 200 {
			t.Errorf("health probe: status %d", s)
		}
		benign++
	}
	t.Logf("benign traffic: %d requests from %d addresses", benign, len(sc.users)+1)
	// Wait until VictoriaLogs holds it, then for three evaluations.
	eventually(t, 30*time.Second, func() string {
		n, err := countsBy(ctx, st.VictoriaLogsURL(), `event_name:="otelbearer.authn" client.address:127.0.1.`, "event_name")
		if err != nil {
			return err.Error()
		}
		if n["otelbearer.authn"] < benign {
			return fmt.Sprintf("%d of %d benign records in VictoriaLogs", n["otelbearer.authn"], benign)
		}
		return ""
	})
	time.Sleep(3*st.Detect.Ports.EvalInterval + time.Second)
	if got := recv.Alerts(); len(got) != 0 {
		t.Fatalf("benign traffic raised alerts: %v", alertKeys(got))
	}

	// The attack.
	attackStart := time.Now()
	attack := 0
	for i, ip := range stolenIPs { // stolen token replayed from 4 addresses
		if s := detectReq(t, base, ip, fmt.Sprintf("/api/data/grace-%d", i), "Bearer "+sc.victim, nil); s != 200 {
			t.Errorf("stolen token: status %d", s)
		}
		attack++
	}
	for i := range 30 { // 401 flood with a forged X-Forwarded-For on each request
		auth := ""
		if i%2 == 0 {
			auth = "Bearer " + sc.flood
		}
		xff := map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1)}
		if s := detectReq(t, base, floodIP, "/api/data/alice-1", auth, xff); s != 401 {
			t.Errorf("flood: status %d", s)
		}
		attack++
	}
	for _, g := range sc.guesses { // guessing: 12 distinct unknown tokens
		if s := detectReq(t, base, guessIP, "/api/data/alice-1", "Bearer "+g, nil); s != 401 {
			t.Errorf("guess: status %d", s)
		}
		attack++
	}
	for range 2 { // a revoked token still in use
		if s := detectReq(t, base, revokedIP, "/api/data/heidi-1", "Bearer "+sc.revoked, nil); s != 401 {
			t.Errorf("revoked: status %d", s)
		}
		attack++
	}
	for i := range 8 { // BOLA: mallory walks other users' records
		owner := []string{"alice", "bob", "carol", "dave"}[i%4]
		if s := detectReq(t, base, bolaIP, fmt.Sprintf("/api/data/%s-%d", owner, 100+i), "Bearer "+sc.mallory, nil); s != 403 {
			t.Errorf("BOLA: status %d", s)
		}
		attack++
	}
	if s := detectReq(t, base, expiredIP, "/api/data/ivan-1", "Bearer "+sc.expired, nil); s != 401 {
		t.Errorf("expired: status %d", s) // in the report; no alert of its own
	}
	attack++
	t.Logf("attack traffic: %d requests", attack)

	want := []string{
		"AuthnFailuresFromAddress{client_address=" + floodIP + "}",
		"BOLAEnumeration{subject=mallory}",
		"RevokedTokenUsed{fingerprint=" + fp.Fingerprint(sc.revoked) + ",client_address=" + revokedIP + "}",
		"TokenGuessing{client_address=" + guessIP + "}",
		"TokenUsedFromManyAddresses{fingerprint=" + fp.Fingerprint(sc.victim) + "}",
	}
	sort.Strings(want)
	eventually(t, 60*time.Second, func() string {
		got := alertKeys(recv.Alerts())
		for _, w := range want {
			if !strings.Contains(strings.Join(got, " "), w) {
				return fmt.Sprintf("alert %s not received; received %v", w, got)
			}
		}
		return ""
	})
	var slowest time.Duration
	for _, a := range recv.Alerts() {
		d := a.Received.Sub(attackStart)
		slowest = max(slowest, d)
		t.Logf("alert %s received %s after the attack started: %s", alertKey(a), d.Round(100*time.Millisecond), a.Annotations["summary"])
	}
	t.Logf("time from attack start to the last alert: %s", slowest.Round(100*time.Millisecond))

	// Two more evaluations: nothing else fires (exactness).
	time.Sleep(2*st.Detect.Ports.EvalInterval + time.Second)
	var got []string
	for _, k := range alertKeys(recv.Alerts()) {
		if !strings.HasPrefix(k, "AuthnFailureRateHigh{") { // checked by metricsRule
			got = append(got, k)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts received:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, a := range recv.Alerts() {
		if a.Annotations["logsql"] == "" || a.Annotations["investigate"] == "" {
			t.Errorf("alert %s: no evidence query or report command: %v", alertKey(a), a.Annotations)
		}
	}

	metricsRule(t, st, attackStart)

	if !t.Run("Investigate", func(t *testing.T) { investigateE2E(t, st, root, fpKey, fp, sc) }) {
		t.Log("investigate failed")
	}

	// No credential in any alert, in vmalert's API, or in the metrics.
	checkDetector(t, sc.secrets())
	sinks := map[string][]byte{"alert receiver": recv.Raw()}
	for name, u := range map[string]string{"vmalert (logs)": st.VMAlertLogsURL(), "vmalert (metrics)": st.VMAlertMetricsURL()} {
		_, raw, err := stack.VMAlertAlerts(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		sinks[name] = raw
	}
	raw, err := stack.MetricsQL(ctx, st.VictoriaMetricsURL(), `{__name__=~"otelbearer_.*"}`)
	if err != nil {
		t.Fatal(err)
	}
	sinks["VictoriaMetrics"] = raw
	for where, data := range sinks {
		checkNoLeak(t, where, data, sc.secrets())
	}
	if !strings.Contains(string(recv.Raw()), fp.Fingerprint(sc.victim)) {
		t.Error("the alert receiver does not hold the stolen token's fingerprint: the leak check there proves nothing")
	}
}

// metricsRule checks the MetricsQL rule when the service exports the auth
// metrics (setup's MeterProvider): the failure-rate alert fires during the
// attack, and the metrics carry no identifier.
func metricsRule(t *testing.T, st *stack.Stack, attackStart time.Time) {
	ctx := context.Background()
	raw, err := stack.MetricsQL(ctx, st.VictoriaMetricsURL(), `count(otelbearer_authn_outcomes_total)`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"value"`) {
		t.Logf("no otelbearer_authn_outcomes_total in VictoriaMetrics: the example exports no metrics (no MeterProvider in setup); AuthnFailureRateHigh not checked")
		return
	}
	eventually(t, 60*time.Second, func() string {
		for _, a := range st.Detect.Receiver.Alerts() {
			if a.Name() == "AuthnFailureRateHigh" && a.Labels["service_name"] == serviceD {
				t.Logf("AuthnFailureRateHigh received %s after the attack started", a.Received.Sub(attackStart).Round(100*time.Millisecond))
				return ""
			}
		}
		return "AuthnFailureRateHigh not received"
	})
	raw, err = stack.MetricsQL(ctx, st.VictoriaMetricsURL(), `{__name__=~"otelbearer_auth.*"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"auth_event":"token_invalid"`) || !strings.Contains(string(raw), `"authz_reason":"not_owner"`) {
		t.Errorf("auth metrics lack the expected series: %.500s", raw)
	}
	for _, l := range []string{"client_address", "token_fingerprint", "user_id", "authz_resource", "mallory", "127.0.2."} {
		if strings.Contains(string(raw), l) {
			t.Errorf("auth metrics carry %s (high cardinality, an identifier)", l)
		}
	}
}

// investigateE2E runs "otelbearer investigate" over the audit log of
// TestDetection and checks every table, the pivot on a token given on
// standard input, and that no token is printed.
func investigateE2E(t *testing.T, st *stack.Stack, root, fpKey string, fp *otelbearer.Fingerprinter, sc detectScenario) {
	cli := filepath.Join(t.TempDir(), "otelbearer")
	if out, err := exec.Command("go", "build", "-C", root, "-o", cli, "./cmd/otelbearer").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/otelbearer: %v\n%s", err, out)
	}
	investigate := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"investigate", "-logs", st.VictoriaLogsURL(), "-since", "15m"}, args...)...)
		cmd.Env = append(os.Environ(), "OTELBEARER_FINGERPRINT_KEY="+fpKey)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("otelbearer investigate %v: %v: %s", args, err, stderr.String())
		}
		checkNoLeak(t, "investigate "+strings.Join(args, " "), append(out, stderr.Bytes()...), sc.secrets())
		return out
	}
	var rep struct {
		Reused []struct {
			Fingerprint string
			Addresses   []string
			Subjects    []string
		} `json:"reused_tokens"`
		Failing []struct {
			Address  string
			Failures int
		} `json:"addresses_by_failures"`
		Guessers []struct {
			Address      string
			Fingerprints int `json:"distinct_fingerprints"`
		} `json:"guessers"`
		BOLA []struct {
			Subject   string
			Resources []string
		} `json:"bola_actors"`
		Revoked []struct {
			Fingerprint, Event string
			Uses               int
			Addresses          []string
		} `json:"revoked_or_expired_in_use"`
		Fingerprint string
		Requests    []struct {
			Event                     string `json:"event_name"`
			Address, Subject, Outcome string
		} `json:"token_requests"`
	}
	out := investigate("Bearer "+sc.victim+"\n", "-json", "-token")
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("investigate -json: %v\n%s", err, out)
	}
	victimFP := fp.Fingerprint(sc.victim)
	if len(rep.Reused) != 1 || rep.Reused[0].Fingerprint != victimFP ||
		fmt.Sprint(rep.Reused[0].Addresses) != fmt.Sprint(stolenIPs) || fmt.Sprint(rep.Reused[0].Subjects) != "[grace]" {
		t.Errorf("reused tokens: %+v, want %s from %v as grace", rep.Reused, victimFP, stolenIPs)
	}
	if len(rep.Failing) < 3 || rep.Failing[0].Address != floodIP || rep.Failing[0].Failures != 30 ||
		rep.Failing[1].Address != guessIP || rep.Failing[1].Failures != 12 {
		t.Errorf("addresses by failures: %+v, want %s (30) then %s (12)", rep.Failing, floodIP, guessIP)
	}
	if len(rep.Guessers) != 1 || rep.Guessers[0].Address != guessIP || rep.Guessers[0].Fingerprints != len(sc.guesses) {
		t.Errorf("guessers: %+v, want %s with %d", rep.Guessers, guessIP, len(sc.guesses))
	}
	if len(rep.BOLA) != 1 || rep.BOLA[0].Subject != "mallory" || len(rep.BOLA[0].Resources) != 8 {
		t.Errorf("BOLA actors: %+v, want mallory with 8 resources", rep.BOLA)
	}
	dead := map[string]string{}
	for _, d := range rep.Revoked {
		dead[d.Event] = fmt.Sprintf("%s %d %v", d.Fingerprint, d.Uses, d.Addresses)
	}
	if want := fmt.Sprintf("%s 2 [%s]", fp.Fingerprint(sc.revoked), revokedIP); dead["token_revoked"] != want {
		t.Errorf("revoked in use: %q, want %q", dead["token_revoked"], want)
	}
	if want := fmt.Sprintf("%s 1 [%s]", fp.Fingerprint(sc.expired), expiredIP); dead["token_expired"] != want {
		t.Errorf("expired in use: %q, want %q", dead["token_expired"], want)
	}
	if rep.Fingerprint != victimFP {
		t.Errorf("pivot fingerprint %s, want %s", rep.Fingerprint, victimFP)
	}
	seen := map[string]bool{}
	for _, r := range rep.Requests {
		if r.Event == "otelbearer.authn" {
			seen[r.Address] = true
			if r.Outcome != "token_valid" || r.Subject != "grace" {
				t.Errorf("token request %+v: want token_valid as grace", r)
			}
		}
	}
	if len(seen) != len(stolenIPs) {
		t.Errorf("token requests from %v, want %v", seen, stolenIPs)
	}

	text := string(investigate("", "-fingerprint", victimFP))
	for _, s := range []string{"== Tokens used from several addresses", victimFP, floodIP, guessIP, "mallory", "token_revoked", "token_expired", stolenIPs[3]} {
		if !strings.Contains(text, s) {
			t.Errorf("text report lacks %q:\n%s", s, text)
		}
	}
	t.Logf("investigate report:\n%s", text)
}
