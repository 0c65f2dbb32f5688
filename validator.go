package otelbearer

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
)

// Sentinel errors a [Validator] returns, wrapped or not; any other error is
// [AuthTokenInvalid]. ErrValidatorUnavailable, like a context error, is no
// verdict: [AuthTokenUnverified], 503.
var (
	ErrTokenExpired         = errors.New("otelbearer: token expired") // AuthTokenExpired, 401
	ErrTokenRevoked         = errors.New("otelbearer: token revoked") // AuthTokenRevoked, 401
	ErrTokenInvalid         = errors.New("otelbearer: token invalid") // AuthTokenInvalid, 401
	ErrValidatorUnavailable = errors.New("otelbearer: validator unavailable")
)

// Claims are what a validator established about a token (Audience,
// ExpiresAt and Extra are not recorded); they reach telemetry and handlers
// only from a successful validation.
type Claims struct {
	Subject   string         // user.id
	Scopes    []string       // token.scopes
	TokenID   string         // token.id (JWT jti)
	ClientID  string         // token.client_id
	Issuer    string         // token.issuer
	Audience  []string       // JWT aud
	ExpiresAt time.Time      // JWT exp
	Extra     map[string]any // every claim of the verified token, as JSON decodes it
}

// HasScope reports whether c grants scope.
func (c Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Validator checks a bearer token and returns its claims or an error (see
// the sentinels). Validate runs inside the server span; its context ends
// at the [WithValidationTimeout] deadline. It must be safe for concurrent
// use; the Claims it returns belong to the middleware.
type Validator interface {
	Validate(ctx context.Context, token string) (Claims, error)
}

// ValidatorFunc adapts a function to [Validator].
type ValidatorFunc func(ctx context.Context, token string) (Claims, error)

// Validate calls f.
func (f ValidatorFunc) Validate(ctx context.Context, token string) (Claims, error) {
	return f(ctx, token)
}

// eventFor maps a validation error to its auth.event.
func eventFor(err error) AuthEvent {
	switch {
	case err == nil:
		return AuthTokenValid
	case errors.Is(err, ErrValidatorUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return AuthTokenUnverified
	case errors.Is(err, ErrTokenExpired):
		return AuthTokenExpired
	case errors.Is(err, ErrTokenRevoked):
		return AuthTokenRevoked
	}
	return AuthTokenInvalid
}

// defaultValidationTimeout is how long a request waits for its [Validator]
// unless [WithValidationTimeout] says otherwise.
const defaultValidationTimeout = 5 * time.Second

// errorTypeKey is the semantic-convention error.type. The server span and
// the audit record carry it when validation reached no verdict.
const errorTypeKey = attribute.Key("error.type")

// validationFault is a validation that reached no verdict on the token.
// Both strings are fixed: never request bytes, never a panic value.
type validationFault struct {
	errorType string // error.type: low cardinality
	desc      string // span status description, audit body suffix
}

var (
	faultUnavailable = &validationFault{"validator_unavailable", "validator unavailable"}
	faultTimeout     = &validationFault{"validator_timeout", "validator timed out"}
	faultCanceled    = &validationFault{"validator_canceled", "request canceled during validation"}
	faultPanic       = &validationFault{"validator_panic", "validator panicked"}
	validationFaults = [...]*validationFault{faultUnavailable, faultTimeout, faultCanceled, faultPanic}
)

// faultFor returns the fault whose description is why, or nil.
func faultFor(why string) *validationFault {
	for _, f := range validationFaults {
		if f.desc == why {
			return f
		}
	}
	return nil
}

// validate runs v on token with a deadline of timeout, and stops waiting
// at the deadline or when ctx is cancelled. It returns the outcome, and a
// fault when no verdict was reached (the event is then token_unverified).
// claims are meaningful only with [AuthTokenValid].
func validate(ctx context.Context, v Validator, token string, timeout time.Duration) (Claims, AuthEvent, *validationFault) {
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	run := validationPool.Get().(*validation)
	run.ctx, run.v, run.token = vctx, v, token
	go run.run()
	select {
	case <-run.done:
	case <-vctx.Done():
		select {
		case <-run.done: // returned as the deadline passed: take its result
		default: // abandoned, never pooled again: run ends when Validate returns
			if ctx.Err() != nil {
				return Claims{}, AuthTokenUnverified, faultCanceled
			}
			return Claims{}, AuthTokenUnverified, faultTimeout
		}
	}
	claims, err, panicked := run.claims, run.err, run.panicked
	*run = validation{done: run.done}
	validationPool.Put(run)

	switch ev := eventFor(err); {
	case panicked:
		return Claims{}, AuthTokenUnverified, faultPanic
	case ev == AuthTokenValid:
		return claims, ev, nil
	case ev != AuthTokenUnverified:
		return Claims{}, ev, nil
	case errors.Is(err, context.DeadlineExceeded):
		return Claims{}, ev, faultTimeout
	case errors.Is(err, context.Canceled):
		return Claims{}, ev, faultCanceled
	default:
		return Claims{}, ev, faultUnavailable
	}
}

// validation is one call of a Validator on a goroutine of its own. The
// goroutine writes the results, then sends on done (buffered: it never
// blocks); they are read only after receiving from done. A validation
// whose result was received goes back to validationPool.
type validation struct {
	done  chan struct{}
	ctx   context.Context
	v     Validator
	token string

	claims   Claims
	err      error
	panicked bool
}

var validationPool = sync.Pool{New: func() any { return &validation{done: make(chan struct{}, 1)} }}

func (r *validation) run() {
	returned := false
	defer func() {
		if !returned { // a panic, or runtime.Goexit (recover returns nil)
			r.panicked = true
			reportPanic(recover())
		}
		r.done <- struct{}{}
	}()
	r.claims, r.err = r.v.Validate(r.ctx, r.token)
	returned = true
}

// reportPanic tells otel.Handle that a validator panicked: the value's type
// and the stack, never the value, which may hold the token.
func reportPanic(p any) {
	otel.Handle(fmt.Errorf("otelbearer: validator panicked with a value of type %T "+
		"(the value is not shown: it may hold the token); the request is token_unverified\n%s", p, debug.Stack()))
}
