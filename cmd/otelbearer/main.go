// Command otelbearer computes token fingerprints, so that a responder
// holding a leaked token can find its activity by token.fingerprint in
// Jaeger, Tempo or the audit log.
//
// Usage:
//
//	printf '%s' "$TOKEN" | OTELBEARER_FINGERPRINT_KEY=... otelbearer fingerprint
//
// The token is read from standard input, never from the command line (which
// other users and shell history can see). Surrounding whitespace and an
// optional "Bearer " prefix are removed, so a pasted header value works.
// The key comes from OTELBEARER_FINGERPRINT_KEY, used as raw bytes, exactly
// as the middleware reads it: a key shorter than 16 bytes is refused (exit
// status 1), and a key that begins or ends with white space (a newline from
// a file) is used as it is, with a warning. A JWS in compact form (a JWT) is
// fingerprinted in its canonical spelling, as the middleware does, so every
// spelling a JWT library accepts gives the fingerprint found in telemetry.
//
// "otelbearer investigate -logs URL" reports on the audit log in
// VictoriaLogs (see investigate.go): reused tokens, failing addresses,
// guessers, BOLA actors, revoked or expired tokens, and with -token (token
// on standard input) every request of one token.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.opentelemetry.io/otel"

	"github.com/otelbearer/otelbearer"
)

const usage = `usage: otelbearer fingerprint < token
       otelbearer investigate -logs URL [-since 1h] [-json] [-token < token]

Reads one bearer token from standard input and prints its fingerprint
(HMAC-SHA256 under $OTELBEARER_FINGERPRINT_KEY, 128 bits, lowercase hex),
the value of token.fingerprint in traces and logs. A JWT is fingerprinted
in its canonical spelling, as the middleware does.

"otelbearer investigate -h" describes the audit-log report.
`

func main() {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // run says it on stderr
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// maxToken bounds what is read from standard input.
const maxToken = 64 << 10

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "investigate" {
		return runInvestigate(args[1:], stdin, stdout, stderr)
	}
	if len(args) != 1 || args[0] != "fingerprint" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	tok, err := readToken(stdin)
	if err != nil {
		fmt.Fprintln(stderr, "otelbearer:", err)
		return 1
	}
	fp, err := otelbearer.NewFingerprinter(nil) // the key of FingerprintKeyEnv
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if raw := os.Getenv(otelbearer.FingerprintKeyEnv); strings.TrimSpace(raw) != raw {
		fmt.Fprintln(stderr, "otelbearer: warning: "+otelbearer.FingerprintKeyEnv+
			" begins or ends with white space; it is used as raw bytes, as the middleware uses it")
	}
	if os.Getenv(otelbearer.FingerprintKeyEnv) == "" {
		fmt.Fprintln(stderr, "otelbearer: warning: "+otelbearer.FingerprintKeyEnv+
			" is not set; printing the unkeyed SHA-256 fingerprint")
	}
	fmt.Fprintln(stdout, fp.Fingerprint(tok))
	return 0
}

func readToken(r io.Reader) (string, error) {
	b, err := io.ReadAll(bufio.NewReader(io.LimitReader(r, maxToken+1)))
	if err != nil {
		return "", err
	}
	if len(b) > maxToken {
		return "", errors.New("token too large")
	}
	s := strings.TrimSpace(string(b))
	if len(s) >= 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	} else if strings.EqualFold(s, "bearer") {
		s = ""
	}
	if s == "" {
		return "", errors.New("no token on standard input")
	}
	return s, nil
}
