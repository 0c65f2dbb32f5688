package validatortest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/otelbearer/otelbearer"
)

// variant is a token derived from a valid JWS; "" skips it.
type variant struct {
	name string
	tok  func(seg [3]string) string
}

// jwsChecks are the groups of variants derived from a valid JWS, each
// to be refused with ErrTokenInvalid.
var jwsChecks = []struct {
	group    string
	variants []variant
}{
	{"tampered", []variant{
		{"signature", func(seg [3]string) string {
			if seg[2] == "" {
				return ""
			}
			c := byte('A')
			if seg[2][0] == 'A' {
				c = 'B'
			}
			return seg[0] + "." + seg[1] + "." + string(c) + seg[2][1:]
		}},
		{"payload", func(seg [3]string) string {
			p, ok := decodeJSON(seg[1])
			if !ok {
				return ""
			}
			p["sub"] = "validatortest-intruder"
			return seg[0] + "." + encodeJSON(p) + "." + seg[2]
		}},
	}},
	{"alg-none", []variant{
		{"empty-signature", func(seg [3]string) string { return withAlg(seg, "none", "") }},
		{"capitalised", func(seg [3]string) string { return withAlg(seg, "None", "") }},
		{"signature-kept", func(seg [3]string) string { return withAlg(seg, "none", seg[2]) }},
	}},
	{"non-canonical", []variant{
		{"padding", func(seg [3]string) string {
			for i, s := range seg {
				if len(s)%4 != 0 {
					seg[i] = s + strings.Repeat("=", 4-len(s)%4)
					return join(seg)
				}
			}
			return ""
		}},
		{"line-break", func(seg [3]string) string { return insertMid(seg, "\n") }},
		{"space", func(seg [3]string) string { return insertMid(seg, " ") }},
		{"unused-bits", func(seg [3]string) string {
			for i := 2; i >= 0; i-- {
				s := seg[i]
				if n := len(s) % 4; n == 2 || n == 3 {
					const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
					v := strings.IndexByte(alphabet, s[len(s)-1])
					if v < 0 {
						return ""
					}
					seg[i] = s[:len(s)-1] + string(alphabet[v|1]) // an unused bit set
					return join(seg)
				}
			}
			return ""
		}},
		{"standard-alphabet", func(seg [3]string) string {
			t := join(seg)
			if !strings.ContainsAny(t, "-_") {
				return ""
			}
			return strings.NewReplacer("-", "+", "_", "/").Replace(t)
		}},
	}},
}

// checkJWS runs the variant groups when the valid token is a JWS.
func (s *suite) checkJWS(r runner) {
	tok, ok := s.token(r, Valid, s.claims(time.Hour))
	if !ok {
		return
	}
	seg, ok := splitJWS(tok)
	if !ok {
		r.Skipf("the valid token is not a JWS in compact serialization")
		return
	}
	v := s.newValidator(r)
	if _, err := validate(r.Context(), v, tok); err != nil {
		r.Errorf("the valid token the variants derive from is refused: %v", err)
		return
	}
	for _, g := range jwsChecks {
		r.Run(g.group, func(r runner) {
			for _, vr := range g.variants {
				r.Run(vr.name, func(r runner) {
					bad := vr.tok(seg)
					if bad == "" {
						r.Skipf("does not apply to this token")
						return
					}
					s.refused(r, v, bad, otelbearer.ErrTokenInvalid)
				})
			}
		})
	}
}

// splitJWS splits a compact JWS whose header is a JSON object with alg.
func splitJWS(tok string) (seg [3]string, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return seg, false
	}
	h, ok := decodeJSON(parts[0])
	if !ok || h["alg"] == nil {
		return seg, false
	}
	return [3]string(parts), true
}

func decodeJSON(s string) (map[string]any, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m) == nil && m != nil
}

func encodeJSON(m map[string]any) string {
	b, _ := json.Marshal(m) // a map decoded from JSON encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func withAlg(seg [3]string, alg, sig string) string {
	h, _ := decodeJSON(seg[0])
	h["alg"] = alg
	return encodeJSON(h) + "." + seg[1] + "." + sig
}

func join(seg [3]string) string { return seg[0] + "." + seg[1] + "." + seg[2] }

// insertMid puts s in the middle of the payload segment.
func insertMid(seg [3]string, s string) string {
	p := seg[1]
	seg[1] = p[:len(p)/2] + s + p[len(p)/2:]
	return join(seg)
}
