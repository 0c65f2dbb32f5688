package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logsRules reads the alert names and LogsQL expressions of
// alerts/logs.rules.yml (each expr is a folded block: its lines joined).
func logsRules(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "alerts", "logs.rules.yml"))
	require.NoError(t, err)
	rules := map[string]string{}
	var name string
	var expr []string
	inExpr := false
	for _, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "- alert: "):
			name = strings.TrimPrefix(trim, "- alert: ")
		case trim == "expr: >-":
			inExpr, expr = true, nil
		case inExpr && strings.HasPrefix(trim, "labels:"):
			inExpr = false
			rules[name] = strings.Join(expr, " ")
		case inExpr:
			expr = append(expr, trim)
		}
	}
	require.NotEmpty(t, rules)
	return rules
}

// Each LogsQL rule, run on synthetic audit records in a real VictoriaLogs,
// returns exactly the pivots of its pattern: the threshold is met at the
// threshold and not one below, optional routes and other subjects are not
// counted.
func TestLogsRulesOnRecords(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	out, err := exec.Command("bash", filepath.Join(root, "tools", "build.sh"), "path", "victorialogs").Output()
	require.NoError(t, err)
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("VictoriaLogs is not built (%s); build it with: tools/build.sh victorialogs (make tools)", bin)
	}
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	vl, err := startProc(dir, "victorialogs", bin, []string{"-storageDataPath", filepath.Join(dir, "data"), "-httpListenAddr", addr(port)}, nil)
	require.NoError(t, err)
	defer vl.Stop(10 * time.Second)
	base := "http://" + addr(port)
	ctx := context.Background()
	require.NoError(t, vl.waitHTTP(ctx, base+"/health", 30*time.Second))

	now := time.Now().UTC()
	var lines []string
	rec := func(fields map[string]string) {
		fields["_time"] = now.Add(-time.Duration(len(lines)) * time.Millisecond).Format(time.RFC3339Nano)
		fields["_msg"] = "audit"
		b, _ := json.Marshal(fields)
		lines = append(lines, string(b))
	}
	authn := func(event, fp, addr, user string, extra ...string) {
		f := map[string]string{"event_name": "otelbearer.authn", "auth.event": event, "client.address": addr}
		if fp != "" {
			f["token.fingerprint"] = fp
		}
		if user != "" {
			f["user.id"] = user
		}
		for i := 0; i+1 < len(extra); i += 2 {
			f[extra[i]] = extra[i+1]
		}
		rec(f)
	}
	fp := func(s string) string { return fmt.Sprintf("%032s", s) }
	// Reuse: fp a from 3 addresses fires, fp b from 2 does not.
	for _, a := range []string{"10.0.1.1", "10.0.1.2", "10.0.1.3"} {
		authn("token_valid", fp("a"), a, "grace")
	}
	for _, a := range []string{"10.0.1.4", "10.0.1.5"} {
		authn("token_valid", fp("b"), a, "heidi")
	}
	// Two subjects for fp c fires; fp a has one.
	authn("token_valid", fp("c"), "10.0.2.1", "alice")
	authn("token_valid", fp("c"), "10.0.2.1", "bob")
	// Failures: 20 from .9 fire (missing token on a protected route
	// counts); 30 missing on a public route and 19 invalid do not.
	for i := range 20 {
		if i%2 == 0 {
			authn("token_missing", "", "10.0.3.9", "")
		} else {
			authn("token_expired", fp("d"), "10.0.3.9", "")
		}
	}
	for range 30 {
		authn("token_missing", "", "10.0.3.8", "", "auth.optional", "true")
	}
	for range 19 {
		authn("token_invalid", fp("e"), "10.0.3.7", "")
	}
	// Guessing: 10 distinct invalid fingerprints fire, 9 do not.
	for i := range 10 {
		authn("token_invalid", fp(fmt.Sprintf("g%d", i)), "10.0.4.6", "")
	}
	for i := range 9 {
		authn("token_invalid", fp(fmt.Sprintf("h%d", i)), "10.0.4.5", "")
	}
	// Revoked: any use.
	authn("token_revoked", fp("f"), "10.0.5.5", "")
	// BOLA: 5 distinct denied resources fire (7 denies), 4 do not.
	for i := range 7 {
		rec(map[string]string{"event_name": "otelbearer.authz", "authz.decision": "deny", "user.id": "mallory",
			"authz.resource": fmt.Sprintf("r-%d", i%5), "client.address": "10.0.6.1"})
	}
	for i := range 4 {
		rec(map[string]string{"event_name": "otelbearer.authz", "authz.decision": "deny", "user.id": "bob",
			"authz.resource": fmt.Sprintf("r-%d", i), "client.address": "10.0.6.2"})
	}
	resp, err := http.Post(base+"/insert/jsonline?_time_field=_time&_msg_field=_msg&_stream_fields=event_name",
		"application/stream+json", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = get(ctx, base+"/internal/force_flush")
	require.NoError(t, err)

	want := map[string][]string{
		"TokenUsedFromManyAddresses": {"fingerprint=" + fp("a") + " =3"},
		"TokenUsedBySeveralSubjects": {"fingerprint=" + fp("c") + " =2"},
		"AuthnFailuresFromAddress":   {"client_address=10.0.3.9 =20"},
		"TokenGuessing":              {"client_address=10.0.4.6 =10"},
		"RevokedTokenUsed":           {"client_address=10.0.5.5,fingerprint=" + fp("f") + " =1"},
		"BOLAEnumeration":            {"subject=mallory =5"},
	}
	rules := logsRules(t, root)
	assert.Len(t, rules, len(want))
	for name, expr := range rules {
		raw, err := get(ctx, base+"/select/logsql/stats_query?"+url.Values{
			"query": {expr}, "time": {now.Add(time.Second).Format(time.RFC3339)}}.Encode())
		require.NoError(t, err, name)
		var res struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(raw, &res), "%s: %s", name, raw)
		var got []string
		for _, r := range res.Data.Result {
			var labels []string
			for k, v := range r.Metric {
				if k != "__name__" {
					labels = append(labels, k+"="+v)
				}
			}
			sort.Strings(labels)
			got = append(got, fmt.Sprintf("%s =%v", strings.Join(labels, ","), r.Value[1]))
		}
		sort.Strings(got)
		assert.Equal(t, want[name], got, "%s: %s", name, expr)
	}
}
