package oidcvalidator_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
)

// TestHandler runs the validator in the middleware: the outcome reaches
// the status code and WWW-Authenticate.
func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		jwksStatus int32
		ttl        time.Duration
		wantStatus int
		wantAuth   string // WWW-Authenticate, "" for none
		wantBody   string // "" not checked
	}{
		{"valid", 0, time.Hour, http.StatusOK, "", "alice [read write]"},
		{"expired", 0, -time.Minute, http.StatusUnauthorized,
			`Bearer error="invalid_token"`, ""},
		{"JWKS down", http.StatusInternalServerError, time.Hour, http.StatusServiceUnavailable, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			p.jwksStatus.Store(tt.jwksStatus)
			v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithAudience("api"))
			require.NoError(t, err)
			api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, ok := otelbearer.ClaimsFromContext(r.Context())
				if !ok {
					http.Error(w, "no claims", http.StatusInternalServerError)
					return
				}
				_, _ = fmt.Fprint(w, c.Subject, " ", c.Scopes)
			})
			srv := httptest.NewServer(otelbearer.NewHandler(api, "api",
				otelbearer.WithValidator(v), otelbearer.WithFingerprintKey([]byte("test-key-0123456789"))))
			defer srv.Close()

			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/things", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+sign(t, providerKey, kid, claims(p.issuer(), tt.ttl)))
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			assert.Equal(t, tt.wantStatus, resp.StatusCode, "body: %s", body)
			if tt.wantAuth != "" {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), tt.wantAuth)
			}
			if tt.wantBody != "" {
				assert.Equal(t, tt.wantBody, string(body))
			}
		})
	}
}
