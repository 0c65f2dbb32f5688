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
// [NewFromKeySet] skips discovery and takes an [oidc.NewRemoteKeySet] for
// a known jwks_uri or an [oidc.StaticKeySet].
//
// # What it checks
//
//   - The signature, with a key of the provider's JWKS (fetched on the
//     first token and again whenever a token names a key not yet held),
//     and only with the algorithms of [WithSupportedAlgs] (default: those
//     the provider advertises; RS256 for [NewFromKeySet]). "none" is never
//     accepted.
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
//     issuer or audience, garbage): [otelbearer.ErrTokenInvalid]
//     (token_invalid).
//
// Keys already fetched stay in use while the jwks_uri is down, so tokens
// signed with them still validate; a token whose signature they do not
// verify triggers a fetch and, if that fails, ErrValidatorUnavailable.
// Error texts never contain the token.
//
// # Instrumenting JWKS fetches
//
// [WithHTTPClient] sets the client for discovery and JWKS fetches; give it
// an otelhttp (or [otelbearer.NewTransport]) transport to trace them.
// Discovery runs with the context given to [New], so its client span joins
// whatever trace that context carries. JWKS fetches do not join the
// request's trace: go-oidc v3 fetches keys on a background goroutine with
// the key set's own context (one fetch shared by all requests waiting for
// it), so each fetch is a root span of a trace of its own, while the
// request's server span shows the time Validate waited for it.
//
// # Claims
//
// sub → Subject; scope (space-separated string) or scp (array or string)
// → Scopes; jti → TokenID; client_id or azp → ClientID; iss → Issuer;
// exp → ExpiresAt. A claim of the wrong type makes the token invalid.
package oidcvalidator
