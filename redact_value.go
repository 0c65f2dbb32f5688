package otelbearer

import "strings"

// Value rules. One pass over the string looks only at a few trigger bytes;
// at each, a cheap check decides whether a rule applies there, and only
// then is a span of the string marked for replacement. A string with no
// trigger that passes its checks costs a table scan and no allocation.

const (
	redactParamQuery uint8 = 1 << iota // redact as a URL query / form parameter
	redactParamText                    // redact as name=value or name: value in free text
	redactMaxParam   = 64
	// redactFingerprintLen is the length of token.fingerprint values.
	redactFingerprintLen = 32
)

// redactDefaultParams are parameter names whose values are redacted: OAuth
// (RFC 6749, RFC 6750 access_token), common API credentials, and the
// semantic conventions' list for url.query (AWS and GCS presigned URLs).
var redactDefaultParams = map[string]uint8{
	"access_token": 3, "id_token": 3, "refresh_token": 3, "token": 3, "auth_token": 3,
	"client_secret": 3, "client_assertion": 3, "api_key": 3, "apikey": 3, "api-key": 3,
	"x-api-key": 3, "password": 3, "passwd": 3, "pwd": 3, "secret": 3, "authorization": 3,
	"private_key": 3, "jwt": 3, "sessionid": 3, "session_id": 3,
	"awsaccesskeyid": 3, "signature": 3, "x-amz-signature": 3, "x-amz-credential": 3,
	"x-amz-security-token": 3, "x-goog-signature": 3, "x-goog-credential": 3,
	// Too common as words in free text; redacted in queries only.
	"code": redactParamQuery, "sig": redactParamQuery,
}

// Trigger bytes of the value rules.
var redactTrigger = [256]bool{
	' ': true, '\t': true, // Bearer / Basic credentials
	'=': true, ':': true, // name=value, name: value
	'@': true,                       // URL userinfo
	'J': true,                       // eyJ (JWT)
	'A': true, '_': true, '-': true, // key formats, PEM
}

type redactSpan struct {
	start, end int
	repl       string
}

// redactScanner collects the spans to replace. Its small array keeps the
// common cases off the heap.
type redactScanner struct {
	spans [8]redactSpan
	more  []redactSpan
	n     int
}

func (sc *redactScanner) add(start, end int, repl string, s string) {
	if sc == nil || start >= end || s[start:end] == repl {
		return
	}
	sp := redactSpan{start, end, repl}
	if sc.n < len(sc.spans) {
		sc.spans[sc.n] = sp
	} else {
		sc.more = append(sc.more, sp)
	}
	sc.n++
}

func (sc *redactScanner) at(i int) *redactSpan {
	if i < len(sc.spans) {
		return &sc.spans[i]
	}
	return &sc.more[i-len(sc.spans)]
}

// redactString applies the rules of class c to s.
func (r *Redactor) redactString(c redactClass, key, s string) string {
	switch c {
	case redactFull:
		if s == "" {
			return s
		}
		return Redacted
	case redactScheme:
		return redactSchemeValue(s)
	case redactOwnHex:
		if redactIsHex(s) {
			return s
		}
		return Redacted
	case redactOwnEnum:
		if redactIsEnum(s) {
			return s
		}
		return Redacted
	}
	return r.redactText(s, c == redactQuery)
}

// redactText applies the URL and value rules to free text. queryStart says
// that s itself is a query string (no leading '?').
func (r *Redactor) redactText(s string, queryStart bool) string {
	out := s
	// A first pass without a scanner finds where a rule fires, if any; most
	// strings stop here.
	if i := r.scan(nil, s, 0, queryStart); i >= 0 {
		var sc redactScanner
		r.scan(&sc, s, i, queryStart)
		if sc.n > 0 {
			out = sc.build(s)
		}
	}
	for i, re := range r.patterns {
		if p := r.prefixes[i]; p != "" && !strings.Contains(out, p) {
			continue
		}
		out = re.ReplaceAllLiteralString(out, Redacted)
	}
	return out
}

// scan runs the rules from s[from:]. With a nil sc it stops at the first
// trigger where a rule fires and returns its index; otherwise it collects
// every span in sc. It returns -1 when no rule fired.
func (r *Redactor) scan(sc *redactScanner, s string, from int, queryStart bool) int {
	fired := -1
	for i := from; i < len(s); i++ {
		c := s[i]
		if !redactTrigger[c] {
			continue
		}
		end := -1
		switch c {
		case ' ', '\t':
			end = redactCredential(sc, s, i)
		case '=', ':':
			end = r.redactParam(sc, s, i, queryStart)
		case '@':
			end = redactUserinfo(sc, s, i)
		default:
			end = redactFormat(sc, s, i)
		}
		if end < 0 {
			continue
		}
		if fired < 0 {
			fired = i
		}
		if sc == nil {
			return fired
		}
		if end > i+1 {
			i = end - 1
		}
	}
	return fired
}

// build returns s with the collected spans replaced; overlapping spans are
// merged and the earliest one's replacement is kept.
func (sc *redactScanner) build(s string) string {
	// Insertion sort by start: n is tiny.
	for i := 1; i < sc.n; i++ {
		for j := i; j > 0 && sc.at(j).start < sc.at(j-1).start; j-- {
			*sc.at(j), *sc.at(j - 1) = *sc.at(j - 1), *sc.at(j)
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for i := 0; i < sc.n; i++ {
		sp := *sc.at(i)
		for i+1 < sc.n && sc.at(i+1).start < sp.end {
			if e := sc.at(i + 1).end; e > sp.end {
				sp.end = e
			}
			i++
		}
		if sp.start < pos { // overlaps what was already written
			sp.start = pos
		}
		if sp.end <= pos {
			continue
		}
		b.WriteString(s[pos:sp.start])
		b.WriteString(sp.repl)
		pos = sp.end
	}
	b.WriteString(s[pos:])
	return b.String()
}

func redactIsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func redactLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// redactCredential handles "Bearer <token>" and "Basic <credentials>"
// (case-insensitive scheme; the scheme is kept). i is a blank after the
// scheme word. Basic needs a credential that is not a plain lowercase word,
// so prose like "basic authentication failed" stays readable.
func redactCredential(sc *redactScanner, s string, i int) int {
	// The word before the blank ends with the scheme ("xBearer" counts:
	// failing closed costs a readable word at most).
	basic := false
	switch {
	case i >= 6 && strings.EqualFold(s[i-6:i], "bearer"):
	case i >= 5 && strings.EqualFold(s[i-5:i], "basic"):
		basic = true
	default:
		return -1
	}
	j := i
	for j < len(s) && redactIsSpace(s[j]) {
		j++
	}
	e := j
	for e < len(s) && !redactIsSpace(s[e]) && !redactCredStop(s[e]) {
		e++
	}
	if e == j {
		return -1
	}
	if basic && redactPlainWord(s[j:e]) {
		return -1
	}
	sc.add(j, e, Redacted, s)
	return e
}

func redactIsLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func redactCredStop(c byte) bool {
	switch c {
	case '"', '\'', ',', ';', ')', ']', '}', '<', '>', '\\':
		return true
	}
	return false
}

// redactPlainWord reports whether w is a lowercase word (no digit, capital
// or symbol): prose, not a base64 credential.
func redactPlainWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func redactIsParamChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// redactParam handles name=value (query, form, free text) and name: value
// (free text, JSON). i is the '=' or ':'.
func (r *Redactor) redactParam(sc *redactScanner, s string, i int, queryStart bool) int {
	sep := s[i]
	k := i
	if sep == ':' {
		if i+1 < len(s) && s[i+1] == '/' { // scheme://
			return -1
		}
		if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
			k--
		}
	}
	ke := k
	for k > 0 && ke-k < redactMaxParam && redactIsParamChar(s[k-1]) {
		k--
	}
	if k == ke || ke-k > redactMaxParam || (k > 0 && redactIsParamChar(s[k-1])) {
		return -1
	}
	var buf [redactMaxParam]byte
	for j := k; j < ke; j++ {
		buf[j-k] = redactLower(s[j])
	}
	flags := r.params[string(buf[:ke-k])]
	if flags == 0 {
		return -1
	}
	query := sep == '=' && (k > 0 && (s[k-1] == '?' || s[k-1] == '&' || s[k-1] == ';') || k == 0 && queryStart)
	if query && flags&redactParamQuery == 0 || !query && flags&redactParamText == 0 {
		return -1
	}
	j := i + 1
	if sep == ':' {
		for j < len(s) && redactIsSpace(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		q := s[j]
		j++
		if k := redactSchemePrefix(s, j); k > j {
			j = k // "Authorization": "Bearer x": keep the scheme
		}
		e := strings.IndexByte(s[j:], q)
		if e < 0 {
			e = len(s) - j
		}
		sc.add(j, j+e, Redacted, s)
		return j + e
	}
	if k := redactSchemePrefix(s, j); k > j {
		j = k // Authorization: Bearer x: keep the scheme
	}
	e := j
	for e < len(s) && !redactIsSpace(s[e]) && !redactValueStop(s[e], query) {
		e++
	}
	sc.add(j, e, Redacted, s)
	return e
}

func redactValueStop(c byte, query bool) bool {
	switch c {
	case '&', '#', '"', '\'', '<', '>':
		return true
	case ',', ';', ')', ']', '}', '\\':
		return !query
	}
	return false
}

// redactUserinfo handles scheme://user:password@host. i is the '@'.
func redactUserinfo(sc *redactScanner, s string, i int) int {
	a := i
	for a > 0 && i-a < 1024 {
		c := s[a-1]
		if c == '/' || c == '?' || c == '#' || redactIsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' {
			break
		}
		a--
	}
	if a < 3 || s[a-3:a] != "://" || a == i {
		return -1
	}
	sc.add(a, i, Redacted+":"+Redacted, s)
	return i + 1
}
