package otelbearer

import "strings"

// redactClass is what the key of a value says about how to redact it.
type redactClass uint8

const (
	redactPlain   redactClass = iota // URL and value rules only
	redactQuery                      // like plain, and the value is a query string (url.query)
	redactFull                       // replace the whole value by Redacted
	redactScheme                     // authorization-like: keep the scheme, redact the credential
	redactOwnHex                     // our fingerprint: lowercase hex of FingerprintHexLen, else Redacted
	redactOwnEnum                    // our enum: short lowercase identifier, else Redacted
	redactOwnText                    // our free-text attribute: value rules only, never key rules
)

const (
	redactReqHeader  = "http.request.header."
	redactRespHeader = "http.response.header."
)

// classify maps an attribute key to its redaction class. It is on the hot
// path of every string attribute and must not allocate.
func (r *Redactor) classify(key string) redactClass {
	// Our own keys first: a generic rule (*token*, *auth*) never masks them.
	switch key {
	case "token.fingerprint", "token.outgoing.fingerprint":
		return redactOwnHex
	case "auth.scheme", "auth.event", "authz.decision", "token.source":
		return redactOwnEnum
	case "token.id", "token.scopes", "token.client_id", "token.issuer",
		"user.id", "redaction.count", "client.address":
		return redactOwnText
	case "url.query":
		return redactQuery
	case "":
		return redactPlain
	}
	if strings.HasPrefix(key, "auth.") || strings.HasPrefix(key, "authz.") {
		return redactOwnText
	}
	if strings.HasPrefix(key, redactReqHeader) {
		return r.classifyHeader(key[len(redactReqHeader):])
	}
	if strings.HasPrefix(key, redactRespHeader) {
		return r.classifyHeader(key[len(redactRespHeader):])
	}
	seg := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		seg = key[i+1:]
	}
	if c := redactSegment(seg); c != redactPlain {
		return c
	}
	if r.extraKeys != nil {
		var buf [64]byte
		if n, ok := redactNormalize(&buf, key); ok {
			if _, hit := r.extraKeys[string(buf[:n])]; hit {
				return redactFull
			}
		}
		if n, ok := redactNormalize(&buf, seg); ok {
			if _, hit := r.extraKeys[string(buf[:n])]; hit {
				return redactFull
			}
		}
	}
	return redactPlain
}

// redactSegment applies the default sensitive names to the last segment of
// a key (compare Sentry's and Elastic APM's default deny lists).
func redactSegment(seg string) redactClass {
	if len(seg) < 3 || len(seg) > 24 || !redactSegmentStart[len(seg)][redactLower(seg[0])] {
		return redactPlain
	}
	var buf [24]byte
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '-' {
			c = '_'
		}
		buf[i] = c
	}
	for _, w := range redactSegmentsByLen[len(seg)] {
		if w.name == string(buf[:len(seg)]) {
			return w.class
		}
	}
	return redactPlain
}

// redactSegments are the default sensitive key segments, lowercase with
// '-' folded to '_' (compare Sentry's and Elastic APM's default lists).
var redactSegments = map[string]redactClass{
	"authorization": redactScheme, "proxy_authorization": redactScheme,
	"password": redactFull, "passwd": redactFull, "pwd": redactFull, "secret": redactFull,
	"client_secret": redactFull, "api_key": redactFull, "apikey": redactFull,
	"access_token": redactFull, "refresh_token": redactFull, "id_token": redactFull,
	"auth_token": redactFull, "bearer_token": redactFull, "token": redactFull,
	"private_key": redactFull, "privatekey": redactFull, "credentials": redactFull,
	"credential": redactFull, "cookie": redactFull, "cookies": redactFull,
	"set_cookie": redactFull, "session_id": redactFull, "sessionid": redactFull,
	"csrf_token": redactFull, "xsrf_token": redactFull, "x_api_key": redactFull,
	"x_auth_token": redactFull, "x_csrf_token": redactFull, "x_amz_security_token": redactFull,
	"client_assertion": redactFull, "jwt": redactFull,
}

// redactSegmentStart[len][first byte] is true when a sensitive segment of
// that length starts with that byte: a cheap reject before the lookup.
var redactSegmentStart = func() (t [25][256]bool) {
	for w := range redactSegments {
		t[len(w)][w[0]] = true
	}
	return t
}()

type redactNamedClass struct {
	name  string
	class redactClass
}

// redactSegmentsByLen holds redactSegments by length: the few candidates
// of one length compare faster than a map lookup hashes.
var redactSegmentsByLen = func() (t [25][]redactNamedClass) {
	for w, c := range redactSegments {
		t[len(w)] = append(t[len(w)], redactNamedClass{w, c})
	}
	return t
}()

// classifyHeader applies the header rules to a captured header's name.
func (r *Redactor) classifyHeader(name string) redactClass {
	var buf [64]byte
	n, ok := redactNormalizeHeader(&buf, name)
	if !ok {
		// Absurdly long header name: nothing can vouch for it.
		return redactFull
	}
	h := string(buf[:n])
	if r.allowMode {
		if _, ok := r.allow[string(buf[:n])]; !ok {
			return redactFull
		}
		return redactPlain
	}
	if strings.Contains(h, "authorization") || strings.Contains(h, "authenticate") {
		return redactScheme
	}
	for _, w := range redactHeaderWords {
		if strings.Contains(h, w) {
			return redactFull
		}
	}
	if r.extraHeaders != nil {
		if _, ok := r.extraHeaders[string(buf[:n])]; ok {
			return redactFull
		}
	}
	return redactPlain
}

// redactHeaderWords mark a header name as sensitive when it contains one of
// them (x-api-key, x-auth-token, x-csrf-token, x-amz-security-token, cookie,
// set-cookie, x-goog-api-key, ...).
var redactHeaderWords = []string{
	"cookie", "token", "secret", "passw", "pwd", "api-key", "apikey", "api_key",
	"auth", "session", "csrf", "xsrf", "credential", "signature", "private",
	"access-key", "secret-key",
}

// redactNormalize lowercases s into buf and maps '-' to '_' (key form).
func redactNormalize(buf *[64]byte, s string) (int, bool) { return redactFold(buf, s, '-', '_') }

// redactNormalizeHeader lowercases a header name into buf and maps '_' to
// '-' (header form).
func redactNormalizeHeader(buf *[64]byte, s string) (int, bool) { return redactFold(buf, s, '_', '-') }

// redactFold lowercases s into buf, mapping from to to. ok is false when s
// does not fit.
func redactFold(buf *[64]byte, s string, from, to byte) (int, bool) {
	if len(s) > len(buf) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == from {
			c = to
		}
		buf[i] = c
	}
	return len(s), true
}

func normalizeKey(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

func normalizeHeader(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}
