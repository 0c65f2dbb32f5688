package otelbearer

import "strings"

// Value rules that start at a separator: credentials after a scheme word,
// name=value / name: value pairs, URL userinfo. Every rule looks back a
// bounded number of bytes, never past a byte that triggers the same rule,
// and a rule that fires makes the scan jump past what it replaced, so a
// string costs time linear in its length whatever its bytes.

// redactCredential handles credentials after an HTTP authentication scheme
// word in free text (case-insensitive; the scheme is kept). i is a blank
// after the word.
//
//   - Bearer, Basic, Negotiate, NTLM: the next word (token68). Basic,
//     Negotiate and NTLM need a credential that is not a plain lowercase
//     word, so prose like "basic authentication failed" stays readable.
//   - Digest, MAC, AWS4-HMAC-SHA256, Token, HOBA: an auth-param list
//     (name=value, name="value", ...), replaced as a whole.
func redactCredential(sc *redactScanner, s string, i int) int {
	if i == 0 {
		return -1
	}
	// The word before the blank ends with a scheme ("xBearer" counts:
	// failing closed costs a readable word at most). Its last byte picks
	// the one or two schemes to compare.
	w := s[:i]
	single, prose := false, false
	switch redactLower(s[i-1]) {
	case 'r':
		single = redactEndsFold(w, "bearer")
		if !single {
			return -1
		}
	case 'c':
		if redactEndsFold(w, "basic") {
			single, prose = true, true
		} else if !redactEndsFold(w, "mac") {
			return -1
		}
	case 'e':
		if single, prose = redactEndsFold(w, "negotiate"), true; !single {
			return -1
		}
	case 'm':
		if single, prose = redactEndsFold(w, "ntlm"), true; !single {
			return -1
		}
	case 't':
		if !redactEndsFold(w, "digest") {
			return -1
		}
	case '6':
		if !redactEndsFold(w, "aws4-hmac-sha256") {
			return -1
		}
	case 'n':
		if !redactEndsFold(w, "token") {
			return -1
		}
	case 'a':
		if !redactEndsFold(w, "hoba") {
			return -1
		}
	default:
		return -1
	}
	j := i
	for j < len(s) && redactIsSpace(s[j]) {
		j++
	}
	if !single {
		e := redactParamListEnd(s, j)
		if e < 0 {
			return -1
		}
		sc.add(j, e, redactReplMarker, s)
		return e
	}
	e := j
	for e < len(s) && !redactIsSpace(s[e]) && !redactCredStop(s[e]) {
		e++
	}
	if e == j || prose && redactPlainWord(s[j:e]) {
		return -1
	}
	sc.add(j, e, redactReplMarker, s)
	return e
}

// redactParamListEnd returns the end of an auth-param list at s[j:]
// (RFC 9110 §11.2: name=token or name="quoted", comma-separated), or -1
// when s[j:] does not start with one.
func redactParamListEnd(s string, j int) int {
	end := -1
	for e := j; ; {
		a := e
		for e < len(s) && redactIsParamChar(s[e]) {
			e++
		}
		if e == a || e >= len(s) || s[e] != '=' {
			return end
		}
		e++
		if e < len(s) && s[e] == '"' {
			e = redactQuotedEnd(s, e+1, '"')
			if e < len(s) {
				e++ // the closing quote
			}
		} else {
			for e < len(s) && !redactIsSpace(s[e]) && s[e] != ',' && s[e] != '"' {
				e++
			}
		}
		end = e
		for e < len(s) && (s[e] == ' ' || s[e] == '\t') {
			e++
		}
		if e >= len(s) || s[e] != ',' {
			return end
		}
		e++
		for e < len(s) && (s[e] == ' ' || s[e] == '\t') {
			e++
		}
	}
}

// redactQuotedEnd returns the index of the closing quote q at or after j
// (a quote after a backslash does not close), or len(s).
func redactQuotedEnd(s string, j int, q byte) int {
	for e := j; e < len(s); e++ {
		if s[e] == q && (e == j || s[e-1] != '\\') {
			return e
		}
	}
	return len(s)
}

// redactParam handles name=value (query, form, free text, and %3D in an
// encoded URL) and name: value (free text, JSON, YAML, dumped headers). i
// is the separator, sepLen its length (3 for %3D). The name may be
// percent-encoded (access%5Ftoken); one byte before it decides whether
// the pair sits in a query (?, &, ; or their encodings) or on a line of
// its own (a dumped header: the value runs to the end of the line).
func (r *Redactor) redactParam(sc *redactScanner, s string, i, sepLen int, queryStart bool) int {
	sep := s[i]
	if sep == ':' && i+1 < len(s) && s[i+1] == '/' { // scheme://
		return -1
	}
	k := i
	for k > 0 && i-k < 4 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	quoted := k > 0 && (s[k-1] == '"' || s[k-1] == '\'')
	if quoted {
		k--
	}
	// The name, backwards: its start k and decoded length n.
	ke, n := k, 0
	var before byte // the (decoded) byte before the name; 0 at the start
	for k > 0 {
		c, w := s[k-1], 1
		if k >= 3 && s[k-3] == '%' && redactHexDigit(s[k-2]) && redactHexDigit(s[k-1]) {
			c, w = redactUnhex(s[k-2])<<4|redactUnhex(s[k-1]), 3
		}
		if !redactIsParamChar(c) {
			before = c
			break
		}
		if n == redactMaxParam {
			return -1 // too long for a parameter name
		}
		n++
		k -= w
	}
	if n == 0 {
		return -1
	}
	var buf [redactMaxParam]byte // the decoded name
	for p, m := k, 0; p < ke && m < n; m++ {
		if s[p] == '%' && p+2 < ke && redactHexDigit(s[p+1]) && redactHexDigit(s[p+2]) {
			buf[m], p = redactUnhex(s[p+1])<<4|redactUnhex(s[p+2]), p+3
		} else {
			buf[m], p = s[p], p+1
		}
	}
	flags := r.redactParamFlags(buf[:n])
	if flags == 0 {
		return -1
	}
	query := sep != ':' && (before == '?' || before == '&' || before == ';' || k == 0 && queryStart)
	if query && flags&redactParamQuery == 0 || !query && flags&redactParamText == 0 {
		return -1
	}
	line := flags&redactParamLine != 0 || sep == ':' && !quoted && (k == 0 || before == '\n' || before == '\r')

	j := i + sepLen
	if !query {
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
	}
	var closer byte
	if !query && j < len(s) && s[j] == '[' { // Go's %v of http.Header: map[Cookie:[a=b; c=d]]
		closer = ']'
		for j++; j < len(s) && (s[j] == ' ' || s[j] == '\t'); j++ {
		}
	}
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		closer = s[j]
		j++
	}
	if flags&redactParamAuth != 0 {
		var token68 bool
		if j, token68 = redactSchemePrefix(s, j); !token68 {
			line = true // Digest username="…", response="…"; MAC id="…"; Token x
		}
	}
	e := j
	switch {
	case closer != 0:
		e = redactQuotedEnd(s, j, closer)
	case line:
		for e < len(s) && s[e] != '\n' && s[e] != '\r' {
			e++
		}
	default:
		for e < len(s) && !redactIsSpace(s[e]) && !redactValueStop(s, e, query, sepLen == 3) {
			e++
		}
	}
	if e == j {
		return -1
	}
	sc.add(j, e, redactReplMarker, s)
	return e
}

// redactSchemePrefix skips a scheme word and its blanks at s[j:] (the
// scheme is kept). token68 reports whether what follows is a single word:
// Bearer, Basic, Negotiate, NTLM, or no scheme at all.
func redactSchemePrefix(s string, j int) (int, bool) {
	w := j
	for w < len(s) && w-j <= 32 && (redactAlnum(s[w]) || s[w] == '-') {
		w++
	}
	if w == j || w == len(s) || s[w] != ' ' && s[w] != '\t' {
		return j, true
	}
	word := s[j:w]
	for w < len(s) && (s[w] == ' ' || s[w] == '\t') {
		w++
	}
	switch {
	case strings.EqualFold(word, "bearer"), strings.EqualFold(word, "basic"),
		strings.EqualFold(word, "negotiate"), strings.EqualFold(word, "ntlm"):
		return w, true
	}
	return w, false
}

func redactValueStop(s string, e int, query, encoded bool) bool {
	switch s[e] {
	case '&', '#', '"', '\'', '<', '>', ';':
		return true
	case ',', ')', ']', '}', '\\':
		return !query
	case '%': // %26 (&) or %23 (#) ends a value inside an encoded URL
		return encoded && e+2 < len(s) && s[e+1] == '2' && (s[e+2] == '6' || s[e+2] == '3')
	}
	return false
}

// redactUserinfo handles scheme://user:password@host. i is the '@'. The
// look back stops at a byte userinfo cannot hold, '@' included, so no byte
// is looked at for two '@' and userinfo of any length is caught.
func redactUserinfo(sc *redactScanner, s string, i int) int {
	a := i
	for a > 0 {
		c := s[a-1]
		if c == '/' || c == '?' || c == '#' || c == '@' || redactIsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' {
			break
		}
		a--
	}
	if a < 3 || s[a-3:a] != "://" || a == i {
		return -1
	}
	sc.add(a, i, redactReplUserinfo, s)
	return i + 1
}

func redactHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func redactUnhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// redactEndsFold reports whether w ends with suffix, ignoring case.
func redactEndsFold(w, suffix string) bool {
	return len(w) >= len(suffix) && strings.EqualFold(w[len(w)-len(suffix):], suffix)
}

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
