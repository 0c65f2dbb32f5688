// Package claimset holds what the validator adapters (jwtvalidator,
// oidcvalidator) share: the start of Validate (a token in canonical
// compact form, [Precheck]), the algorithm list without "none"
// ([WithoutNone]), reading the scope claims ([Scopes]) and the end of
// Validate (the revocation check and the errors, [Finish]).
package claimset

import (
	"fmt"
	"strings"
)

// Scopes reads a scope claim: a space-separated string (RFC 8693 "scope")
// or an array of strings ("scp"). A missing or null claim is nil, nil.
func Scopes(name string, v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.Fields(v), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s has a non-string member", name)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("claim %s is neither a string nor an array", name)
}
