package validatortest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otelbearer/otelbearer"
)

var sentinels = []error{otelbearer.ErrTokenInvalid, otelbearer.ErrTokenExpired,
	otelbearer.ErrTokenRevoked, otelbearer.ErrValidatorUnavailable}

// suite holds one run's configuration.
type suite struct {
	cfg          config
	mint         MintFunc
	newValidator func(runner) otelbearer.Validator
	mu           sync.Mutex // serializes mint
	n            int        // token ids issued
}

// claims returns the claims the kit asks a token to carry, expiring in d.
func (s *suite) claims(d time.Duration) otelbearer.Claims {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	return otelbearer.Claims{
		Subject:   "validatortest-subject",
		Scopes:    []string{"read", "write"},
		TokenID:   fmt.Sprintf("validatortest-%d", n),
		ClientID:  "validatortest-client",
		ExpiresAt: s.cfg.now().Add(d).Truncate(time.Second),
	}
}

// token mints a token of kind k with c. It reports a MintFunc error and
// skips on ErrNotSupported; ok is false in both cases.
func (s *suite) token(r runner, k Kind, c otelbearer.Claims) (tok string, ok bool) {
	r.Helper()
	s.mu.Lock()
	tok, err := s.mint(k, c)
	s.mu.Unlock()
	switch {
	case errors.Is(err, ErrNotSupported) && (k == Valid || k == Expired):
		r.Errorf("MintFunc(%v): %v, but every MintFunc must produce %v tokens", k, err, k)
		return "", false
	case errors.Is(err, ErrNotSupported):
		r.Skipf("MintFunc does not produce %v tokens", k)
		return "", false
	case err != nil:
		r.Errorf("MintFunc(%v): %v", k, err)
		return "", false
	}
	return tok, true
}

// run runs every check.
func (s *suite) run(r runner) {
	r.Run("valid", s.checkValid)
	r.Run("garbage", s.checkGarbage)
	for _, c := range []struct {
		name string
		kind Kind
		d    time.Duration
		want error
	}{
		{"expired", Expired, -time.Hour, otelbearer.ErrTokenExpired},
		{"not-yet-valid", NotYetValid, time.Hour, otelbearer.ErrTokenInvalid},
		{"wrong-key", WrongKey, time.Hour, otelbearer.ErrTokenInvalid},
		{"wrong-issuer", WrongIssuer, time.Hour, otelbearer.ErrTokenInvalid},
		{"wrong-audience", WrongAudience, time.Hour, otelbearer.ErrTokenInvalid},
		{"revoked", Revoked, time.Hour, otelbearer.ErrTokenRevoked},
		{"revocation-unavailable", Unavailable, time.Hour, otelbearer.ErrValidatorUnavailable},
	} {
		r.Run(c.name, func(r runner) {
			cl := s.claims(c.d)
			switch c.kind {
			case Revoked:
				cl.TokenID = RevokedTokenID
			case Unavailable:
				cl.TokenID = UnavailableTokenID
			}
			if tok, ok := s.token(r, c.kind, cl); ok {
				s.refused(r, s.newValidator(r), tok, c.want)
			}
		})
	}
	r.Run("jws", s.checkJWS)
	r.Run("cancelled-context", s.checkCancelled)
	r.Run("concurrent", s.checkConcurrent)
}

// panicError is what validate returns for a Validate that panicked.
type panicError struct{ v any }

func (e panicError) Error() string { return fmt.Sprintf("Validate panicked: %v", e.v) }

// validate calls v.Validate, turning a panic into a panicError.
func validate(ctx context.Context, v otelbearer.Validator, tok string) (c otelbearer.Claims, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = otelbearer.Claims{}, panicError{p}
		}
	}()
	return v.Validate(ctx, tok)
}

// refused validates tok with v and checks that it is refused with want
// and nothing else.
func (s *suite) refused(r runner, v otelbearer.Validator, tok string, want error) {
	r.Helper()
	c, err := validate(r.Context(), v, tok)
	if msg := refusal(tok, c, err, want); msg != "" {
		r.Errorf("%s", msg)
	}
}

// refusal describes how (c, err) from validating tok is not a refusal
// with want; "" when it is.
func refusal(tok string, c otelbearer.Claims, err, want error) string {
	var msgs []string
	if err == nil {
		return fmt.Sprintf("accepted (subject %q), want an error wrapping %s", c.Subject, sentinelName(want))
	}
	if p, ok := err.(panicError); ok {
		return p.Error()
	}
	for _, s := range sentinels {
		if is := errors.Is(err, s); is != (s == want) {
			msgs = append(msgs, fmt.Sprintf("errors.Is(err, %s) = %v", sentinelName(s), is))
		}
	}
	if !zeroClaims(c) {
		msgs = append(msgs, fmt.Sprintf("claims returned with the error (subject %q)", c.Subject))
	}
	if leaks(err.Error(), tok) {
		msgs = append(msgs, "the error text contains the token")
	}
	if msgs == nil {
		return ""
	}
	return fmt.Sprintf("error %q, want one wrapping %s only: %s", err, sentinelName(want), strings.Join(msgs, "; "))
}

// sentinelName names one of sentinels.
func sentinelName(err error) string {
	switch err {
	case otelbearer.ErrTokenInvalid:
		return "ErrTokenInvalid"
	case otelbearer.ErrTokenExpired:
		return "ErrTokenExpired"
	case otelbearer.ErrTokenRevoked:
		return "ErrTokenRevoked"
	case otelbearer.ErrValidatorUnavailable:
		return "ErrValidatorUnavailable"
	}
	return fmt.Sprint(err)
}

func zeroClaims(c otelbearer.Claims) bool {
	return c.Subject == "" && c.Scopes == nil && c.TokenID == "" && c.ClientID == "" &&
		c.Issuer == "" && c.ExpiresAt.IsZero()
}

// leaks reports whether text holds tok, or for a JWS its signature.
func leaks(text, tok string) bool {
	if len(tok) >= 16 && strings.Contains(text, tok) {
		return true
	}
	if i := strings.LastIndexByte(tok, '.'); i >= 0 && len(tok)-i > 16 {
		return strings.Contains(text, tok[i+1:])
	}
	return false
}

// accepted checks that v accepts tok with the claims want asked for.
func (s *suite) accepted(r runner, v otelbearer.Validator, ctx context.Context, tok string, want otelbearer.Claims) {
	r.Helper()
	got, err := validate(ctx, v, tok)
	if err != nil {
		r.Errorf("valid token refused: %v", err)
		return
	}
	if msg := s.claimsDiff(got, want); msg != "" {
		r.Errorf("%s", msg)
	}
}

// claimsDiff describes how got differs from the claims want asked for.
func (s *suite) claimsDiff(got, want otelbearer.Claims) string {
	var msgs []string
	field := func(name, g, w string) {
		if g != w {
			msgs = append(msgs, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	field("Subject", got.Subject, want.Subject)
	field("TokenID", got.TokenID, want.TokenID)
	field("ClientID", got.ClientID, want.ClientID)
	if s.cfg.issuer != "" {
		field("Issuer", got.Issuer, s.cfg.issuer)
	}
	gs, ws := slices.Sorted(slices.Values(got.Scopes)), slices.Sorted(slices.Values(want.Scopes))
	if !slices.Equal(gs, ws) {
		msgs = append(msgs, fmt.Sprintf("Scopes = %q, want %q", got.Scopes, want.Scopes))
	}
	for _, sc := range want.Scopes {
		if !got.HasScope(sc) {
			msgs = append(msgs, fmt.Sprintf("HasScope(%q) = false", sc))
		}
	}
	if got.HasScope("validatortest-not-granted") {
		msgs = append(msgs, "HasScope of a scope not granted = true")
	}
	if !got.ExpiresAt.IsZero() && !got.ExpiresAt.Equal(want.ExpiresAt) {
		msgs = append(msgs, fmt.Sprintf("ExpiresAt = %v, want %v or zero", got.ExpiresAt, want.ExpiresAt))
	}
	return strings.Join(msgs, "; ")
}

func (s *suite) checkValid(r runner) {
	v := s.newValidator(r)
	want := s.claims(time.Hour)
	tok, ok := s.token(r, Valid, want)
	if !ok {
		return
	}
	s.accepted(r, v, r.Context(), tok, want)
	r.Run("again", func(r runner) { s.accepted(r, v, r.Context(), tok, want) })
	r.Run("no-scopes", func(r runner) {
		want := s.claims(time.Hour)
		want.Scopes = nil
		if tok, ok := s.token(r, Valid, want); ok {
			s.accepted(r, v, r.Context(), tok, want)
		}
	})
}

// garbage are tokens no validator may accept.
var garbage = []struct{ name, tok string }{
	{"empty", ""},
	{"word", "garbage"},
	{"three-dots", "..."},
	{"three-segments", "a.b.c"},
	{"header-only", "eyJhbGciOiJIUzI1NiJ9"},
	{"json", `{"sub":"validatortest-subject"}`},
	{"binary", "\x00\xff\x01.\xfe.\x7f"},
	{"unicode", "tökén.ünïcode.ß"},
	{"long", strings.Repeat("A", 64<<10)},
	{"bearer-prefix", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA"},
}

func (s *suite) checkGarbage(r runner) {
	v := s.newValidator(r)
	for _, g := range garbage {
		r.Run(g.name, func(r runner) { s.refused(r, v, g.tok, otelbearer.ErrTokenInvalid) })
	}
}

// checkCancelled validates a valid token with a cancelled context.
func (s *suite) checkCancelled(r runner) {
	want := s.claims(time.Hour)
	tok, ok := s.token(r, Valid, want)
	if !ok {
		return
	}
	v := s.newValidator(r)
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	type result struct {
		c   otelbearer.Claims
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := validate(ctx, v, tok)
		done <- result{c, err}
	}()
	timer := time.NewTimer(s.cfg.timeout)
	defer timer.Stop()
	var res result
	select {
	case res = <-done:
	case <-timer.C:
		r.Errorf("Validate with a cancelled context did not return within %v", s.cfg.timeout)
		return
	}
	if res.err == nil {
		if msg := s.claimsDiff(res.c, want); msg != "" {
			r.Errorf("%s", msg)
		}
		return
	}
	if !errors.Is(res.err, ctx.Err()) && !errors.Is(res.err, otelbearer.ErrValidatorUnavailable) {
		r.Errorf("error %q wraps neither the context's error nor ErrValidatorUnavailable", res.err)
	}
	for _, verdict := range sentinels[:3] {
		if errors.Is(res.err, verdict) {
			r.Errorf("error %q is a verdict on the token (%s): cancellation is not one", res.err, sentinelName(verdict))
		}
	}
	if !zeroClaims(res.c) {
		r.Errorf("claims returned with the error")
	}
}

// checkConcurrent validates valid and refused tokens from several
// goroutines with one validator.
func (s *suite) checkConcurrent(r runner) {
	want := s.claims(time.Hour)
	valid, ok := s.token(r, Valid, want)
	if !ok {
		return
	}
	expired, ok := s.token(r, Expired, s.claims(-time.Hour))
	if !ok {
		return
	}
	v := s.newValidator(r)
	ctx := r.Context()
	var wg sync.WaitGroup
	var once sync.Once
	for range 8 {
		wg.Go(func() {
			for range 5 {
				c, err := validate(ctx, v, valid)
				msg := ""
				if err != nil {
					msg = "valid token refused: " + err.Error()
				} else {
					msg = s.claimsDiff(c, want)
				}
				if msg == "" {
					c, err = validate(ctx, v, expired)
					msg = refusal(expired, c, err, otelbearer.ErrTokenExpired)
				}
				if msg == "" {
					c, err = validate(ctx, v, "garbage")
					msg = refusal("garbage", c, err, otelbearer.ErrTokenInvalid)
				}
				if msg != "" {
					once.Do(func() { r.Errorf("concurrent validation: %s", msg) })
					return
				}
			}
		})
	}
	wg.Wait()
}
