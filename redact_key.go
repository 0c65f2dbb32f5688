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
	redactOwnText                    // our free-text attribute: value rules only, never default key rules
)

// Key prefixes whose last part is a header or metadata name: the header
// rules apply to that name.
var redactHeaderPrefixes = [...]string{
	"http.request.header.", "http.response.header.",
	"rpc.grpc.request.metadata.", "rpc.grpc.response.metadata.",
	"rpc.request.metadata.", "rpc.response.metadata.",
}

// redactOwnClass returns the class of the package's own attribute keys
// (attributes.go). Only these exact keys are exempt from the default key
// rules; a key that merely starts like one (auth.password, authz.api_key)
// is not. A switch, not a map: it is on the hot path of every key.
func redactOwnClass(key string) (redactClass, bool) {
	switch key {
	case "token.fingerprint", "token.outgoing.fingerprint":
		return redactOwnHex, true
	case "auth.scheme", "auth.event", "authz.decision", "token.source", "auth.optional":
		return redactOwnEnum, true
	case "authz.reason", "authz.resource", "token.id", "token.scopes", "token.client_id",
		"token.issuer", "user.id", "client.address", "redaction.count", "redaction.sanitized":
		return redactOwnText, true
	}
	return redactPlain, false
}

// classify maps an attribute key to its redaction class. It is on the hot
// path of every string attribute and must not allocate.
func (r *Redactor) classify(key string) redactClass {
	if key == "" {
		return redactPlain
	}
	seg := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		seg = key[i+1:]
	}
	// An operator's rule comes first: it applies to our own keys too.
	if r.extraKeys != nil && r.operatorKey(key, seg) {
		return redactFull
	}
	if c, ok := redactOwnClass(key); ok {
		return c
	}
	if key == "url.query" {
		return redactQuery
	}
	if key[0] == 'h' || key[0] == 'r' {
		for _, p := range redactHeaderPrefixes {
			if len(key) > len(p) && strings.HasPrefix(key, p) {
				return r.classifyHeader(key[len(p):])
			}
		}
	}
	return redactNameClass(seg)
}

// operatorKey reports whether WithSensitiveKeys names key or its last
// segment seg.
func (r *Redactor) operatorKey(key, seg string) bool {
	var buf [64]byte
	if n, ok := redactNormalize(&buf, key); ok {
		if _, hit := r.extraKeys[string(buf[:n])]; hit {
			return true
		}
	}
	if n, ok := redactNormalize(&buf, seg); ok {
		if _, hit := r.extraKeys[string(buf[:n])]; hit {
			return true
		}
	}
	return false
}

// redactWord is a default sensitive name, lowercase with '_' and '-'
// removed, matched at the end of a name: "password" catches password,
// db_password, dbPassword and DB-PASSWORD (compare Sentry's and Elastic
// APM's default deny lists).
type redactWord struct {
	word  string
	class redactClass
}

var redactWords = []redactWord{
	{"authorization", redactScheme},
	{"password", redactFull}, {"passwd", redactFull}, {"pwd", redactFull}, {"passphrase", redactFull},
	{"secret", redactFull}, {"token", redactFull}, {"apikey", redactFull}, {"privatekey", redactFull},
	{"secretkey", redactFull}, {"accesskey", redactFull}, {"subscriptionkey", redactFull},
	{"functionskey", redactFull}, {"credential", redactFull}, {"credentials", redactFull},
	{"cookie", redactFull}, {"cookies", redactFull}, {"sessionid", redactFull}, {"jwt", redactFull},
	{"clientassertion", redactFull}, {"signature", redactFull},
}

// redactWordsByEnd indexes redactWords by a hash of their last two bytes:
// most names are rejected by one table lookup.
var redactWordsByEnd = func() (t [512][]redactWord) {
	for _, w := range redactWords {
		h := redactEndHash(w.word[len(w.word)-1], w.word[len(w.word)-2])
		t[h] = append(t[h], w)
	}
	return t
}()

func redactEndHash(last, prev byte) int { return (int(last)*7 + int(prev)) & 511 }

// redactNameClass applies the default sensitive names to a key segment,
// query parameter or member name. It does not allocate.
func redactNameClass[T string | []byte](name T) redactClass {
	e := len(name)
	for e > 0 && (name[e-1] == '_' || name[e-1] == '-') {
		e--
	}
	p := e - 1
	for p > 0 && (name[p-1] == '_' || name[p-1] == '-') {
		p--
	}
	if p <= 0 {
		return redactPlain // shorter than any word
	}
	for _, w := range redactWordsByEnd[redactEndHash(redactLower(name[e-1]), redactLower(name[p-1]))] {
		if redactHasSuffixFold(name[:e], w.word) {
			return w.class
		}
	}
	return redactPlain
}

// redactHasSuffixFold reports whether name, lowercased and with '_' and '-'
// removed, ends with word.
func redactHasSuffixFold[T string | []byte](name T, word string) bool {
	i := len(name)
	for j := len(word) - 1; j >= 0; j-- {
		for i > 0 && (name[i-1] == '_' || name[i-1] == '-') {
			i--
		}
		if i == 0 || redactLower(name[i-1]) != word[j] {
			return false
		}
		i--
	}
	return true
}

// classifyHeader applies the header rules to a captured header's (or gRPC
// metadata's) name.
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
	if strings.HasSuffix(h, "key") {
		return redactFull // x-api-key, ocp-apim-subscription-key, x-functions-key
	}
	if r.extraHeaders != nil {
		if _, ok := r.extraHeaders[string(buf[:n])]; ok {
			return redactFull
		}
	}
	return redactPlain
}

// redactHeaderWords mark a header name as sensitive when it contains one of
// them (x-auth-token, x-csrf-token, x-amz-security-token, private-token,
// x-vault-token, cookie, set-cookie, ...).
var redactHeaderWords = []string{
	"cookie", "token", "secret", "passw", "pwd", "api-key", "apikey", "api_key",
	"auth", "session", "csrf", "xsrf", "credential", "signature", "private",
	"access-key", "secret-key", "subscription-key", "functions-key",
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
