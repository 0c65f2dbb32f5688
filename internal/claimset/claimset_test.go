package claimset

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScopes(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    []string
		wantErr bool
	}{
		{"missing", nil, nil, false},
		{"string", "read  write", []string{"read", "write"}, false},
		{"empty string", "", []string{}, false},
		{"array", []any{"read", "write"}, []string{"read", "write"}, false},
		{"array with a number", []any{"read", 1.0}, nil, true},
		{"number", 3.0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Scopes("scope", tt.in)
			assert.Equal(t, tt.wantErr, err != nil)
			assert.Equal(t, tt.want, got)
		})
	}
}
