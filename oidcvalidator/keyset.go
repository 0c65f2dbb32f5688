package oidcvalidator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

const (
	// DefaultJWKSRefreshInterval is the shortest time between two JWKS
	// fetches that tokens naming a key not held trigger, unless
	// [WithJWKSRefreshInterval] sets another.
	DefaultJWKSRefreshInterval = time.Minute
	// MinJWKSRefreshInterval is the floor of [WithJWKSRefreshInterval], and
	// the time after a failed fetch before the next may start.
	MinJWKSRefreshInterval = 10 * time.Second

	// jwksFetchTimeout bounds one fetch, whatever the HTTP client's own
	// timeout: a fetch that hangs would otherwise block every later one.
	jwksFetchTimeout = 30 * time.Second
	// maxJWKSBytes bounds the JWKS document read.
	maxJWKSBytes = 1 << 20
)

// jwksKeySet is the [oidc.KeySet] of [New] and [NewFromJWKS]: the keys
// of a jwks_uri, cached by kid. Unlike [oidc.RemoteKeySet], which fetches
// the JWKS again after every signature it cannot verify, it fetches only
// for a token whose kid it does not hold (or that has no kid and no held
// key verifies), at most once per refresh interval, one fetch shared by
// all callers. A token naming a held kid is verified with that key alone:
// a bad signature is invalid at once and costs no fetch, even while the
// jwks_uri is down.
type jwksKeySet struct {
	url      string
	client   *http.Client
	now      func() time.Time
	interval time.Duration

	mu       sync.Mutex
	byKID    map[string][]jose.JSONWebKey
	all      []jose.JSONWebKey
	gen      uint64     // completed fetches; 0: none yet
	started  time.Time  // start of the last fetch
	lastErr  error      // outcome of the last completed fetch
	inflight *fetchCall // the fetch under way, if any
}

var _ oidc.KeySet = (*jwksKeySet)(nil)

// fetchCall is one fetch that several callers may wait for.
type fetchCall struct {
	done chan struct{}
	err  error // set before done is closed
}

// fetchError is a failure to get the keys: not a verdict on the token.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return "oidcvalidator: fetching JWKS: " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

var (
	errNoKey        = errors.New("oidcvalidator: no key of the JWKS verifies the signature")
	errBadSignature = errors.New("oidcvalidator: signature does not verify with the key named by kid")
)

func newJWKSKeySet(url string, c config) *jwksKeySet {
	ks := &jwksKeySet{url: url, client: c.client, now: c.now, interval: c.jwksInterval}
	if ks.client == nil {
		ks.client = http.DefaultClient
	}
	if ks.now == nil {
		ks.now = time.Now
	}
	switch {
	case ks.interval == 0:
		ks.interval = DefaultJWKSRefreshInterval
	case ks.interval < MinJWKSRefreshInterval:
		ks.interval = MinJWKSRefreshInterval
	}
	return ks
}

// VerifySignature verifies jwt with a key of the JWKS and returns its
// payload. An error wrapping a *fetchError or the context's error means
// the keys could not be had; any other error means the token is invalid.
func (k *jwksKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	// The verifier has already checked the algorithm against its list.
	jws, err := jose.ParseSigned(jwt, allAlgs)
	if err != nil {
		return nil, fmt.Errorf("oidcvalidator: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("oidcvalidator: not exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID

	keys, gen := k.keysFor(kid)
	if len(keys) > 0 {
		if payload, ok := verifyWith(jws, keys); ok {
			return payload, nil
		}
		if kid != "" {
			return nil, errBadSignature
		}
	}
	// Look again even when the refresh failed: a fetch that completed
	// meanwhile may have brought the key.
	refreshErr := k.refresh(ctx, gen)
	keys, _ = k.keysFor(kid)
	if payload, ok := verifyWith(jws, keys); ok {
		return payload, nil
	}
	if refreshErr != nil {
		return nil, refreshErr
	}
	return nil, errNoKey
}

// keysFor returns the held keys for kid (all of them for an empty kid)
// and the fetch generation they come from.
func (k *jwksKeySet) keysFor(kid string) ([]jose.JSONWebKey, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if kid == "" {
		return k.all, k.gen
	}
	return k.byKID[kid], k.gen
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refresh makes the held keys newer than generation gen if it may: it
// joins the fetch under way, or starts one when the last started at
// least the refresh interval ago (MinJWKSRefreshInterval after a
// failure). It returns nil when the keys may have changed or no fetch is
// due after a successful one, and an error when the keys could not be
// had: the last fetch failed or ctx ended while waiting.
func (k *jwksKeySet) refresh(ctx context.Context, gen uint64) error {
	k.mu.Lock()
	call := k.inflight
	switch {
	case call != nil: // join it
	case k.gen != gen: // a fetch completed since the caller looked
		err := k.lastErr
		k.mu.Unlock()
		return wrapFetchErr(err)
	case !k.due():
		err := k.lastErr
		k.mu.Unlock()
		return wrapFetchErr(err)
	default:
		call = &fetchCall{done: make(chan struct{})}
		k.inflight, k.started = call, k.now()
		// The fetch outlives the caller's cancellation (others may wait
		// for it) but keeps its values, so its client span joins the
		// trace of the request that started it.
		go k.fetch(context.WithoutCancel(ctx), call)
	}
	k.mu.Unlock()
	select {
	case <-call.done:
		return wrapFetchErr(call.err)
	case <-ctx.Done():
		return fmt.Errorf("oidcvalidator: waiting for the JWKS: %w", ctx.Err())
	}
}

// due reports whether a new fetch may start. k.mu is held.
func (k *jwksKeySet) due() bool {
	if k.gen == 0 {
		return true
	}
	wait := k.interval
	if k.lastErr != nil {
		wait = MinJWKSRefreshInterval
	}
	elapsed := k.now().Sub(k.started)
	if elapsed < 0 { // the clock went back: count from now
		k.started = k.now()
		return false
	}
	return elapsed >= wait
}

func wrapFetchErr(err error) error {
	if err == nil {
		return nil
	}
	return &fetchError{err}
}

// fetch downloads the JWKS, installs its keys on success and completes
// call.
func (k *jwksKeySet) fetch(ctx context.Context, call *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	keys, err := k.download(ctx)
	k.mu.Lock()
	k.gen++
	k.lastErr = err
	if err == nil {
		k.all = keys
		k.byKID = make(map[string][]jose.JSONWebKey, len(keys))
		for _, key := range keys {
			if key.KeyID != "" {
				k.byKID[key.KeyID] = append(k.byKID[key.KeyID], key)
			}
		}
	}
	k.inflight = nil
	call.err = err
	k.mu.Unlock()
	close(call.done)
}

func (k *jwksKeySet) download(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("%s answered %s", k.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS decodes a JWK Set, skipping keys for algorithms go-oidc does
// not verify and keys of types go-jose does not know (RFC 7517 §5), as
// go-oidc does.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(raw.Keys))
	for _, r := range raw.Keys {
		var meta struct {
			Alg string `json:"alg"`
		}
		if err := json.Unmarshal(r, &meta); err != nil {
			return nil, fmt.Errorf("decoding JWKS: %w", err)
		}
		if meta.Alg != "" && !isSupportedAlg(meta.Alg) {
			continue
		}
		var key jose.JSONWebKey
		if err := json.Unmarshal(r, &key); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				continue
			}
			return nil, fmt.Errorf("decoding JWKS: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// allAlgs are supportedAlgs as go-jose names them.
var allAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(supportedAlgs))
	for i, a := range supportedAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

func isSupportedAlg(alg string) bool {
	for _, a := range supportedAlgs {
		if a == alg {
			return true
		}
	}
	return false
}
