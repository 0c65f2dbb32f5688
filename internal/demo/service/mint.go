package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClientID is the client_id claim of the tokens this service issues.
const tokenClientID = "otelbearer-example"

// runMint implements "service mint": it prints one signed token on stdout
// and nothing else.
func runMint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("service mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "subject (user id); required")
	scope := fs.String("scope", "read", `scopes, space- or comma-separated ("" for none)`)
	ttl := fs.Duration("ttl", time.Hour, "lifetime; negative gives an already expired token")
	jti := fs.String("jti", "", "token id (default: random)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *sub == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: service mint -sub SUBJECT [-scope read] [-ttl 1h] [-jti ID]")
		return 2
	}
	id := *jti
	if id == "" {
		id = randomID()
	}
	scopes := strings.FieldsFunc(*scope, func(r rune) bool { return r == ' ' || r == ',' })
	tok, err := mint(signingKey(), *sub, scopes, *ttl, id, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "service mint:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// mint returns an HS256 token for sub with scopes, issued at now, expiring
// after ttl, with id jti.
func mint(key []byte, sub string, scopes []string, ttl time.Duration, jti string, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"iss":       tokenIssuer,
		"sub":       sub,
		"jti":       jti,
		"client_id": tokenClientID,
		"iat":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}
