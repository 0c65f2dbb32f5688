// Package jwstest holds test helpers shared by the validator adapters.
package jwstest

import "strings"

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Spellings returns other spellings of the compact token tok that a
// lenient base64url decoder reads as the same bytes: the unused low bits
// of a segment's last character set, '=' padding, and line breaks or
// spaces inside a segment. Each is keyed by a description.
func Spellings(tok string) map[string]string {
	segs := strings.Split(tok, ".")
	out := map[string]string{}
	add := func(i int, what, seg string) {
		s := append([]string(nil), segs...)
		s[i] = seg
		out[[]string{"header", "payload", "signature"}[i]+": "+what] = strings.Join(s, ".")
	}
	for i, seg := range segs {
		unused := map[int]int{2: 4, 3: 2}[len(seg)%4]
		if unused > 0 {
			v := strings.IndexByte(b64url, seg[len(seg)-1])
			for bits := 1; bits < 1<<unused; bits++ {
				add(i, "low bits "+string(rune('0'+bits/10))+string(rune('0'+bits%10)),
					seg[:len(seg)-1]+string(b64url[v|bits]))
			}
			add(i, "padding", seg+strings.Repeat("=", 4-len(seg)%4))
		}
		for _, ws := range []string{"\n", "\r\n", " ", "\t"} {
			add(i, "whitespace "+strings.ReplaceAll(strings.ReplaceAll(ws, "\n", `\n`), "\r", `\r`),
				seg[:len(seg)/2]+ws+seg[len(seg)/2:])
		}
	}
	return out
}
