package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelbearer/otelbearer/internal/stack"
)

// skipMsg is why every test skips without OTELBEARER_E2E=1.
const skipMsg = "end-to-end suite: run `make test` (or OTELBEARER_E2E=1 go test ./e2e/) to start Jaeger, the Collector and VictoriaLogs"

// requireE2E skips t unless OTELBEARER_E2E=1 and returns the repository
// root and the pipeline binaries (failing with the build command when
// they are missing; the suite never builds them itself).
func requireE2E(t *testing.T) (string, stack.Binaries) {
	t.Helper()
	if os.Getenv("OTELBEARER_E2E") != "1" {
		t.Skip(skipMsg)
	}
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := stack.FindBinaries(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, bin
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// call is one scripted request and what it must answer.
type call struct {
	name   string
	ip     string   // source address (127.0.0.N)
	path   string   // path and query
	auth   []string // Authorization header values (none, one, or duplicates)
	status int      // expected status
	// challenge is a substring WWW-Authenticate must contain ("" when the
	// header must be absent); "Bearer" alone for a bare challenge.
	challenge string
}

// do sends c to base and checks the status code and challenge.
func (c call) do(t *testing.T, base string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+c.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	resp, err := stack.ClientFrom(c.ip).Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != c.status {
		t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
	}
	www := resp.Header.Values("WWW-Authenticate")
	switch {
	case c.challenge == "" && len(www) > 0:
		t.Errorf("%s: unexpected WWW-Authenticate %q", c.name, www)
	case c.challenge != "":
		if len(www) != 1 || !strings.HasPrefix(www[0], "Bearer") || !strings.Contains(www[0], c.challenge) {
			t.Errorf("%s: WWW-Authenticate %q, want one Bearer challenge containing %q", c.name, www, c.challenge)
		}
		if c.challenge == "Bearer" && strings.Contains(www[0], "error=") {
			t.Errorf("%s: WWW-Authenticate %q must carry no error code (RFC 6750 §3.1)", c.name, www)
		}
	}
}

// eventually calls f every 250ms until it returns "" or timeout passes,
// then fails t with f's last complaint.
func eventually(t *testing.T, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// rootSpan returns the trace's root span.
func rootSpan(tr stack.Trace) (stack.Span, bool) {
	for _, s := range tr.Spans {
		if s.ParentID() == "" {
			return s, true
		}
	}
	return stack.Span{}, false
}

// childNamed returns the span named name whose parent is parent.
func childNamed(tr stack.Trace, parent stack.Span, name string) (stack.Span, bool) {
	for _, s := range tr.Spans {
		if s.OperationName == name && s.ParentID() == parent.SpanID {
			return s, true
		}
	}
	return stack.Span{}, false
}

// findRoot returns the first trace whose root span has every tag in want.
func findRoot(traces []stack.Trace, want map[string]string) (stack.Trace, stack.Span, bool) {
next:
	for _, tr := range traces {
		root, ok := rootSpan(tr)
		if !ok {
			continue
		}
		for k, v := range want {
			if root.Tag(k) != v {
				continue next
			}
		}
		return tr, root, true
	}
	return stack.Trace{}, stack.Span{}, false
}

// failureRoot reports whether a root span is one tail sampling must keep.
func failureRoot(s stack.Span) bool {
	switch s.Tag("auth.event") {
	case "token_malformed", "token_invalid", "token_expired", "token_revoked", "token_unverified":
		return true
	case "token_missing":
		if s.Tag("auth.optional") != "true" {
			return true
		}
	}
	return s.Tag("authz.decision") == "deny"
}

// countsBy runs a LogsQL "stats by (field) count() as hits" query and
// returns hits per field value.
func countsBy(ctx context.Context, base, query, field string) (map[string]int, error) {
	rows, _, err := stack.LogsQL(ctx, base, query+" | stats by ("+field+") count() as hits")
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, r := range rows {
		v, _ := r[field].(string)
		n, _ := strconv.Atoi(r["hits"].(string))
		m[v] = n
	}
	return m, nil
}

// jwtShape finds anything that looks like a JWT's header and payload.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`)

// secretParts returns the substrings of tok that must never be exported:
// the token, and for a JWT its payload and 16-character pieces of its
// signature.
func secretParts(tok string) []string {
	parts := []string{tok}
	if p := strings.Split(tok, "."); len(p) == 3 {
		parts = append(parts, p[1])
		if sig := p[2]; len(sig) >= 16 {
			parts = append(parts, sig[:16], sig[len(sig)/2-8:len(sig)/2+8], sig[len(sig)-16:])
		}
	}
	return parts
}

// leaks returns a description of every secret part of tokens, and of
// anything JWT-shaped, found in data.
func leaks(data []byte, tokens []string) []string {
	s := string(data)
	var found []string
	for _, tok := range tokens {
		for _, part := range secretParts(tok) {
			if i := strings.Index(s, part); i >= 0 {
				lo, hi := max(0, i-80), min(len(s), i+len(part)+40)
				found = append(found, fmt.Sprintf("part of a token (%d chars): …%s…", len(part), s[lo:hi]))
			}
		}
	}
	if m := jwtShape.FindString(s); m != "" {
		found = append(found, fmt.Sprintf("JWT-shaped value %.40s…", m))
	}
	return found
}

// checkNoLeak fails t if data (named where) contains any secret part of
// tokens or anything JWT-shaped.
func checkNoLeak(t *testing.T, where string, data []byte, tokens []string) {
	t.Helper()
	for _, l := range leaks(data, tokens) {
		t.Errorf("LEAK in %s: %s", where, l)
	}
}

// checkDetector fails t unless leaks finds each token's payload and a
// signature piece planted in JSON, so a passing leak check means something.
func checkDetector(t *testing.T, tokens []string) {
	t.Helper()
	for _, tok := range tokens {
		parts := secretParts(tok)
		for _, part := range parts[min(1, len(parts)-1):] {
			planted := []byte(`{"key":"x","value":{"stringValue":"prefix ` + part + ` suffix"}}`)
			if len(leaks(planted, []string{tok})) == 0 {
				t.Fatalf("leak detector misses a planted piece of a token: %.12s…", part)
			}
		}
	}
}

// stringify formats a map with sorted keys (fmt sorts map keys).
func stringify[V any](m map[string]V) string { return fmt.Sprint(m) }

// itoa formats n.
func itoa(n int) string { return strconv.Itoa(n) }

// spanNames lists a trace's span names.
func spanNames(tr stack.Trace) []string {
	var names []string
	for _, s := range tr.Spans {
		names = append(names, s.OperationName)
	}
	return names
}
