package otelbearer

import (
	"net/http"
	"path"
	"reflect"
	"strings"
)

// redirectType is the type of the handlers a ServeMux makes to redirect a
// request to its canonical path.
var redirectType = reflect.TypeOf(http.RedirectHandler("/", http.StatusTemporaryRedirect))

// publicMatcher returns how the middleware in front of next decides that a
// request is public (see [WithTokenOptionalPaths]), or nil when nothing is public.
func (c *config) publicMatcher(next http.Handler) func(*http.Request) bool {
	var paths func(*http.Request) bool
	if len(c.publicPaths) > 0 {
		set := c.publicPaths
		if mux, ok := next.(*http.ServeMux); ok {
			paths = func(r *http.Request) bool { return muxPublic(mux, set, r) }
		} else {
			paths = func(r *http.Request) bool {
				_, ok := set[r.URL.EscapedPath()]
				return ok
			}
		}
	}
	switch fn := c.public; {
	case paths == nil:
		return fn
	case fn == nil:
		return paths
	default:
		return func(r *http.Request) bool { return paths(r) || fn(r) }
	}
}

// muxPublic reports whether mux dispatches r to a public pattern. A
// redirect the mux makes itself (to the cleaned path, or to the path with a
// trailing slash) is not public: the pattern it names is that of the
// redirect's target, not of the handler that answers this request.
func muxPublic(mux *http.ServeMux, set map[string]struct{}, r *http.Request) bool {
	h, pattern := mux.Handler(r)
	if pattern == "" {
		return false // not found, method not allowed
	}
	p := patternPath(pattern)
	_, full := set[pattern]
	_, bare := set[p]
	if !full && !bare {
		return false
	}
	if h != nil && reflect.TypeOf(h) == redirectType {
		escaped := r.URL.EscapedPath()
		if r.Method != http.MethodConnect && cleanPath(escaped) != escaped {
			return false
		}
		if !strings.HasSuffix(escaped, "/") && (strings.HasSuffix(p, "/") || strings.HasSuffix(p, "...}") || strings.HasSuffix(p, "{$}")) {
			return false
		}
	}
	return true
}

// patternPath returns the path of a ServeMux pattern "[METHOD ][HOST]/PATH".
func patternPath(pattern string) string {
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return pattern
}

// cleanPath is the canonical path a ServeMux redirects to: rooted, without
// dot segments or double slashes, with its trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			return p
		}
		np += "/"
	}
	return np
}
