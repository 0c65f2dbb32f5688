package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testSigningKey = "example-test-signing-key"
	testFPKey      = "example-test-fingerprint-key"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv points the example at an in-process OTLP receiver.
func testEnv(t *testing.T) *otlptest.Receiver {
	t.Helper()
	rcv := otlptest.Start(t)
	for k, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + rcv.Addr(),
		"OTEL_EXPORTER_OTLP_INSECURE": "true",
		"OTEL_SERVICE_NAME":           "example-test",
		"OTEL_TRACES_SAMPLER":         "always_on",
		"OTEL_RESOURCE_ATTRIBUTES":    "",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
		"OTEL_BLRP_SCHEDULE_DELAY":    "50",
		signingKeyEnv:                 testSigningKey,
		otelbearer.FingerprintKeyEnv:  testFPKey,
		revokedJTIsEnv:                "revoked-1, revoked-env",
	} {
		t.Setenv(k, v)
	}
	return rcv
}

func mustMint(t *testing.T, sub, scope string, ttl time.Duration, jti string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args := []string{"mint", "-sub", sub, "-scope", scope, "-ttl", ttl.String()}
	if jti != "" {
		args = append(args, "-jti", jti)
	}
	if code := run(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("mint exit %d: %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func TestServer(t *testing.T) {
	rcv := testEnv(t)
	var stderr syncBuffer
	cfg, err := parseServe([]string{"-addr", "127.0.0.1:0", "-revoked-jtis", "revoked-2"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + lis.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, lis, &stderr) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	defer stop()

	alice := mustMint(t, "alice", "read", time.Hour, "")
	tokens := map[string]string{
		"alice":       alice,
		"expired":     mustMint(t, "alice", "read", -time.Minute, ""),
		"revokedEnv":  mustMint(t, "alice", "read", time.Hour, "revoked-1"),
		"revokedFlag": mustMint(t, "alice", "read", time.Hour, "revoked-2"),
		"noScope":     mustMint(t, "alice", "write", time.Hour, ""),
		"garbage":     "not.a.jwt",
	}
	fp := otelbearer.NewFingerprinter(otelbearer.NewKey([]byte(testFPKey)))

	tests := []struct {
		name, path, token string
		query             bool
		status            int
		challenge         string // substring of WWW-Authenticate; "-" none expected
		event, decision   string
	}{
		{"owner", "/api/data/alice-1", "alice", false, 200, "-", "token_valid", "allow"},
		{"bola", "/api/data/bob-1", "alice", false, 403, "-", "token_valid", "deny"},
		{"missing", "/api/data/alice-2", "", false, 401, "Bearer", "token_missing", "none"},
		{"expired", "/api/data/alice-3", "expired", false, 401, `error="invalid_token"`, "token_expired", "none"},
		{"revoked env", "/api/data/alice-4", "revokedEnv", false, 401, `error="invalid_token"`, "token_revoked", "none"},
		{"revoked flag", "/api/data/alice-5", "revokedFlag", false, 401, `error="invalid_token"`, "token_revoked", "none"},
		{"garbage", "/api/data/alice-6", "garbage", false, 401, `error="invalid_token"`, "token_invalid", "none"},
		{"query token", "/api/data/alice-7", "alice", true, 200, "-", "token_valid", "allow"},
		{"insufficient scope", "/api/data/alice-8", "noScope", false, 403, "insufficient_scope", "token_valid", "deny"},
		{"not found", "/api/data/alice", "alice", false, 404, "-", "token_valid", "none"},
		{"healthz", "/healthz", "", false, 200, "-", "token_missing", "none"},
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := base + tt.path
			tok := tokens[tt.token]
			if tt.query {
				u += "?access_token=" + url.QueryEscape(tok)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
			if tok != "" && !tt.query {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			ch := resp.Header.Get("WWW-Authenticate")
			if tt.challenge == "-" && ch != "" || tt.challenge != "-" && !strings.Contains(ch, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, want %q", ch, tt.challenge)
			}
			if tt.path == "/healthz" && string(body) != "ok" {
				t.Errorf("healthz body = %q", body)
			}
		})
	}
	stop() // flushes traces, then logs, to the receiver

	spans := allSpans(rcv)
	for _, tt := range tests {
		t.Run("span/"+tt.name, func(t *testing.T) {
			s := findSpan(spans, func(s *tracepb.Span, a map[string]*commonpb.AnyValue) bool {
				return s.GetKind() == tracepb.Span_SPAN_KIND_SERVER && a["url.path"].GetStringValue() == tt.path
			})
			if s == nil {
				t.Fatalf("no server span for %s", tt.path)
			}
			a := attrs(s.GetAttributes())
			if got := a["auth.event"].GetStringValue(); got != tt.event {
				t.Errorf("auth.event = %q, want %q", got, tt.event)
			}
			if got := a["authz.decision"].GetStringValue(); got != tt.decision {
				t.Errorf("authz.decision = %q, want %q", got, tt.decision)
			}
			wantFP := ""
			if tok := tokens[tt.token]; tok != "" {
				wantFP = fp.Fingerprint(tok)
			}
			if got := a["token.fingerprint"].GetStringValue(); got != wantFP {
				t.Errorf("token.fingerprint = %q, want %q", got, wantFP)
			}
			if tt.name == "bola" && a["authz.reason"].GetStringValue() != "not_owner" {
				t.Errorf("authz.reason = %q, want not_owner", a["authz.reason"].GetStringValue())
			}
			if tt.name == "healthz" && !a["auth.optional"].GetBoolValue() {
				t.Error("healthz: auth.optional not true")
			}
		})
	}

	aliceFP := fp.Fingerprint(alice)
	t.Run("db.lookup", func(t *testing.T) {
		s := findSpan(spans, func(s *tracepb.Span, a map[string]*commonpb.AnyValue) bool {
			return s.GetName() == "db.lookup" && a["token.fingerprint"].GetStringValue() == aliceFP
		})
		if s == nil {
			t.Fatal("no db.lookup span with alice's fingerprint")
		}
		a := attrs(s.GetAttributes())
		if a["db.system.name"].GetStringValue() != "memory" || a["authz.decision"].GetStringValue() != "none" {
			t.Errorf("db.lookup attributes: %v", s.GetAttributes())
		}
	})
	t.Run("client span", func(t *testing.T) {
		s := findSpan(spans, func(s *tracepb.Span, a map[string]*commonpb.AnyValue) bool {
			return s.GetKind() == tracepb.Span_SPAN_KIND_CLIENT && a["token.outgoing.fingerprint"] != nil
		})
		if s == nil {
			t.Fatal("no client span with token.outgoing.fingerprint")
		}
		a := attrs(s.GetAttributes())
		out := a["token.outgoing.fingerprint"].GetStringValue()
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(out) || out == aliceFP {
			t.Errorf("token.outgoing.fingerprint = %q", out)
		}
		if a["token.fingerprint"].GetStringValue() != aliceFP {
			t.Errorf("client span token.fingerprint = %q, want the caller's %q", a["token.fingerprint"].GetStringValue(), aliceFP)
		}
		pricing := findSpan(spans, func(s *tracepb.Span, a map[string]*commonpb.AnyValue) bool {
			return s.GetKind() == tracepb.Span_SPAN_KIND_SERVER && a["url.path"].GetStringValue() == "/internal/pricing" &&
				a["token.fingerprint"].GetStringValue() == out
		})
		if pricing == nil {
			t.Error("no /internal/pricing server span with the service credential's fingerprint")
		} else if !bytes.Equal(pricing.GetTraceId(), s.GetTraceId()) {
			t.Error("pricing server span is not in the caller's trace")
		}
	})
	t.Run("logs", func(t *testing.T) {
		var served, authn int
		for _, req := range rcv.Logs() {
			for _, rl := range req.GetResourceLogs() {
				for _, sl := range rl.GetScopeLogs() {
					for _, r := range sl.GetLogRecords() {
						a := attrs(r.GetAttributes())
						if r.GetBody().GetStringValue() == "data served" && a["token.fingerprint"].GetStringValue() == aliceFP &&
							len(r.GetTraceId()) > 0 {
							served++
						}
						if r.GetEventName() == otelbearer.AuditEventAuthn {
							authn++
						}
					}
				}
			}
		}
		if served != 2 { // owner + query token
			t.Errorf("%d stamped \"data served\" records, want 2", served)
		}
		if authn < len(tests) {
			t.Errorf("%d authn audit records, want at least %d", authn, len(tests))
		}
	})
	t.Run("no raw tokens", func(t *testing.T) {
		wire := rcv.Bytes()
		for name, tok := range tokens {
			if name == "garbage" {
				continue // too short to be distinctive
			}
			sig := tok[strings.LastIndexByte(tok, '.')+1:]
			if bytes.Contains(wire, []byte(tok)) || bytes.Contains(wire, []byte(sig)) {
				t.Errorf("token %s found in exported OTLP bytes", name)
			}
			if strings.Contains(stderr.String(), sig) {
				t.Errorf("token %s found in the server's stderr", name)
			}
		}
		// Every JWT here (the service credential too) starts with this header.
		if bytes.Contains(wire, []byte("eyJhbGciOiJIUzI1NiIs")) {
			t.Error("a JWT header was exported")
		}
	})
}

func allSpans(rcv *otlptest.Receiver) []*tracepb.Span {
	var out []*tracepb.Span
	for _, req := range rcv.Traces() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				out = append(out, ss.GetSpans()...)
			}
		}
	}
	return out
}

func findSpan(spans []*tracepb.Span, match func(*tracepb.Span, map[string]*commonpb.AnyValue) bool) *tracepb.Span {
	for _, s := range spans {
		if match(s, attrs(s.GetAttributes())) {
			return s
		}
	}
	return nil
}

func attrs(kvs []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := make(map[string]*commonpb.AnyValue, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

func TestMint(t *testing.T) {
	t.Setenv(signingKeyEnv, testSigningKey)
	key := func(*jwt.Token) (any, error) { return []byte(testSigningKey), nil }
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"mint", "-sub", "bob", "-scope", "read write", "-ttl", "2h", "-jti", "j-1"}, &out, &errb)
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if strings.Count(out.String(), "\n") != 1 || !strings.HasSuffix(out.String(), "\n") {
		t.Fatalf("stdout is not exactly one line: %d bytes", out.Len())
	}
	mc := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(strings.TrimSpace(out.String()), mc, key)
	if err != nil || !tok.Valid {
		t.Fatalf("minted token does not verify: %v", err)
	}
	exp, _ := mc.GetExpirationTime()
	if mc["sub"] != "bob" || mc["scope"] != "read write" || mc["jti"] != "j-1" || mc["iss"] != tokenIssuer ||
		exp == nil || time.Until(exp.Time) < 119*time.Minute || time.Until(exp.Time) > 121*time.Minute {
		t.Errorf("claims = %v", mc)
	}

	out.Reset()
	if code := run(t.Context(), []string{"mint", "-sub", "bob", "-ttl", "-1m"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	mc = jwt.MapClaims{}
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(strings.TrimSpace(out.String()), mc, key)
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("-ttl -1m: err = %v, want expired", err)
	}
	if mc["scope"] != "read" || len(mc["jti"].(string)) != 32 {
		t.Errorf("defaults: scope %v, jti %v", mc["scope"], mc["jti"])
	}

	for _, args := range [][]string{{"mint"}, {"mint", "-sub", "a", "extra"}, {"mint", "-bogus"}} {
		out.Reset()
		errb.Reset()
		if code := run(t.Context(), args, &out, &errb); code != 2 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %d bytes", args, code, out.Len())
		}
	}
}

func TestRunStopsCleanly(t *testing.T) {
	testEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, &stderr) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("warnings with both keys set: %s", stderr.String())
	}
}

func TestDevDefaultsWarn(t *testing.T) {
	t.Setenv(signingKeyEnv, "")
	t.Setenv(otelbearer.FingerprintKeyEnv, "")
	var stderr bytes.Buffer
	cfg, err := parseServe(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.fingerprintKey) != devFingerprintKey || string(cfg.signingKey) != devSigningKey || cfg.addr != "127.0.0.1:8080" {
		t.Errorf("defaults not applied: addr %q", cfg.addr)
	}
	if !strings.Contains(stderr.String(), "WARNING: "+otelbearer.FingerprintKeyEnv) {
		t.Errorf("no fingerprint key warning: %q", stderr.String())
	}
	if _, err := parseServe([]string{"extra"}, io.Discard); err == nil {
		t.Error("extra argument accepted")
	}
}

func TestLoopbackAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:80": "127.0.0.1:80", "[::]:80": "[::1]:80", "127.0.0.2:80": "127.0.0.2:80",
	} {
		a, _ := net.ResolveTCPAddr("tcp", in)
		if got := loopbackAddr(a); got != want {
			t.Errorf("loopbackAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestNoCollector: with nothing listening on the OTLP endpoint the server
// starts, serves and still exits 0 on stop.
func TestNoCollector(t *testing.T) {
	testEnv(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens here now
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+deadAddr)
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "200")

	var stderr syncBuffer
	cfg, err := parseServe([]string{"-addr", "127.0.0.1:0"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, lis, &stderr) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	tok := mustMint(t, "alice", "read", time.Hour, "")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+lis.Addr().String()+"/api/data/alice-1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200 without a collector", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
}
