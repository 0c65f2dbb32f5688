package otelbearer

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// credential is what parsing a request concluded, before any validation.
type credential struct {
	token  string      // the bearer token when well-formed, else ""
	event  AuthEvent   // token_missing, token_malformed or token_unverified
	scheme AuthScheme  // of the Authorization header, or ""
	source TokenSource // of the credential, or ""
	why    string      // for a malformed request: a fixed, safe description
}

// Fixed descriptions of malformed requests. They go into the
// WWW-Authenticate error_description, so they never include request bytes.
const (
	whyDuplicateHeader = "duplicate Authorization headers"
	whyTooLarge        = "Authorization header too large"
	whyEmptyHeader     = "empty Authorization header"
	whyBadScheme       = "malformed authentication scheme"
	whyEmptyToken      = "no token after the scheme"
	whyBadToken        = "token is not a b64token"
	whyManyMethods     = "more than one method used to send the token"
	whyManyParams      = "more than one access_token parameter"
	whyEmptyParam      = "empty access_token parameter"
	whyFormTooLarge    = "form body over 64 KiB, not searched for access_token"
	whyFormUnreadable  = "form body could not be read"
)

// defaultMaxHeaderBytes is the default cap on the Authorization header; a
// longer header is token_malformed and is never hashed.
const defaultMaxHeaderBytes = 8 << 10

// maxFormBytes caps how much of a form-encoded body is buffered to look for
// an access_token parameter; a larger body is token_malformed (see
// [WithFormTokens]).
const maxFormBytes = 64 << 10

// parseAuthorization parses one Authorization header value per RFC 9110
// §11.6.2 and RFC 6750 §2.1. It never allocates.
func parseAuthorization(v string, maxBytes int) credential {
	if len(v) > maxBytes {
		c := credential{event: AuthTokenMalformed, why: whyTooLarge}
		if i := strings.IndexByte(v[:min(len(v), 32)], ' '); i > 0 && isToken(v[:i]) {
			c.scheme = schemeName(v[:i])
		}
		return c
	}
	v = strings.Trim(v, " \t")
	if v == "" {
		return credential{event: AuthTokenMalformed, why: whyEmptyHeader}
	}
	scheme, rest := v, ""
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		scheme, rest = v[:i], v[i:]
	}
	if !isToken(scheme) {
		return credential{event: AuthTokenMalformed, scheme: AuthSchemeOther, why: whyBadScheme}
	}
	name := schemeName(scheme)
	if name != AuthSchemeBearer {
		// Another scheme: its credential is dropped, and the request has
		// no bearer token.
		return credential{event: AuthTokenMissing, scheme: name}
	}
	// RFC 6750: "Bearer" 1*SP b64token. Tabs are tolerated as OWS.
	rest = strings.TrimLeft(rest, " \t")
	c := credential{scheme: AuthSchemeBearer, source: TokenSourceHeader}
	switch {
	case rest == "":
		c.event, c.why = AuthTokenMalformed, whyEmptyToken
	case !isB64Token(rest):
		c.event, c.why = AuthTokenMalformed, whyBadToken
	default:
		c.event, c.token = AuthTokenUnverified, rest
	}
	return c
}

// parseRequest finds the bearer credential of r: the Authorization header,
// an access_token query parameter (RFC 6750 §2.3) or, when form is true, an
// access_token in a form-encoded body (§2.2; the body is restored for the
// handler). More than one method is malformed. Parameters are found as
// net/http finds them for r.URL.Query and r.FormValue (percent-encoded
// names included), so the credential recorded is the one the application
// reads. A form body too large to search is malformed: it may hold a
// credential the application would read.
func parseRequest(r *http.Request, maxBytes int, form bool) credential {
	c := credential{event: AuthTokenMissing}
	methods := 0
	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		c = parseAuthorization(hs[0], maxBytes)
		if c.scheme == AuthSchemeBearer {
			methods++
		}
	default:
		c = parseAuthorization(hs[0], maxBytes)
		return credential{event: AuthTokenMalformed, scheme: c.scheme, why: whyDuplicateHeader}
	}
	if q := r.URL.RawQuery; mayHoldParam(q) {
		if p, ok := paramCredential(q, TokenSourceQuery); ok {
			if methods++; methods == 1 {
				c.token, c.event, c.source, c.why = p.token, p.event, p.source, p.why
			}
		}
	}
	if form && isFormRequest(r) {
		body, err := peekBody(r, maxFormBytes)
		switch {
		case errors.Is(err, errBodyTooLarge):
			return credential{event: AuthTokenMalformed, scheme: c.scheme, why: whyFormTooLarge}
		case err != nil:
			return credential{event: AuthTokenMalformed, scheme: c.scheme, why: whyFormUnreadable}
		case bytes.Contains(body, []byte("access_token")) || bytes.IndexByte(body, '%') >= 0: // as mayHoldParam
			if p, ok := paramCredential(string(body), TokenSourceForm); ok {
				if methods++; methods == 1 {
					c.token, c.event, c.source, c.why = p.token, p.event, p.source, p.why
				}
			}
		}
	}
	if methods > 1 {
		return credential{event: AuthTokenMalformed, scheme: c.scheme, why: whyManyMethods}
	}
	return c
}

// mayHoldParam reports whether the URL-encoded parameter list s may name
// access_token: literally, or percent-encoded (url.ParseQuery decodes "%"
// escapes in names; "+" decodes to a space, which the name has not).
func mayHoldParam(s string) bool {
	return strings.Contains(s, "access_token") || strings.IndexByte(s, '%') >= 0
}

// paramCredential looks for access_token in an URL-encoded parameter list.
func paramCredential(encoded string, source TokenSource) (credential, bool) {
	vals, _ := url.ParseQuery(encoded) // keeps what parsed; errors are ignored
	ts, ok := vals["access_token"]
	if !ok {
		return credential{}, false
	}
	c := credential{source: source}
	switch {
	case len(ts) > 1:
		c.event, c.why = AuthTokenMalformed, whyManyParams
	case ts[0] == "":
		c.event, c.why = AuthTokenMalformed, whyEmptyParam
	case !isB64Token(ts[0]):
		c.event, c.why = AuthTokenMalformed, whyBadToken
	default:
		c.event, c.token = AuthTokenUnverified, ts[0]
	}
	return c, true
}

// isFormRequest reports whether net/http would parse r's body as a form
// (r.ParseForm, r.FormValue): a POST, PUT or PATCH whose Content-Type is
// application/x-www-form-urlencoded, whatever its parameters.
func isFormRequest(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if !strings.Contains(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return false
	}
	// net/http keeps the media type when a parameter is invalid.
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/x-www-form-urlencoded"
}

var errBodyTooLarge = errors.New("body too large")

// peekBody reads up to limit bytes of r.Body and puts what it read back in
// front of the rest, so the handler reads the body unchanged, errors
// included. It fails with errBodyTooLarge when the body is longer than
// limit, or with the read error.
func peekBody(r *http.Request, limit int64) ([]byte, error) {
	if r.PostForm != nil {
		return []byte(r.PostForm.Encode()), nil
	}
	orig := r.Body
	b, err := io.ReadAll(io.LimitReader(orig, limit+1))
	r.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(b), orig), Closer: orig}
	if err == nil && int64(len(b)) > limit {
		err = errBodyTooLarge
	}
	return b, err
}

type replayBody struct {
	io.Reader
	io.Closer
}

// schemeName maps an auth-scheme token to the bounded set of AuthScheme.
func schemeName(s string) AuthScheme {
	switch {
	case strings.EqualFold(s, "bearer"):
		return AuthSchemeBearer
	case strings.EqualFold(s, "basic"):
		return AuthSchemeBasic
	case strings.EqualFold(s, "digest"):
		return AuthSchemeDigest
	}
	return AuthSchemeOther
}

// isToken reports whether s is an RFC 9110 token (tchar+).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// isB64Token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
