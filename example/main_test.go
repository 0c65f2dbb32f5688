package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer/internal/otlptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExample runs the example against an in-process OTLP receiver: the
// owner is served, another user is denied, a missing token is refused,
// the public path answers, it stops cleanly, and the token never reaches
// the exported bytes.
func TestExample(t *testing.T) {
	rcv := otlptest.Start(t)
	for k, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + rcv.Addr(),
		"OTEL_EXPORTER_OTLP_INSECURE": "true",
		"OTEL_TRACES_SAMPLER":         "always_on",
		"OTEL_RESOURCE_ATTRIBUTES":    "",
		"OTELBEARER_FINGERPRINT_KEY":  "example-test-fingerprint-key",
	} {
		t.Setenv(k, v)
	}
	key := []byte("example-test-signing-key")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "otelbearer-example", "sub": "alice", "scope": "read",
		"exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(key)
	require.NoError(t, err)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, lis, key) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	tests := []struct {
		name, path, token string
		want              int
	}{
		{"owner", "/users/alice/notes", tok, http.StatusOK},
		{"not the owner", "/users/bob/notes", tok, http.StatusForbidden},
		{"no token", "/users/alice/notes", "", http.StatusUnauthorized},
		{"garbage", "/users/alice/notes", "garbage", http.StatusUnauthorized},
		{"public path", "/healthz", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+lis.Addr().String()+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	wire := rcv.Bytes()
	assert.Contains(t, string(wire), "not_owner", "the Deny decision was exported")
	assert.Contains(t, string(wire), "Bearer REDACTED", "the logged headers were exported, redacted")
	assert.False(t, bytes.Contains(wire, []byte(tok[bytes.LastIndexByte([]byte(tok), '.')+1:])),
		"the token's signature reached the exported bytes")
}
