// Package oidcvalidator is an [otelbearer.Validator] for JWTs issued by
// an OpenID Connect provider and verified with the keys of its JWKS,
// built on github.com/coreos/go-oidc/v3.
//
// # Usage
//
//	v, err := oidcvalidator.New(ctx, "https://issuer.example",
//		oidcvalidator.WithAudience("my-api"),
//		oidcvalidator.WithHTTPClient(&http.Client{
//			Transport: otelhttp.NewTransport(nil), Timeout: 5 * time.Second,
//		}),
//	)
//	if err != nil {
//		return err // discovery failed
//	}
//	h := otelbearer.NewHandler(mux, "api", otelbearer.WithValidator(v))
//
// [New] discovers the provider (/.well-known/openid-configuration) once;
// [NewFromJWKS] skips discovery for a known jwks_uri; [NewFromKeySet]
// takes an [oidc.StaticKeySet] or a key set of the caller's own.
//
// # What it checks
//
//   - The signature, with a key of the provider's JWKS (see "Keys"
//     below), and only with the algorithms of [WithAlgorithms]
//     (default: those the provider advertises; RS256 for [NewFromJWKS]
//     and [NewFromKeySet]). "none" is never accepted.
//   - The token's spelling: a JWS in compact serialization whose three
//     segments are unpadded base64url exactly as an encoder writes them.
//     go-jose skips whitespace and ignores the unused bits of a segment's
//     last character, and verifies the signature over the re-encoded
//     header and payload; '=' padding, whitespace and non-zero unused
//     bits are therefore refused before it runs, so a signed token has
//     one accepted spelling and a stolen token cannot be replayed under
//     another.
//   - iss equal to the issuer URL; exp (a token without exp counts as
//     expired); nbf, with go-oidc's fixed 5 minutes of clock skew.
//   - The audience, only with [WithAudience]. Without it any token the
//     issuer signed, for whichever client, is accepted: set it.
//   - Optionally a revocation list by jti ([WithRevocation]).
//
// # Errors
//
// Validate wraps one of otelbearer's sentinel errors, so the middleware
// records the right auth.event:
//
//   - an expired token: [otelbearer.ErrTokenExpired] (token_expired);
//   - a revoked jti: [otelbearer.ErrTokenRevoked] (token_revoked);
//   - keys that could not be fetched (the jwks_uri unreachable, answering
//     other than 200 or with an undecodable body, or the request's context
//     ending while waiting for them) or a revocation check that failed:
//     [otelbearer.ErrValidatorUnavailable] (token_unverified, 503: fail
//     closed);
//   - anything else (bad signature, unknown key, wrong algorithm, wrong
//     issuer or audience, a non-canonical spelling, garbage):
//     [otelbearer.ErrTokenInvalid] (token_invalid).
//
// Error texts never contain the token.
//
// # Keys
//
// [New] and [NewFromJWKS] hold the keys of the JWKS by kid. The JWKS is
// fetched when the first token arrives, and then only for a token whose
// kid is not held (or that has no kid and no held key verifies), at most
// once per [WithJWKSRefreshInterval] (default one minute, at least 10 s),
// one fetch shared by all requests waiting for it:
//
//   - a token naming a held kid is verified with that key alone: a bad
//     signature is token_invalid at once, costs no fetch, and stays
//     token_invalid while the jwks_uri is down, so forged tokens can
//     neither make the validator hammer the provider (and be rate-limited
//     out of the fetch a rotated key needs) nor pass for an outage;
//   - held keys stay in use while the jwks_uri is down;
//   - a token naming a kid not held, between fetches, is token_invalid if
//     the last fetch succeeded and token_unverified (503) if it failed;
//     a failed fetch is retried no sooner than 10 s later.
//
// A new key is found by the first fetch after the provider publishes it:
// tokens signed with a key published after the last fetch, within the
// refresh interval after it, are token_invalid until the next (providers
// that publish keys ahead of their use avoid this). A provider that puts new key
// material under a kid already held is seen only after the next fetch,
// which a held kid never triggers. [NewFromKeySet] with an
// [oidc.RemoteKeySet] keeps go-oidc's behaviour instead: a fetch after
// every signature the held keys do not verify.
//
// # Instrumenting JWKS fetches
//
// [WithHTTPClient] sets the client for discovery and JWKS fetches; give it
// an otelhttp (or [otelbearer.NewTransport]) transport to trace them.
// Discovery runs with the context given to [New], so its client span joins
// whatever trace that context carries. A JWKS fetch runs with the values
// (not the cancellation) of the context of the request that started it,
// so its client span joins that request's trace; requests that only wait
// for it show the wait in their own server span. A fetch is bounded to
// 30 s and its document to 1 MiB.
//
// # Claims
//
// sub → Subject; scope (space-separated string) or scp (array or string)
// → Scopes; jti → TokenID; client_id or azp → ClientID; iss → Issuer;
// exp → ExpiresAt. A claim of the wrong type makes the token invalid.
package oidcvalidator
