// Command service is the demo service that `make demo` and the end-to-end
// suite run: a bearer-token API instrumented with otelbearer, with more
// moving parts than example/ (token minting, a revocation list, a child
// span before the ownership decision, an outgoing call through
// otelbearer.NewTransport). Every span and audit record of a request
// carries the token's keyed fingerprint, the authentication outcome and
// the authorization decision, and no raw token leaves the process.
//
// Usage:
//
//	service [-addr 127.0.0.1:8080] [-revoked-jtis id1,id2]
//	service mint -sub alice [-scope read] [-ttl 1h] [-jti ID]
//
// The server exports traces and logs by OTLP/gRPC as the standard OTEL_*
// variables say (see package setup) and stops cleanly on SIGINT or
// SIGTERM. mint prints one HS256 bearer token the server accepts. See
// README.md for the routes, the environment variables and their defaults.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/otelbearer/otelbearer"
)

// Environment variables and their development defaults.
const (
	// signingKeyEnv holds the HS256 key tokens are signed and checked with.
	signingKeyEnv = "EXAMPLE_SIGNING_KEY"
	// devSigningKey is used when signingKeyEnv is unset or empty.
	devSigningKey = "otelbearer-example-signing-key-dev-only"
	// revokedJTIsEnv is a comma-separated list of revoked token ids (jti),
	// read at server start and merged with -revoked-jtis.
	revokedJTIsEnv = "EXAMPLE_REVOKED_JTIS"
	// devFingerprintKey is used as OTELBEARER_FINGERPRINT_KEY when that
	// variable is unset or empty.
	devFingerprintKey = "otelbearer-dev-fingerprint-key"
	// tokenIssuer is the iss of every token mint issues; the server requires it.
	tokenIssuer = "otelbearer-example"
	// defaultServiceName is OTEL_SERVICE_NAME when that variable is unset.
	defaultServiceName = "otelbearer-example"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code. The server
// runs until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "mint" {
		return runMint(args[1:], stdout, stderr)
	}
	cfg, err := parseServe(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "service:", err)
		return 1
	}
	if err := serve(ctx, cfg, lis, stderr); err != nil {
		fmt.Fprintln(stderr, "service:", err)
		return 1
	}
	return 0
}

// serveConfig is the server's configuration from flags and environment.
type serveConfig struct {
	addr           string
	signingKey     []byte
	fingerprintKey []byte
	revoked        map[string]bool
}

// parseServe reads the server flags and environment. It writes warnings
// about development defaults to stderr.
func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	revoked := fs.String("revoked-jtis", "", "comma-separated revoked token ids (jti), merged with $"+revokedJTIsEnv)
	if err := fs.Parse(args); err != nil {
		return serveConfig{}, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "service: unexpected argument %q (subcommand: mint)\n", fs.Arg(0))
		return serveConfig{}, fmt.Errorf("unexpected argument")
	}
	cfg := serveConfig{addr: *addr, revoked: map[string]bool{}}
	for _, list := range []string{*revoked, os.Getenv(revokedJTIsEnv)} {
		for jti := range strings.SplitSeq(list, ",") {
			if jti = strings.TrimSpace(jti); jti != "" {
				cfg.revoked[jti] = true
			}
		}
	}
	cfg.signingKey = signingKey()
	if os.Getenv(signingKeyEnv) == "" {
		fmt.Fprintf(stderr, "WARNING: %s is not set; using the development signing key %q (never in production)\n",
			signingKeyEnv, devSigningKey)
	}
	if v := os.Getenv(otelbearer.FingerprintKeyEnv); v != "" {
		cfg.fingerprintKey = []byte(v) // raw bytes, as the middleware and CLI read it
	} else {
		cfg.fingerprintKey = []byte(devFingerprintKey)
		fmt.Fprintf(stderr, "WARNING: %s is not set; using the development fingerprint key %q (never in production)\n",
			otelbearer.FingerprintKeyEnv, devFingerprintKey)
	}
	return cfg, nil
}

// signingKey returns the key from signingKeyEnv or the development default.
func signingKey() []byte {
	if v := os.Getenv(signingKeyEnv); v != "" {
		return []byte(v)
	}
	return []byte(devSigningKey)
}

// randomID returns 128 random bits in hex, for token ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
