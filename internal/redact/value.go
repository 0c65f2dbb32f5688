package redact

import "strings"

// Value rules. One pass over the string looks only at a few trigger bytes;
// at each, a cheap check decides whether a rule applies there, and only
// then is a span of the string marked for replacement. A string with no
// trigger that passes its checks costs a table scan and no allocation.

const (
	paramQuery uint8 = 1 << iota // redact as a URL query / form parameter
	paramText                    // redact as name=value or name: value in free text
	paramAuth                    // authorization-like: keep the scheme
	paramLine                    // the value runs to the end of the line (cookies)
	maxParam   = 64
)

// paramFlags returns how a query parameter or free-text name (raw,
// any case, '_' and '-' ignored) is redacted; 0 when it is not. The
// default sensitive names (keyWords) apply, plus a few that are
// sensitive only as parameters (OAuth's code, the semantic conventions'
// list for url.query).
func (r *Redactor) paramFlags(name []byte) uint8 {
	if r.params != nil {
		var buf [maxParam]byte
		if n := squash(&buf, name); n > 0 {
			if f := r.params[string(buf[:n])]; f != 0 {
				return f
			}
		}
	}
	switch nameClass(name) {
	case classScheme:
		return paramQuery | paramText | paramAuth
	case classFull:
		if hasSuffixFold(name, "cookie") || hasSuffixFold(name, "cookies") {
			return paramQuery | paramText | paramLine
		}
		return paramQuery | paramText
	}
	var buf [maxParam]byte
	switch string(buf[:squash(&buf, name)]) {
	case "awsaccesskeyid":
		return paramQuery | paramText
	case "code", "sig": // too common as words in free text: queries only
		return paramQuery
	}
	return 0
}

// squash lowercases name into buf without '_' and '-'; 0 when it
// does not fit.
func squash[T string | []byte](buf *[maxParam]byte, name T) int {
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == '-' {
			continue
		}
		if n == len(buf) {
			return 0
		}
		buf[n] = toLower(c)
		n++
	}
	return n
}

// Trigger bytes of the value rules.
var triggerByte = [256]bool{
	' ': true, '\t': true, // Bearer / Basic / Digest ... credentials
	'=': true, ':': true, // name=value, name: value
	'%': true,                       // %3D: name=value in an encoded URL
	'@': true,                       // URL userinfo
	'J': true,                       // eyJ (JWT)
	'A': true, '_': true, '-': true, // key formats, PEM
}

// replSpan is a part of a string to replace: s[start:end] by
// replText[repl]. It holds no pointer, so a scanner with many spans
// costs the collector nothing to scan.
type replSpan struct {
	start, end int32
	repl       uint8
}

const (
	replMarker   uint8 = iota // Redacted
	replUserinfo              // Redacted:Redacted
)

var replText = [...]string{replMarker: Redacted, replUserinfo: Redacted + ":" + Redacted}

// valueScanner collects the spans to replace. Its small array keeps the
// common cases off the heap.
type valueScanner struct {
	spans [8]replSpan
	more  []replSpan
	n     int
}

func (sc *valueScanner) add(start, end int, repl uint8, s string) {
	if sc == nil || start >= end || s[start:end] == replText[repl] {
		return
	}
	sp := replSpan{int32(start), int32(end), repl}
	if sc.n < len(sc.spans) {
		sc.spans[sc.n] = sp
	} else {
		sc.more = append(sc.more, sp)
	}
	sc.n++
}

func (sc *valueScanner) at(i int) *replSpan {
	if i < len(sc.spans) {
		return &sc.spans[i]
	}
	return &sc.more[i-len(sc.spans)]
}

// stringValue applies the rules of class c to s. ascii reports that the
// result is known to be ASCII (so valid UTF-8) without another look;
// changed that it differs from s.
func (r *Redactor) stringValue(c keyClass, key, s string) (out string, ascii, changed bool) {
	switch c {
	case classFull:
		if s == "" || s == Redacted {
			return s, true, false
		}
		return Redacted, true, true
	case classScheme:
		out = schemeValue(s) // a plain-token scheme and the marker
		return out, true, out != s
	case classOwnHex, classOwnEnum:
		if c == classOwnHex && isHex(s) || c == classOwnEnum && isEnum(s) {
			out, changed = r.applyPatterns(s) // an operator's rule applies to our keys too
			return out, true, changed
		}
		return Redacted, true, s != Redacted
	}
	return r.scanText(s, c == classQuery)
}

// applyPatterns applies the operator's WithValuePatterns to s.
func (r *Redactor) applyPatterns(s string) (string, bool) {
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

// scanText applies the URL and value rules to free text. queryStart says
// that s itself is a query string (no leading '?'). ascii reports that s
// (and so the result: markers are ASCII) is ASCII.
func (r *Redactor) scanText(s string, queryStart bool) (out string, ascii, changed bool) {
	out = s
	// A first pass without a scanner finds where a rule fires, if any; most
	// strings stop here, having seen every byte.
	i, ascii := r.scan(nil, s, 0, queryStart)
	if i >= 0 {
		var sc valueScanner
		r.scan(&sc, s, i, queryStart)
		if sc.n > 0 {
			out, changed = sc.build(s), true
		}
	}
	if len(r.patterns) > 0 {
		var pc bool
		out, pc = r.applyPatterns(out)
		changed = changed || pc
	}
	return out, ascii, changed
}

// scan runs the rules from s[from:]. With a nil sc it stops at the first
// trigger where a rule fires and returns its index; otherwise it collects
// every span in sc. It returns -1 when no rule fired, and then whether
// s[from:] is ASCII.
func (r *Redactor) scan(sc *valueScanner, s string, from int, queryStart bool) (int, bool) {
	fired := -1
	var hi byte
	for i := from; i < len(s); i++ {
		c := s[i]
		hi |= c
		if !triggerByte[c] {
			continue
		}
		end := -1
		switch c {
		case ' ', '\t':
			end = scanCredential(sc, s, i)
		case '=', ':':
			end = r.scanParam(sc, s, i, 1, queryStart)
		case '%':
			if i+2 < len(s) && s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd') {
				end = r.scanParam(sc, s, i, 3, queryStart) // %3D: '=' in an encoded URL
			}
		case '@':
			end = scanUserinfo(sc, s, i)
		default:
			end = scanFormat(sc, s, i)
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
func (sc *valueScanner) build(s string) string {
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
		b.WriteString(replText[sp.repl])
		pos = sp.end
	}
	b.WriteString(s[pos:])
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
