package otelbearer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every known event has its constant body, the same text as built.
func TestAuthnBody(t *testing.T) {
	for _, e := range []AuthEvent{AuthTokenMissing, AuthTokenMalformed, AuthTokenInvalid, AuthTokenExpired,
		AuthTokenRevoked, AuthTokenValid, AuthTokenUnverified, "other"} {
		assert.Equal(t, "authentication result: "+string(e), authnBody(e))
	}
}
