package logbridge

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelbearer/otelbearer"
)

// str redacts one string found under key. Beyond the Redactor's own rules
// it applies the key rules to a camelCase key by its snake_case form
// (AccessToken and accessToken as access_token), and redacts the values
// of sensitive camelCase names in Go-syntax and key=value text
// ({AccessToken:… TokenType:Bearer}, "clientSecret":"…", apiKey=…), which
// is how %+v, errors and String methods print structs. A string with no
// ':' or '=' and a key without an inner capital costs nothing more.
func (s slogRedactor) str(key, v string) (string, bool) {
	out, changed := s.r.String(key, v)
	if !changed {
		if k, camel := snakeKey(key); camel && s.sensitive(k) {
			out, changed = s.r.String(k, v)
		}
	}
	if strings.IndexByte(out, ':') >= 0 || strings.IndexByte(out, '=') >= 0 {
		if red, ok := s.camelFields(out); ok {
			out, changed = red, true
		}
	}
	return out, changed
}

// sensitive reports whether key's rules replace a value whatever it is:
// a composite value under such a key is replaced as a whole.
func (s slogRedactor) sensitive(key string) bool {
	if key == "" {
		return false
	}
	const probe = "x"
	if _, ok := s.r.String(key, probe); ok {
		return true
	}
	if k, camel := snakeKey(key); camel {
		_, ok := s.r.String(k, probe)
		return ok
	}
	return false
}

// camelFields redacts the values of sensitive camelCase names followed by
// ':' or '=' in text. Lowercase names are the Redactor's own free-text
// rules; this adds the names only a camelCase-aware reading finds.
func (s slogRedactor) camelFields(text string) (string, bool) {
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); i++ {
		if c := text[i]; c != ':' && c != '=' {
			continue
		}
		end := i
		quoted := end > 0 && text[end-1] == '"'
		if quoted {
			end--
		}
		start := end
		for start > 0 && identByte(text[start-1]) {
			start--
		}
		if start == end || start < last || !innerUpper(text[start:end]) {
			continue
		}
		if quoted && (start == 0 || text[start-1] != '"') {
			continue
		}
		k, _ := snakeKey(text[start:end])
		if !s.sensitive(k) {
			continue
		}
		vs := i + 1
		if quoted {
			for vs < len(text) && text[vs] == ' ' {
				vs++
			}
		}
		ve := valueEnd(text, vs)
		if ve <= vs || text[vs:ve] == otelbearer.Redacted || text[vs:ve] == `"`+otelbearer.Redacted+`"` {
			continue
		}
		b.WriteString(text[last:vs])
		if text[vs] == '"' {
			b.WriteString(`"` + otelbearer.Redacted + `"`)
		} else {
			b.WriteString(otelbearer.Redacted)
		}
		last = ve
		i = ve - 1
	}
	if last == 0 {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}

// valueEnd returns where the value starting at i ends: after a quoted
// string, else at the first separator after the bracket matching an
// opening one ({…}, &{…}, […], map[…]) or after i.
func valueEnd(s string, i int) int {
	if i >= len(s) {
		return i
	}
	if s[i] == '"' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(s)
	}
	j := i
	if s[j] == '&' {
		j++
	}
	if strings.HasPrefix(s[j:], "map[") {
		j += len("map")
	}
	if j < len(s) && (s[j] == '{' || s[j] == '[') {
		depth := 0
		for ; j < len(s); j++ {
			switch s[j] {
			case '{', '[', '(':
				depth++
			case '}', ']', ')':
				depth--
			}
			if depth == 0 {
				break
			}
		}
		i = min(j+1, len(s)) // then on to the next separator, as a second pass would
	}
	for j = i; j < len(s); j++ {
		switch s[j] {
		case ' ', ',', '}', ']', ')', '"', '&', ';', '\n', '\r', '\t':
			return j
		}
	}
	return len(s)
}

func identByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// innerUpper reports whether s has a capital letter after its first byte
// (a name the Redactor's case-insensitive rules may not split).
func innerUpper(s string) bool {
	for i := 1; i < len(s); i++ {
		if isUpper(s[i]) {
			return true
		}
	}
	return false
}

// snakeKeys caches the snake_case form of camelCase keys. It is replaced
// as a whole on insert (readers never lock) and stops growing at
// maxSnakeKeys entries: keys are a program's own small set, and a flood of
// distinct ones only costs them the conversion.
var (
	snakeKeys   atomic.Pointer[map[string]string]
	snakeKeysMu sync.Mutex
)

const maxSnakeKeys = 512

// snakeKey returns the snake_case form of a key with a capital after its
// first byte (AccessToken, accessToken → access_token; APIKey → api_key)
// and true, or false for any other key. Cached keys cost no allocation.
func snakeKey(key string) (string, bool) {
	if !innerUpper(key) {
		return "", false
	}
	if m := snakeKeys.Load(); m != nil {
		if k, ok := (*m)[key]; ok {
			return k, true
		}
	}
	k := toSnake(key)
	snakeKeysMu.Lock()
	defer snakeKeysMu.Unlock()
	old := snakeKeys.Load()
	if old != nil && len(*old) >= maxSnakeKeys {
		return k, true
	}
	m := make(map[string]string, 1+lenOf(old))
	if old != nil {
		for a, b := range *old {
			m[a] = b
		}
	}
	m[strings.Clone(key)] = k
	snakeKeys.Store(&m)
	return k, true
}

func lenOf(m *map[string]string) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// toSnake inserts '_' at the word boundaries of a camelCase name and
// lowercases it.
func toSnake(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			if i > 0 && (isLower(s[i-1]) || isUpper(s[i-1]) && i+1 < len(s) && 'a' <= s[i+1] && s[i+1] <= 'z') {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
