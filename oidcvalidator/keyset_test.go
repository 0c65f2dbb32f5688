package oidcvalidator_test

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/oidcvalidator"
)

// refresh is more than the default JWKS refresh interval.
const refresh = 2 * time.Minute

// validated returns a validator on p's discovery with the clock c that
// has already validated one genuine token (and so fetched the JWKS once).
func validated(t *testing.T, p *provider, c *clock) *oidcvalidator.Validator {
	t.Helper()
	v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithNow(c.Now))
	require.NoError(t, err)
	_, err = v.Validate(t.Context(), sign(t, providerKey, kid, claims(p.issuer(), time.Hour)))
	require.NoError(t, err)
	require.Equal(t, int32(1), p.jwksHits.Load())
	return v
}

// Forged tokens naming a kid the validator holds are invalid at once:
// they cost no JWKS fetch, and stay invalid (not unverified) while the
// jwks_uri is down.
func TestHeldKidForgeriesCostNoFetch(t *testing.T) {
	for _, down := range []bool{false, true} {
		t.Run(fmt.Sprintf("jwks down %v", down), func(t *testing.T) {
			p := newProvider(t)
			c := newClock()
			v := validated(t, p, c)
			if down {
				p.jwksStatus.Store(http.StatusServiceUnavailable)
			}
			for i := range 30 {
				forged := sign(t, otherKey, kid, with(claims(p.issuer(), time.Hour), "jti", fmt.Sprint("f", i)))
				got, err := v.Validate(t.Context(), forged)
				checkErr(t, forged, got, err, otelbearer.ErrTokenInvalid)
				c.Advance(time.Minute) // even with the interval over
			}
			t.Logf("JWKS fetches after 30 forged tokens with a held kid: %d", p.jwksHits.Load()-1)
			assert.Equal(t, int32(1), p.jwksHits.Load(), "JWKS fetches")
			_, err := v.Validate(t.Context(), sign(t, providerKey, kid, claims(p.issuer(), 2*time.Hour)))
			require.NoError(t, err, "genuine token after the spray")
		})
	}
}

// A provider that rate-limits its JWKS endpoint after the first fetch
// still serves the one fetch a genuine token signed with a newly rotated
// key needs: the forged tokens before it spent none.
func TestRotatedKeyAfterSprayWithRateLimitedProvider(t *testing.T) {
	p := newProvider(t)
	p.jwksBudget.Store(2) // the first fetch and one more, then 429
	c := newClock()
	v := validated(t, p, c)
	unverified := 0
	for i := range 30 {
		forged := sign(t, otherKey, kid, with(claims(p.issuer(), time.Hour), "jti", fmt.Sprint("f", i)))
		got, err := v.Validate(t.Context(), forged)
		if errors.Is(err, otelbearer.ErrValidatorUnavailable) {
			unverified++
			continue
		}
		checkErr(t, forged, got, err, otelbearer.ErrTokenInvalid)
	}
	t.Logf("JWKS fetches after 30 forged tokens: %d; recorded as unverified: %d", p.jwksHits.Load()-1, unverified)
	assert.Zero(t, unverified, "forged tokens recorded as a validator outage")

	// The provider rotates in k2 (publishing it beside k1).
	body := string(jwksOf(map[string]*rsa.PublicKey{kid: &providerKey.PublicKey, "k2": &otherKey.PublicKey}))
	p.jwksBody.Store(&body)
	c.Advance(refresh)
	fresh := sign(t, otherKey, "k2", claims(p.issuer(), time.Hour))
	got, err := v.Validate(t.Context(), fresh)
	t.Logf("JWKS fetches in all: %d; genuine k2 token: %v", p.jwksHits.Load(), err)
	require.NoError(t, err, "genuine token signed with the rotated key")
	assert.Equal(t, "alice", got.Subject)
	assert.Equal(t, int32(2), p.jwksHits.Load(), "one refetch for the new kid")
}

// Tokens naming kids the validator does not hold (or no kid) cost at
// most one JWKS fetch per refresh interval, whatever their number.
func TestUnknownKidSprayOneFetchPerInterval(t *testing.T) {
	noKid := func(t *testing.T, iss string, i int) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, with(claims(iss, time.Hour), "jti", fmt.Sprint("n", i)))
		s, err := tok.SignedString(otherKey)
		require.NoError(t, err)
		return s
	}
	unknownKid := func(t *testing.T, iss string, i int) string {
		return sign(t, otherKey, fmt.Sprint("kid-", i), claims(iss, time.Hour))
	}
	for _, tt := range []struct {
		name  string
		token func(t *testing.T, iss string, i int) string
	}{{"unknown kid", unknownKid}, {"no kid", noKid}} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			c := newClock()
			v := validated(t, p, c)
			rounds := []struct {
				advance time.Duration
				fetches int32
			}{
				{0, 0},                     // just fetched
				{30 * time.Second, 0},      // within the interval
				{31 * time.Second, 1},      // a minute after the first fetch
				{59 * time.Second, 0},      // within the next interval
				{refresh, 1},               // long after
				{10 * time.Millisecond, 0}, // just after
			}
			for i, r := range rounds {
				c.Advance(r.advance)
				before := p.jwksHits.Load()
				for j := range 30 {
					tok := tt.token(t, p.issuer(), i*100+j)
					got, err := v.Validate(t.Context(), tok)
					checkErr(t, tok, got, err, otelbearer.ErrTokenInvalid)
				}
				t.Logf("round %d (+%v): %d JWKS fetches for 30 tokens", i, r.advance, p.jwksHits.Load()-before)
				assert.Equal(t, r.fetches, p.jwksHits.Load()-before, "round %d (+%v)", i, r.advance)
			}
		})
	}
}

// Concurrent tokens naming a kid not held share one fetch.
func TestConcurrentUnknownKidsShareOneFetch(t *testing.T) {
	p := newProvider(t)
	c := newClock()
	v := validated(t, p, c)
	release := make(chan struct{})
	p.block.Store(&release)
	c.Advance(refresh)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		tok := sign(t, otherKey, fmt.Sprint("kid-", i), claims(p.issuer(), time.Hour))
		wg.Go(func() { _, errs[i] = v.Validate(t.Context(), tok) })
	}
	for p.jwksHits.Load() < 2 {
		time.Sleep(time.Millisecond) // until the shared fetch reached the provider
	}
	close(release)
	wg.Wait()
	for _, err := range errs {
		assert.ErrorIs(t, err, otelbearer.ErrTokenInvalid)
	}
	assert.Equal(t, int32(2), p.jwksHits.Load())
}

// WithJWKSRefreshInterval sets the interval between fetches for kids not
// held, with a floor of 10 s.
func TestJWKSRefreshInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		steps    []time.Duration // clock advance before each unknown-kid token
		fetches  []int32         // JWKS fetches each token makes
	}{
		{"default one minute", 0, []time.Duration{59 * time.Second, time.Second}, []int32{0, 1}},
		{"five minutes", 5 * time.Minute, []time.Duration{time.Minute, 3 * time.Minute, time.Minute}, []int32{0, 0, 1}},
		{"below the floor", time.Second, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}, []int32{0, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			c := newClock()
			v, err := oidcvalidator.New(t.Context(), p.issuer(), oidcvalidator.WithNow(c.Now),
				oidcvalidator.WithJWKSRefreshInterval(tt.interval))
			require.NoError(t, err)
			_, err = v.Validate(t.Context(), sign(t, providerKey, kid, claims(p.issuer(), time.Hour)))
			require.NoError(t, err)
			for i, d := range tt.steps {
				c.Advance(d)
				hits := p.jwksHits.Load()
				tok := sign(t, otherKey, fmt.Sprint("kid-", i), claims(p.issuer(), time.Hour))
				got, err := v.Validate(t.Context(), tok)
				checkErr(t, tok, got, err, otelbearer.ErrTokenInvalid)
				assert.Equal(t, tt.fetches[i], p.jwksHits.Load()-hits, "step %d", i)
			}
		})
	}
}

// The JWKS document: keys the verifier cannot use are skipped (the others
// still work); a document that is not a JWK Set, or too large, is a
// failed fetch.
func TestJWKSDocument(t *testing.T) {
	good := string(jwksJSON(&providerKey.PublicKey, kid))
	withExtra := `{"keys":[` +
		`{"kty":"EC","crv":"secp256k1","alg":"ES256K","kid":"x1","x":"AA","y":"AA"},` +
		`{"kty":"OKP","crv":"Ed448","kid":"x2","x":"AA"},` +
		good[len(`{"keys":[`):]
	tests := []struct {
		name string
		body string
		want error // nil: valid
	}{
		{"plain", good, nil},
		{"unusable keys skipped", withExtra, nil},
		{"no keys", `{"keys":[]}`, otelbearer.ErrTokenInvalid},
		{"not JSON", "<html>", otelbearer.ErrValidatorUnavailable},
		{"malformed key", `{"keys":[{"kty":"RSA","kid":"k1","n":1}]}`, otelbearer.ErrValidatorUnavailable},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("a", 1<<20) + `"}`, otelbearer.ErrValidatorUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t)
			p.jwksBody.Store(&tt.body)
			v := oidcvalidator.NewFromJWKS(p.issuer(), p.issuer()+"/keys")
			tok := sign(t, providerKey, kid, claims(p.issuer(), time.Hour))
			got, err := v.Validate(t.Context(), tok)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			checkErr(t, tok, got, err, tt.want)
		})
	}
}

// traceTransport records the trace ID of each request's context.
type traceTransport struct {
	mu  sync.Mutex
	ids []trace.TraceID
}

func (tt *traceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tt.mu.Lock()
	tt.ids = append(tt.ids, trace.SpanContextFromContext(r.Context()).TraceID())
	tt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// A JWKS fetch runs with the values of the context of the request that
// started it, so an instrumented client's span joins that trace; the
// fetch still completes when that request is canceled.
func TestJWKSFetchJoinsTrace(t *testing.T) {
	p := newProvider(t)
	tt := &traceTransport{}
	v := oidcvalidator.NewFromJWKS(p.issuer(), p.issuer()+"/keys",
		oidcvalidator.WithHTTPClient(&http.Client{Transport: tt}))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(t.Context(), sc)
	_, err := v.Validate(ctx, sign(t, providerKey, kid, claims(p.issuer(), time.Hour)))
	require.NoError(t, err)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	assert.Equal(t, []trace.TraceID{sc.TraceID()}, tt.ids)
}
