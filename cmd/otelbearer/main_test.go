package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelbearer/otelbearer"
)

func TestRun(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, "k1")
	want := otelbearer.NewFingerprinter(otelbearer.NewKey([]byte("k1"))).Fingerprint("tok")
	assert.Equal(t, "0500681d97c6845020d65ea64d7e4cc7", want, "HMAC-SHA256(k1, tok), from openssl")
	tests := []struct {
		name, in string
		code     int
		out      string
	}{
		{"plain", "tok", 0, want + "\n"},
		{"newline", "tok\n", 0, want + "\n"},
		{"bearer prefix", "  Bearer tok \r\n", 0, want + "\n"},
		{"lowercase prefix", "bearer   tok", 0, want + "\n"},
		{"empty", " \n", 1, ""},
		{"prefix only", "Bearer ", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"fingerprint"}, strings.NewReader(tt.in), &out, &errb)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.out, out.String())
			assert.NotContains(t, errb.String(), "tok")
		})
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"fingerprint", "tok"}, strings.NewReader(""), &out, &errb), "never from argv")
	assert.Contains(t, errb.String(), "usage")
}

func TestRunUnkeyedWarns(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, "")
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"fingerprint"}, strings.NewReader("tok"), &out, &errb))
	assert.Contains(t, errb.String(), "unkeyed")
	assert.Equal(t, "1a7674eb4ee78df7e1ac439a93c3fa8e\n", out.String())
}
