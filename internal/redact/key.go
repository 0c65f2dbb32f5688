package redact

import (
	"strings"

	"github.com/otelbearer/otelbearer/internal/attrkey"
)

// keyClass is what the key of a value says about how to redact it.
type keyClass uint8

const (
	classPlain   keyClass = iota // URL and value rules only
	classQuery                   // like plain, and the value is a query string (url.query)
	classFull                    // replace the whole value by Redacted
	classScheme                  // authorization-like: keep the scheme, redact the credential
	classOwnHex                  // our fingerprint: lowercase hex of attrkey.FingerprintHexLen, else Redacted
	classOwnEnum                 // our enum: short lowercase identifier, else Redacted
	classOwnText                 // our free-text attribute: value rules only, never default key rules
)

// Key prefixes whose last part is a header or metadata name: the header
// rules apply to that name.
var headerPrefixes = [...]string{
	"http.request.header.", "http.response.header.",
	"rpc.grpc.request.metadata.", "rpc.grpc.response.metadata.",
	"rpc.request.metadata.", "rpc.response.metadata.",
}

// ownClass returns the class of the package's own attribute keys
// (internal/attrkey). Only these exact keys are exempt from the default key
// rules; a key that merely starts like one (auth.password, authz.api_key)
// is not. A switch, not a map: it is on the hot path of every key.
func ownClass(key string) (keyClass, bool) {
	switch key {
	case attrkey.TokenFingerprint, attrkey.TokenOutgoingFingerprint:
		return classOwnHex, true
	case attrkey.AuthScheme, attrkey.AuthEvent, attrkey.AuthzDecision, attrkey.TokenSource, attrkey.AuthOptional:
		return classOwnEnum, true
	case attrkey.AuthzReason, attrkey.AuthzResource, attrkey.TokenID, attrkey.TokenScopes, attrkey.TokenClientID,
		attrkey.TokenIssuer, attrkey.UserID, attrkey.ClientAddress, attrkey.RedactionCount, attrkey.RedactionSanitized:
		return classOwnText, true
	}
	return classPlain, false
}

// classify maps an attribute key to its redaction class. It is on the hot
// path of every string attribute and must not allocate.
func (r *Redactor) classify(key string) keyClass {
	if r.extraKeys == nil {
		if c, ok := knownClass(key); ok {
			return c
		}
	}
	return r.classifyRules(key)
}

// classifyRules is classify by the key rules alone, for a key
// [knownClass] does not list (or when operator key rules apply).
func (r *Redactor) classifyRules(key string) keyClass {
	if key == "" {
		return classPlain
	}
	seg := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		seg = key[i+1:]
	}
	// An operator's rule comes first: it applies to our own keys too.
	if r.extraKeys != nil && r.operatorKey(key, seg) {
		return classFull
	}
	if c, ok := ownClass(key); ok {
		return c
	}
	if key == "url.query" {
		return classQuery
	}
	if key[0] == 'h' || key[0] == 'r' {
		for _, p := range headerPrefixes {
			if len(key) > len(p) && strings.HasPrefix(key, p) {
				return r.classifyHeader(key[len(p):])
			}
		}
	}
	return nameClass(seg)
}

// operatorKey reports whether WithSensitiveKeys names key or its last
// segment seg.
func (r *Redactor) operatorKey(key, seg string) bool {
	var buf [64]byte
	if n, ok := normalizeBuf(&buf, key); ok {
		if _, hit := r.extraKeys[string(buf[:n])]; hit {
			return true
		}
	}
	if n, ok := normalizeBuf(&buf, seg); ok {
		if _, hit := r.extraKeys[string(buf[:n])]; hit {
			return true
		}
	}
	return false
}

// keyWord is a default sensitive name, lowercase with '_' and '-'
// removed, matched at the end of a name: "password" catches password,
// db_password, dbPassword and DB-PASSWORD (compare Sentry's and Elastic
// APM's default deny lists).
type keyWord struct {
	word  string
	class keyClass
}

var keyWords = []keyWord{
	{"authorization", classScheme},
	{"password", classFull}, {"passwd", classFull}, {"pwd", classFull}, {"passphrase", classFull},
	{"secret", classFull}, {"token", classFull}, {"apikey", classFull}, {"privatekey", classFull},
	{"secretkey", classFull}, {"accesskey", classFull}, {"subscriptionkey", classFull},
	{"functionskey", classFull}, {"credential", classFull}, {"credentials", classFull},
	{"cookie", classFull}, {"cookies", classFull}, {"sessionid", classFull}, {"jwt", classFull},
	{"clientassertion", classFull}, {"signature", classFull},
}

// keyWordsByEnd indexes keyWords by a hash of their last two bytes:
// most names are rejected by one table lookup.
var keyWordsByEnd = func() (t [512][]keyWord) {
	for _, w := range keyWords {
		h := endHash(w.word[len(w.word)-1], w.word[len(w.word)-2])
		t[h] = append(t[h], w)
	}
	return t
}()

func endHash(last, prev byte) int { return (int(last)*7 + int(prev)) & 511 }

// nameClass applies the default sensitive names to a key segment,
// query parameter or member name. It does not allocate.
func nameClass[T string | []byte](name T) keyClass {
	e := len(name)
	for e > 0 && (name[e-1] == '_' || name[e-1] == '-') {
		e--
	}
	p := e - 1
	for p > 0 && (name[p-1] == '_' || name[p-1] == '-') {
		p--
	}
	if p <= 0 {
		return classPlain // shorter than any word
	}
	for _, w := range keyWordsByEnd[endHash(toLower(name[e-1]), toLower(name[p-1]))] {
		if hasSuffixFold(name[:e], w.word) {
			return w.class
		}
	}
	return classPlain
}

// hasSuffixFold reports whether name, lowercased and with '_' and '-'
// removed, ends with word.
func hasSuffixFold[T string | []byte](name T, word string) bool {
	i := len(name)
	for j := len(word) - 1; j >= 0; j-- {
		for i > 0 && (name[i-1] == '_' || name[i-1] == '-') {
			i--
		}
		if i == 0 || toLower(name[i-1]) != word[j] {
			return false
		}
		i--
	}
	return true
}

// classifyHeader applies the header rules to a captured header's (or gRPC
// metadata's) name.
func (r *Redactor) classifyHeader(name string) keyClass {
	var buf [64]byte
	n, ok := normalizeHeaderBuf(&buf, name)
	if !ok {
		// Absurdly long header name: nothing can vouch for it.
		return classFull
	}
	h := string(buf[:n])
	if r.allowMode {
		if _, ok := r.allow[string(buf[:n])]; !ok {
			return classFull
		}
		return classPlain
	}
	if strings.Contains(h, "authorization") || strings.Contains(h, "authenticate") {
		return classScheme
	}
	for _, w := range headerWords {
		if strings.Contains(h, w) {
			return classFull
		}
	}
	if strings.HasSuffix(h, "key") {
		return classFull // x-api-key, ocp-apim-subscription-key, x-functions-key
	}
	if r.extraHeaders != nil {
		if _, ok := r.extraHeaders[string(buf[:n])]; ok {
			return classFull
		}
	}
	return classPlain
}

// headerWords mark a header name as sensitive when it contains one of
// them (x-auth-token, x-csrf-token, x-amz-security-token, private-token,
// x-vault-token, cookie, set-cookie, ...).
var headerWords = []string{
	"cookie", "token", "secret", "passw", "pwd", "api-key", "apikey", "api_key",
	"auth", "session", "csrf", "xsrf", "credential", "signature", "private",
	"access-key", "secret-key", "subscription-key", "functions-key",
}

// normalizeBuf lowercases s into buf and maps '-' to '_' (key form).
func normalizeBuf(buf *[64]byte, s string) (int, bool) { return foldBuf(buf, s, '-', '_') }

// normalizeHeaderBuf lowercases a header name into buf and maps '_' to
// '-' (header form).
func normalizeHeaderBuf(buf *[64]byte, s string) (int, bool) { return foldBuf(buf, s, '_', '-') }

// foldBuf lowercases s into buf, mapping from to to. ok is false when s
// does not fit.
func foldBuf(buf *[64]byte, s string, from, to byte) (int, bool) {
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
