// Package jwtvalidator is an [otelbearer.Validator] for JSON Web Tokens,
// built on github.com/golang-jwt/jwt/v5.
//
// # What it checks
//
//   - The signature, with the key a [jwt.Keyfunc] returns, and only with the
//     algorithms allowed by [WithAlgorithms] (default: the asymmetric
//     RS*, PS*, ES* and EdDSA algorithms; [NewHMAC] allows HS256, HS384 and
//     HS512). "none" is never accepted, whatever the options say.
//   - exp (required unless [WithoutExpirationRequired]), nbf, and, when set,
//     the issuer ([WithIssuer]) and audience ([WithAudience]), with
//     [WithLeeway] of clock skew.
//   - Optionally a revocation list by jti ([WithRevocation]).
//   - The token's spelling: a JWS in compact serialization whose three
//     segments are unpadded base64url exactly as an encoder writes them.
//     '=' padding, line breaks or spaces inside a segment and non-zero
//     unused bits in a segment's last character (which lenient decoders
//     ignore) make it invalid, so a signed token has one accepted
//     spelling, and a stolen token cannot be replayed under another.
//
// # Errors
//
// Validate wraps one of otelbearer's sentinel errors, so the middleware
// records the right auth.event:
//
//   - an expired token: [otelbearer.ErrTokenExpired] (token_expired);
//   - a revoked jti: [otelbearer.ErrTokenRevoked] (token_revoked);
//   - a revocation check that failed: [otelbearer.ErrValidatorUnavailable]
//     (token_unverified, 503: fail closed);
//   - anything else (bad signature, wrong algorithm, wrong issuer or
//     audience, a non-canonical spelling, garbage):
//     [otelbearer.ErrTokenInvalid] (token_invalid).
//
// Error texts never contain the token.
//
// # Claims
//
// sub → Subject; scope (space-separated string) or scp (array or string)
// → Scopes; jti → TokenID; client_id or azp → ClientID; iss → Issuer;
// exp → ExpiresAt.
package jwtvalidator
