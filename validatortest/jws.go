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
	{"non-canonical", nonCanonical()},
}

// nonCanonical are respellings of the payload and of the signature that
// lenient base64 decoders read as the same bytes. A library that
// verifies the signature over the header and payload as sent refuses a
// respelled payload by itself, but not a respelled signature; one that
// verifies over re-encoded segments (go-jose) accepts both.
func nonCanonical() []variant {
	respell := []struct {
		name string
		f    func(s string) string // "" when it does not apply to s
	}{
		{"padding", func(s string) string {
			if len(s)%4 == 0 {
				return ""
			}
			return s + strings.Repeat("=", 4-len(s)%4)
		}},
		{"line-break", func(s string) string { return s[:len(s)/2] + "\n" + s[len(s)/2:] }},
		{"space", func(s string) string { return s[:len(s)/2] + " " + s[len(s)/2:] }},
		{"unused-bits", func(s string) string {
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			if n := len(s) % 4; n != 2 && n != 3 {
				return ""
			}
			v := strings.IndexByte(alphabet, s[len(s)-1])
			if v < 0 {
				return ""
			}
			return s[:len(s)-1] + string(alphabet[v|1]) // an unused bit set
		}},
		{"standard-alphabet", func(s string) string {
			if !strings.ContainsAny(s, "-_") {
				return ""
			}
			return strings.NewReplacer("-", "+", "_", "/").Replace(s)
		}},
	}
	var out []variant
	for _, r := range respell {
		for i, part := range []string{"payload", "signature"} {
			out = append(out, variant{r.name + "-" + part, func(seg [3]string) string {
				if seg[i+1] == "" {
					return ""
				}
				if seg[i+1] = r.f(seg[i+1]); seg[i+1] == "" {
					return ""
				}
				return join(seg)
			}})
		}
	}
	return out
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
