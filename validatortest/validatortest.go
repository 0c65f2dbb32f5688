// Package validatortest checks that an [otelbearer.Validator] keeps the
// contract the middleware relies on, as testing/slogtest does for a
// [log/slog.Handler]. Any validator can be checked, jwtvalidator's,
// oidcvalidator's or your own: you supply a [MintFunc] that issues the
// tokens your validator should accept or refuse, and the kit validates
// them and the variants it derives.
//
// # Use
//
//	func TestValidatorContract(t *testing.T) {
//		validatortest.Run(t, func(*testing.T) otelbearer.Validator {
//			return myvalidator.New(...)
//		}, mint)
//	}
//
// [Run] runs each check as a subtest of t; [Check] runs them without a
// [testing.T] and returns what failed as an error.
//
// # What it checks
//
// Each check is a subtest of that name. Every refusal must be an error
// that wraps the sentinel named below and no other of otelbearer's
// sentinels, comes with the zero [otelbearer.Claims], and whose text
// does not contain the token. A panic in Validate fails the check.
//
//   - valid: a [Valid] token is accepted, and Claims carries the Subject,
//     Scopes, TokenID and ClientID it was minted with, an ExpiresAt that
//     is zero or the minted expiry and, with [WithIssuer], that Issuer;
//     HasScope agrees. valid/again validates the same token a second
//     time; valid/no-scopes mints one without scopes and wants none.
//   - garbage/…: empty, short, long, binary, JSON and other non-tokens:
//     [otelbearer.ErrTokenInvalid].
//   - expired ([Expired]): [otelbearer.ErrTokenExpired].
//   - not-yet-valid, wrong-key, wrong-issuer, wrong-audience
//     ([NotYetValid], [WrongKey], [WrongIssuer], [WrongAudience]):
//     [otelbearer.ErrTokenInvalid].
//   - revoked ([Revoked]): [otelbearer.ErrTokenRevoked];
//     revocation-unavailable ([Unavailable]):
//     [otelbearer.ErrValidatorUnavailable] (fail closed).
//   - cancelled-context: Validate of a valid token with a cancelled
//     context returns within the time of [WithTimeout], with either the
//     claims (a validator that needed no I/O) or an error wrapping the
//     context's error or [otelbearer.ErrValidatorUnavailable], never a
//     verdict on the token (invalid, expired, revoked).
//   - concurrent: one validator, valid, expired and garbage tokens from
//     eight goroutines at once, the same answers (run it with -race).
//
// When the valid token is a JWS in compact serialization (a JWT), jws/…
// derives tokens from it that must be refused with
// [otelbearer.ErrTokenInvalid]:
//
//   - jws/tampered/…: the signature changed; the payload changed (another
//     sub) under the original signature.
//   - jws/alg-none/…: the header's alg set to "none" or "None", with an
//     empty signature or the original one.
//   - jws/non-canonical/…: the payload or the signature respelled so
//     that lenient base64 decoders read the same bytes: '=' padding, a
//     line break or a space inside, non-zero unused bits in the last
//     character, the standard base64 alphabet. A signed token must have
//     one accepted spelling, or one credential gets many fingerprints.
//
// A check whose token the MintFunc cannot produce ([ErrNotSupported]),
// and a variant that does not apply to the token, is skipped; [Valid]
// and [Expired] tokens are required.
package validatortest

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelbearer/otelbearer"
)

// Kind says which token a [MintFunc] is asked for.
type Kind int

const (
	// Valid is a token the validator accepts. Required.
	Valid Kind = iota
	// Expired is a token valid but for its expiry: the claims' ExpiresAt
	// is an hour in the past. Required.
	Expired
	// NotYetValid is a valid token whose not-before time (nbf) is at
	// least ten minutes in the future.
	NotYetValid
	// WrongKey is a token signed, by an allowed algorithm, with a key the
	// validator does not trust.
	WrongKey
	// WrongIssuer is a valid token from another issuer than the one the
	// validator requires.
	WrongIssuer
	// WrongAudience is a valid token for another audience than the one
	// the validator requires.
	WrongAudience
	// Revoked is a valid token the validator's revocation check reports
	// revoked. Its TokenID is [RevokedTokenID].
	Revoked
	// Unavailable is a valid token whose revocation check fails (the
	// revocation store is unreachable). Its TokenID is
	// [UnavailableTokenID].
	Unavailable
)

var kindNames = [...]string{"Valid", "Expired", "NotYetValid", "WrongKey",
	"WrongIssuer", "WrongAudience", "Revoked", "Unavailable"}

// String returns the constant's name.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Token ids of the claims the kit asks for with [Revoked] and
// [Unavailable]: a revocation hook in the harness reports the first
// revoked and fails for the second.
const (
	RevokedTokenID     = "validatortest-revoked"
	UnavailableTokenID = "validatortest-unavailable"
)

// ErrNotSupported is what a [MintFunc] returns for a kind of token it
// cannot produce (a validator with no issuer to check has no
// WrongIssuer); the checks that need it are skipped.
var ErrNotSupported = errors.New("validatortest: kind of token not supported")

// MintFunc returns a token of kind k for the validator under test,
// carrying the claims in c: Subject (sub), Scopes (scope, space-separated),
// TokenID (jti), ClientID (client_id) and ExpiresAt (exp; whole seconds),
// or the validator's equivalents. It chooses what c leaves empty (the
// issuer, the audience, the key) so that only what k names is wrong. It
// returns [ErrNotSupported] for a kind it cannot produce; [Valid] and
// [Expired] are required. It is called from the checks' goroutines one
// at a time.
type MintFunc func(k Kind, c otelbearer.Claims) (string, error)

// Option configures [Run] and [Check].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	timeout time.Duration
	issuer  string
	now     func() time.Time
}

func newConfig(opts []Option) config {
	c := config{timeout: DefaultTimeout, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// DefaultTimeout is how long Validate may take with a cancelled context
// unless [WithTimeout] says otherwise.
const DefaultTimeout = 5 * time.Second

// WithTimeout sets how long Validate may take with a cancelled context
// before the check fails (default [DefaultTimeout]). Values <= 0 keep the
// default.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithIssuer makes the valid check require Claims.Issuer == iss. Without
// it the issuer is not checked.
func WithIssuer(iss string) Option {
	return optionFunc(func(c *config) { c.issuer = iss })
}

// WithNow sets the clock the expiries the kit asks for are computed from:
// the validator's clock, when a test gives it one. A nil now keeps
// time.Now.
func WithNow(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}
