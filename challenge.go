package otelbearer

import (
	"net/http"
	"strings"
)

// RFC 6750 §3.1 error codes.
const (
	errInvalidRequest    = "invalid_request"
	errInvalidToken      = "invalid_token"
	errInsufficientScope = "insufficient_scope"
)

// reject answers a request whose authentication failed, per RFC 6750, and
// reports whether it did. Public routes let a missing token through.
func reject(w http.ResponseWriter, st *requestState, realm string) bool {
	v := st.view.Load()
	switch v.event {
	case AuthTokenValid:
		return false
	case AuthTokenMissing:
		if st.optional {
			return false
		}
		challenge(w, http.StatusUnauthorized, realm, "", "", "")
	case AuthTokenMalformed:
		challenge(w, http.StatusBadRequest, realm, errInvalidRequest, st.why, "")
	case AuthTokenInvalid:
		challenge(w, http.StatusUnauthorized, realm, errInvalidToken, "the access token is invalid", "")
	case AuthTokenExpired:
		challenge(w, http.StatusUnauthorized, realm, errInvalidToken, "the access token expired", "")
	case AuthTokenRevoked:
		challenge(w, http.StatusUnauthorized, realm, errInvalidToken, "the access token was revoked", "")
	default: // token_unverified: no verdict (unavailable, timeout, panic); fail closed
		// RFC 6750 has no error code for this: the challenge names the
		// scheme and realm only.
		w.Header().Set("WWW-Authenticate", challengeHeader(realm, "", "", ""))
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token could not be validated")
	}
	return true
}

// challenge writes an RFC 6750 error response with WWW-Authenticate.
// desc and scope are fixed strings of this package, never request bytes.
func challenge(w http.ResponseWriter, status int, realm, code, desc, scope string) {
	w.Header().Set("WWW-Authenticate", challengeHeader(realm, code, desc, scope))
	if code == "" {
		code = "unauthorized"
	}
	writeError(w, status, code, desc)
}

// challengeHeader builds a Bearer WWW-Authenticate value; empty
// parameters are left out.
func challengeHeader(realm, code, desc, scope string) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	param := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
		b.WriteString(`"`)
		sep = ", "
	}
	param("realm", realm)
	param("error", code)
	param("error_description", desc)
	param("scope", scope)
	return b.String()
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `","error_description":"` + desc + `"}` + "\n"))
}

// RequireScopes wraps next so that a request whose validated claims lack a
// scope is answered 403 insufficient_scope and recorded as a [Deny]; one
// without validated claims is answered 401.
func RequireScopes(next http.Handler, scopes ...string) http.Handler {
	want := strings.Join(scopes, " ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		realm := ""
		if st != nil {
			realm = st.cfg.realm
		}
		claims, ok := ClaimsFromContext(r.Context())
		if !ok {
			challenge(w, http.StatusUnauthorized, realm, "", "", "")
			return
		}
		for _, s := range scopes {
			if !claims.HasScope(s) {
				Deny(r.Context(), errInsufficientScope, st.path) // cleaned and bounded
				challenge(w, http.StatusForbidden, realm, errInsufficientScope,
					"the access token lacks a required scope", want)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
