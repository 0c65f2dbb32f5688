package otelbearer

import "strings"

// Value rules. One pass over the string looks only at a few trigger bytes;
// at each, a cheap check decides whether a rule applies there, and only
// then is a span of the string marked for replacement. A string with no
// trigger that passes its checks costs a table scan and no allocation.

const (
	redactParamQuery uint8 = 1 << iota // redact as a URL query / form parameter
	redactParamText                    // redact as name=value or name: value in free text
	redactParamAuth                    // authorization-like: keep the scheme
	redactParamLine                    // the value runs to the end of the line (cookies)
	redactMaxParam   = 64
	// redactFingerprintLen is the length of token.fingerprint values.
	redactFingerprintLen = 32
)

// redactParamFlags returns how a query parameter or free-text name (raw,
// any case, '_' and '-' ignored) is redacted; 0 when it is not. The
// default sensitive names (redactWords) apply, plus a few that are
// sensitive only as parameters (OAuth's code, the semantic conventions'
// list for url.query).
func (r *Redactor) redactParamFlags(name []byte) uint8 {
	if r.params != nil {
		var buf [redactMaxParam]byte
		if n := redactSquash(&buf, name); n > 0 {
			if f := r.params[string(buf[:n])]; f != 0 {
				return f
			}
		}
	}
	switch redactNameClass(name) {
	case redactScheme:
		return redactParamQuery | redactParamText | redactParamAuth
	case redactFull:
		if redactHasSuffixFold(name, "cookie") || redactHasSuffixFold(name, "cookies") {
			return redactParamQuery | redactParamText | redactParamLine
		}
		return redactParamQuery | redactParamText
	}
	var buf [redactMaxParam]byte
	switch string(buf[:redactSquash(&buf, name)]) {
	case "awsaccesskeyid":
		return redactParamQuery | redactParamText
	case "code", "sig": // too common as words in free text: queries only
		return redactParamQuery
	}
	return 0
}

// redactSquash lowercases name into buf without '_' and '-'; 0 when it
// does not fit.
func redactSquash[T string | []byte](buf *[redactMaxParam]byte, name T) int {
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == '-' {
			continue
		}
		if n == len(buf) {
			return 0
		}
		buf[n] = redactLower(c)
		n++
	}
	return n
}

// Trigger bytes of the value rules.
var redactTrigger = [256]bool{
	' ': true, '\t': true, // Bearer / Basic / Digest ... credentials
	'=': true, ':': true, // name=value, name: value
	'%': true,                       // %3D: name=value in an encoded URL
	'@': true,                       // URL userinfo
	'J': true,                       // eyJ (JWT)
	'A': true, '_': true, '-': true, // key formats, PEM
}

// redactSpan is a part of a string to replace: s[start:end] by
// redactRepl[repl]. It holds no pointer, so a scanner with many spans
// costs the collector nothing to scan.
type redactSpan struct {
	start, end int32
	repl       uint8
}

const (
	redactReplMarker   uint8 = iota // Redacted
	redactReplUserinfo              // Redacted:Redacted
)

var redactRepl = [...]string{redactReplMarker: Redacted, redactReplUserinfo: Redacted + ":" + Redacted}

// redactScanner collects the spans to replace. Its small array keeps the
// common cases off the heap.
type redactScanner struct {
	spans [8]redactSpan
	more  []redactSpan
	n     int
}

func (sc *redactScanner) add(start, end int, repl uint8, s string) {
	if sc == nil || start >= end || s[start:end] == redactRepl[repl] {
		return
	}
	sp := redactSpan{int32(start), int32(end), repl}
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

// redactString applies the rules of class c to s. ascii reports that the
// result is known to be ASCII (so valid UTF-8) without another look;
// changed that it differs from s.
func (r *Redactor) redactString(c redactClass, key, s string) (out string, ascii, changed bool) {
	switch c {
	case redactFull:
		if s == "" || s == Redacted {
			return s, true, false
		}
		return Redacted, true, true
	case redactScheme:
		out = redactSchemeValue(s) // a plain-token scheme and the marker
		return out, true, out != s
	case redactOwnHex, redactOwnEnum:
		if c == redactOwnHex && redactIsHex(s) || c == redactOwnEnum && redactIsEnum(s) {
			out, changed = r.redactPatterns(s) // an operator's rule applies to our keys too
			return out, true, changed
		}
		return Redacted, true, s != Redacted
	}
	return r.redactText(s, c == redactQuery)
}

// redactPatterns applies the operator's WithValuePatterns to s.
func (r *Redactor) redactPatterns(s string) (string, bool) {
	if len(r.patterns) == 0 {
		return s, false
	}
	out := s
	for i, re := range r.patterns {
		if p := r.prefixes[i]; p != "" && !strings.Contains(out, p) {
			continue
		}
		out = re.ReplaceAllLiteralString(out, Redacted)
	}
	return out, out != s
}

// redactText applies the URL and value rules to free text. queryStart says
// that s itself is a query string (no leading '?'). ascii reports that s
// (and so the result: markers are ASCII) is ASCII.
func (r *Redactor) redactText(s string, queryStart bool) (out string, ascii, changed bool) {
	out = s
	// A first pass without a scanner finds where a rule fires, if any; most
	// strings stop here, having seen every byte.
	i, ascii := r.scan(nil, s, 0, queryStart)
	if i >= 0 {
		var sc redactScanner
		r.scan(&sc, s, i, queryStart)
		if sc.n > 0 {
			out, changed = sc.build(s), true
		}
	}
	if len(r.patterns) > 0 {
		var pc bool
		out, pc = r.redactPatterns(out)
		changed = changed || pc
	}
	return out, ascii, changed
}

// scan runs the rules from s[from:]. With a nil sc it stops at the first
// trigger where a rule fires and returns its index; otherwise it collects
// every span in sc. It returns -1 when no rule fired, and then whether
// s[from:] is ASCII.
func (r *Redactor) scan(sc *redactScanner, s string, from int, queryStart bool) (int, bool) {
	fired := -1
	var hi byte
	for i := from; i < len(s); i++ {
		c := s[i]
		hi |= c
		if !redactTrigger[c] {
			continue
		}
		end := -1
		switch c {
		case ' ', '\t':
			end = redactCredential(sc, s, i)
		case '=', ':':
			end = r.redactParam(sc, s, i, 1, queryStart)
		case '%':
			if i+2 < len(s) && s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd') {
				end = r.redactParam(sc, s, i, 3, queryStart) // %3D: '=' in an encoded URL
			}
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
			return fired, false
		}
		if end > i+1 {
			i = end - 1
		}
	}
	return fired, fired < 0 && hi < 0x80
}

// build returns s with the collected spans replaced; overlapping spans are
// merged and the earliest one's replacement is kept.
func (sc *redactScanner) build(s string) string {
	// Insertion sort by start: spans arrive in order of the scan, a format
	// rule's span starting at most a few bytes before the trigger, so each
	// moves back a few places at most and the sort stays linear.
	for i := 1; i < sc.n; i++ {
		for j := i; j > 0 && sc.at(j).start < sc.at(j-1).start; j-- {
			*sc.at(j), *sc.at(j - 1) = *sc.at(j - 1), *sc.at(j)
		}
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4) // markers may be longer than what they replace
	pos := int32(0)           // strings here are at most the value bound plus a window
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
		b.WriteString(redactRepl[sp.repl])
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
