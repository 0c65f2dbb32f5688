package validatortest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/jwtvalidator"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testKey = []byte("validatortest-key-0123456789abcdef")

func revocation(_ context.Context, jti string) (bool, error) {
	switch jti {
	case RevokedTokenID:
		return true, nil
	case UnavailableTokenID:
		return false, errors.New("store down")
	}
	return false, nil
}

// good is a validator that keeps the contract.
func good(opts ...jwtvalidator.Option) otelbearer.Validator {
	return jwtvalidator.NewHMAC(testKey, append([]jwtvalidator.Option{
		jwtvalidator.WithIssuer("iss"), jwtvalidator.WithAudience("aud"),
		jwtvalidator.WithRevocation(revocation)}, opts...)...)
}

func mint(k Kind, c otelbearer.Claims) (string, error) {
	mc := jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": c.Subject, "jti": c.TokenID,
		"client_id": c.ClientID, "exp": c.ExpiresAt.Unix()}
	if c.Scopes != nil {
		mc["scope"] = strings.Join(c.Scopes, " ")
	}
	key := testKey
	switch k {
	case NotYetValid:
		mc["nbf"] = time.Now().Add(time.Hour).Unix()
	case WrongKey:
		key = []byte("another-key")
	case WrongIssuer:
		mc["iss"] = "other"
	case WrongAudience:
		mc["aud"] = "other"
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, mc).SignedString(key)
}

// wrap turns a validator into a broken one.
func wrap(f func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error)) func() otelbearer.Validator {
	return func() otelbearer.Validator {
		next := good()
		return otelbearer.ValidatorFunc(func(ctx context.Context, tok string) (otelbearer.Claims, error) {
			return f(ctx, tok, next)
		})
	}
}

// canonical respells each segment as base64url encodes its bytes, as a
// lenient decoder would read it.
func canonical(tok string) string {
	segs := strings.Split(tok, ".")
	for i, s := range segs {
		s = strings.NewReplacer("=", "", "\n", "", " ", "", "+", "-", "/", "_").Replace(s)
		if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
			s = base64.RawURLEncoding.EncodeToString(b)
		}
		segs[i] = s
	}
	return strings.Join(segs, ".")
}

// refusals are the checks a validator that never refuses correctly fails.
var refusals = []string{"garbage/empty", "garbage/word", "garbage/three-dots", "garbage/three-segments",
	"garbage/header-only", "garbage/json", "garbage/binary", "garbage/unicode", "garbage/long",
	"garbage/bearer-prefix", "expired", "not-yet-valid", "wrong-key", "wrong-issuer", "wrong-audience",
	"revoked", "revocation-unavailable", "jws/tampered/signature", "jws/tampered/payload",
	"jws/alg-none/empty-signature", "jws/alg-none/capitalised", "jws/alg-none/signature-kept",
	"jws/non-canonical/padding-signature", "jws/non-canonical/line-break-payload",
	"jws/non-canonical/line-break-signature", "jws/non-canonical/space-payload",
	"jws/non-canonical/space-signature", "jws/non-canonical/unused-bits-signature", "concurrent"}

// ignored are variants that apply or not depending on the token's
// length or on whether it holds '-' or '_': the tests compare the rest.
var ignored = []string{"jws/non-canonical/padding-payload", "jws/non-canonical/unused-bits-payload",
	"jws/non-canonical/standard-alphabet-payload", "jws/non-canonical/standard-alphabet-signature"}

// TestBrokenValidators: each way of breaking the contract fails the
// checks that name it, and a validator that keeps it fails none.
func TestBrokenValidators(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name string
		v    func() otelbearer.Validator
		opts []Option
		want []string // failed checks, but for the ignored ones
	}{
		{"keeps the contract", func() otelbearer.Validator { return good() }, nil, nil},
		{"accepts everything", wrap(func(context.Context, string, otelbearer.Validator) (otelbearer.Claims, error) {
			return otelbearer.Claims{Subject: "anyone"}, nil
		}), nil, append([]string{"valid", "valid/again", "valid/no-scopes", "cancelled-context"}, refusals...)},
		{"errors without sentinels", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			c, err := next.Validate(ctx, tok)
			if err != nil {
				return c, errors.New("refused")
			}
			return c, nil
		}), nil, refusals},
		{"claims with the error", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			c, err := next.Validate(ctx, tok)
			if err != nil {
				c.Subject = "someone"
			}
			return c, err
		}), nil, refusals},
		{"expired reported as invalid", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			c, err := next.Validate(ctx, tok)
			if errors.Is(err, otelbearer.ErrTokenExpired) {
				err = otelbearer.ErrTokenInvalid
			}
			return c, err
		}), nil, []string{"expired", "concurrent"}},
		{"no revocation check", func() otelbearer.Validator { return good(jwtvalidator.WithRevocation(nil)) }, nil,
			[]string{"revoked", "revocation-unavailable"}},
		{"lenient spelling", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			return next.Validate(ctx, canonical(tok))
		}), nil, []string{"jws/non-canonical/padding-signature", "jws/non-canonical/line-break-payload",
			"jws/non-canonical/line-break-signature", "jws/non-canonical/space-payload",
			"jws/non-canonical/space-signature", "jws/non-canonical/unused-bits-signature"}},
		{"lenient signature decoding", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			// as a library that verifies the signing input as sent but
			// decodes the signature leniently
			if i := strings.LastIndexByte(tok, '.'); i >= 0 {
				tok = tok[:i+1] + canonical(tok[i+1:])
			}
			return next.Validate(ctx, tok)
		}), nil, []string{"jws/non-canonical/padding-signature", "jws/non-canonical/line-break-signature",
			"jws/non-canonical/space-signature", "jws/non-canonical/unused-bits-signature"}},
		{"wrong claims", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			c, err := next.Validate(ctx, tok)
			if err == nil && len(c.Scopes) > 1 {
				c.Scopes = c.Scopes[:1]
			}
			return c, err
		}), nil, []string{"valid", "valid/again", "cancelled-context", "concurrent"}},
		{"cancellation as a verdict", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			if ctx.Err() != nil {
				return otelbearer.Claims{}, fmt.Errorf("%w: %w", otelbearer.ErrTokenInvalid, ctx.Err())
			}
			return next.Validate(ctx, tok)
		}), nil, []string{"cancelled-context"}},
		{"panics", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			if strings.HasPrefix(tok, "garbage") {
				panic("unexpected input")
			}
			return next.Validate(ctx, tok)
		}), nil, []string{"garbage/word", "concurrent"}},
		{"hangs when cancelled", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			if ctx.Err() != nil {
				<-release // a call that ignores its context
			}
			return next.Validate(ctx, tok)
		}), []Option{WithTimeout(50 * time.Millisecond)}, []string{"cancelled-context"}},
		{"error text holds the token", wrap(func(ctx context.Context, tok string, next otelbearer.Validator) (otelbearer.Claims, error) {
			c, err := next.Validate(ctx, tok)
			if err != nil {
				err = fmt.Errorf("%w (token %s)", err, tok)
			}
			return c, err
		}), nil, slices.DeleteFunc(slices.Clone(refusals), func(s string) bool {
			// too short to count as the token
			return slices.Contains([]string{"garbage/empty", "garbage/word", "garbage/three-dots", "garbage/three-segments", "garbage/binary"}, s)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range collect(tt.v, mint, tt.opts...) {
				if !slices.Contains(ignored, f.name) && !slices.Contains(got, f.name) {
					got = append(got, f.name)
				}
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

// TestMintErrors: a MintFunc error fails the check; ErrNotSupported
// skips it, but for the two kinds every MintFunc must produce.
func TestMintErrors(t *testing.T) {
	partial := func(k Kind, c otelbearer.Claims) (string, error) {
		switch k {
		case WrongIssuer, WrongAudience, Revoked, Unavailable:
			return "", ErrNotSupported
		case NotYetValid:
			return "", errors.New("clock broken")
		}
		return mint(k, c)
	}
	fs := collect(func() otelbearer.Validator { return good() }, partial)
	if assert.Len(t, fs, 1) {
		assert.Equal(t, "not-yet-valid", fs[0].name)
		assert.Contains(t, fs[0].msg, "MintFunc(NotYetValid): clock broken")
	}
	err := Check(func() otelbearer.Validator { return good() }, partial)
	assert.EqualError(t, err, "not-yet-valid: MintFunc(NotYetValid): clock broken")

	noExpired := func(k Kind, c otelbearer.Claims) (string, error) {
		if k == Expired {
			return "", ErrNotSupported
		}
		return mint(k, c)
	}
	var names []string
	for _, f := range collect(func() otelbearer.Validator { return good() }, noExpired) {
		names = append(names, f.name)
	}
	assert.Equal(t, []string{"expired", "concurrent"}, names, "Expired is required, not skipped")
}

func TestRun(t *testing.T) {
	Run(t, func(*testing.T) otelbearer.Validator { return good() }, mint, WithIssuer("iss"))
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "WrongAudience", WrongAudience.String())
	assert.Equal(t, "Kind(42)", Kind(42).String())
}
