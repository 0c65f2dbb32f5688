package claimset

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelbearer/otelbearer"
)

func TestWithoutNone(t *testing.T) {
	assert.Equal(t, []string{"RS256"}, WithoutNone([]string{"none", "RS256", "NoNe"}))
	assert.Equal(t, []string{NoAlgorithm}, WithoutNone([]string{"none"}))
	assert.Equal(t, []string{NoAlgorithm}, WithoutNone(nil))
	in := []string{"none", "ES256"}
	WithoutNone(in)
	assert.Equal(t, []string{"none", "ES256"}, in, "the input is not changed")
}

func TestPrecheck(t *testing.T) {
	assert.NoError(t, Precheck("pkg", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.AAAA"))
	err := Precheck("pkg", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0=.AAAA")
	assert.ErrorIs(t, err, otelbearer.ErrTokenInvalid)
	assert.ErrorIs(t, err, ErrNotCanonical)
}

func TestFinish(t *testing.T) {
	claims := otelbearer.Claims{Subject: "alice", TokenID: "jti-1"}
	revokedIs := func(id string) Revoked {
		return func(_ context.Context, jti string) (bool, error) { return jti == id, nil }
	}
	down := func(context.Context, string) (bool, error) { return false, errors.New("store down") }
	tests := []struct {
		name    string
		mapErr  error
		revoked Revoked
		want    error // nil: claims returned
	}{
		{"no hook", nil, nil, nil},
		{"not revoked", nil, revokedIs("other"), nil},
		{"revoked", nil, revokedIs("jti-1"), otelbearer.ErrTokenRevoked},
		{"store down", nil, down, otelbearer.ErrValidatorUnavailable},
		{"bad claim beats revocation", errors.New("claim sub is not a string"), revokedIs("jti-1"), otelbearer.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Finish(t.Context(), "pkg", claims, tt.mapErr, tt.revoked)
			if tt.want == nil {
				assert.NoError(t, err)
				assert.Equal(t, claims, got)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			assert.Zero(t, got)
		})
	}
}
