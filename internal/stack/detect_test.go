package stack

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vmalertBin returns the cached vmalert, or skips.
func vmalertBin(t *testing.T) (bin, root string) {
	t.Helper()
	root, err := RepoRoot()
	require.NoError(t, err)
	out, err := exec.Command("bash", filepath.Join(root, "tools", "build.sh"), "path", "vmalert").Output()
	require.NoError(t, err)
	bin = strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("vmalert is not built (%s); build it with: tools/build.sh vmalert (make tools)", bin)
	}
	return bin, root
}

// The rules files pass vmalert's own check (-dryRun parses every LogsQL and
// MetricsQL expression and every template), and a broken one does not.
func TestRulesDryRun(t *testing.T) {
	bin, root := vmalertBin(t)
	dryRun := func(file string, extra ...string) (string, error) {
		args := append([]string{"-dryRun", "-rule", file}, extra...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	logs := filepath.Join(root, "alerts", "logs.rules.yml")
	metrics := filepath.Join(root, "alerts", "metrics.rules.yml")
	for _, c := range []struct {
		file     string
		extra    []string
		from, to string // a change that breaks one expression
	}{
		{logs, []string{"-rule.defaultRuleType", "vlogs"}, "| filter addresses", "| filterx addresses"},
		{metrics, nil, "increase_pure(", "increase_pure(("},
	} {
		out, err := dryRun(c.file, c.extra...)
		require.NoError(t, err, "%s:\n%s", c.file, out)

		// The same file with one expression broken fails: the check is real.
		data, err := os.ReadFile(c.file)
		require.NoError(t, err)
		broken := filepath.Join(t.TempDir(), "broken.yml")
		require.Contains(t, string(data), c.from)
		require.NoError(t, os.WriteFile(broken, bytes.Replace(data, []byte(c.from), []byte(c.to), 1), 0o600))
		out, err = dryRun(broken, c.extra...)
		require.Error(t, err, out)
	}
}

// Every rule is commented, names what to pivot on, and points to its
// evidence.
func TestRulesDocumented(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	pivot := regexp.MustCompile(`\$labels\.(fingerprint|client_address|subject|service_name)`)
	for _, f := range []string{"logs.rules.yml", "metrics.rules.yml"} {
		data, err := os.ReadFile(filepath.Join(root, "alerts", f))
		require.NoError(t, err)
		rules := strings.Split(string(data), "- alert: ")[1:]
		require.NotEmpty(t, rules, f)
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if strings.Contains(l, "- alert: ") {
				assert.True(t, strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#"), "%s: rule at line %d has no comment", f, i+1)
			}
		}
		for _, r := range rules {
			name := strings.Fields(r)[0]
			assert.Contains(t, r, "logsql:", "%s %s: no evidence query", f, name)
			assert.Contains(t, r, "investigate:", "%s %s: no report command", f, name)
			assert.Regexp(t, pivot, r, "%s %s: names nothing to pivot on", f, name)
		}
	}
}

func TestAlertReceiver(t *testing.T) {
	r, err := NewAlertReceiver()
	require.NoError(t, err)
	defer r.Close()
	post := func(body string) int {
		resp, err := http.Post(r.URL()+"/api/v2/alerts", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	a := `{"labels":{"alertname":"TokenGuessing","client_address":"127.0.0.9"},"annotations":{"summary":"s"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-01-01T00:01:00Z"}`
	b := `{"labels":{"alertname":"RevokedTokenUsed","fingerprint":"ab"},"startsAt":"2026-01-01T00:00:00Z"}`
	require.Equal(t, http.StatusOK, post("["+a+","+b+"]"))
	first := r.Alerts()
	require.Len(t, first, 2)
	assert.Equal(t, "RevokedTokenUsed", first[0].Name())
	assert.Equal(t, "TokenGuessing", first[1].Name())
	assert.Equal(t, "127.0.0.9", first[1].Labels["client_address"])

	time.Sleep(10 * time.Millisecond)
	require.Equal(t, http.StatusOK, post("["+a+"]")) // repeated: same alert, first receipt kept
	again := r.Alerts()
	require.Len(t, again, 2)
	assert.Equal(t, first[1].Received, again[1].Received)
	assert.Equal(t, http.StatusBadRequest, post("not json"))
	assert.Contains(t, string(r.Raw()), "TokenGuessing")

	var ctx = context.Background()
	got, err := get(ctx, r.URL()+"/api/v2/alerts")
	require.NoError(t, err)
	assert.Contains(t, string(got), `"client_address":"127.0.0.9"`)
}
