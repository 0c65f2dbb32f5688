package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	t.Setenv(otelbearer.FingerprintKeyEnv, "k1")
	want := otelbearer.NewFingerprinter(otelbearer.NewKey([]byte("k1"))).Fingerprint("s3cr3t")
	assert.Equal(t, "bcc06f534ed2267058a6ebdf2344d293", want, "HMAC-SHA256(k1, s3cr3t), from openssl")
	tests := []struct {
		name, in string
		code     int
		out      string
	}{
		{"plain", "s3cr3t", 0, want + "\n"},
		{"newline", "s3cr3t\n", 0, want + "\n"},
		{"bearer prefix", "  Bearer s3cr3t \r\n", 0, want + "\n"},
		{"lowercase prefix", "bearer   s3cr3t", 0, want + "\n"},
		{"empty", " \n", 1, ""},
		{"prefix only", "Bearer ", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"fingerprint"}, strings.NewReader(tt.in), &out, &errb)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.out, out.String())
			assert.NotContains(t, errb.String(), "s3cr3t")
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
	assert.Equal(t, 0, run([]string{"fingerprint"}, strings.NewReader("s3cr3t"), &out, &errb))
	assert.Contains(t, errb.String(), "unkeyed")
	assert.Equal(t, "4e738ca5563c06cfd0018299933d58db\n", out.String())
}
