//go:build linux

package otelbearer

import (
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// redactHostile are byte patterns that used to make a rule look far back
// or far ahead at every trigger. Each is repeated to the wanted size.
var redactHostile = []struct{ name, unit string }{
	{"at", "@"},
	{"percent", "%"},
	{"equals", "="},
	{"colon", ":"},
	{"bearer", "Bearer "},
	{"eyJ", "eyJ"},
	{"pem", "-----BEGIN"},
	{"userinfo", "a@b:"},
	{"scheme-userinfo", "x://a:"},
	{"long-userinfo", "x://" + strings.Repeat("u", 300) + "@"},
	{"encoded-eq", "a%3D"},
	{"encoded-name", "%5F"},
	{"name-eq", strings.Repeat("a", 70) + "="},
	{"quote", `"password":"`},
	{"digest", "Digest a="},
	{"digest-quote", `Digest a="`},
	{"basic-word", "basic "},
	{"header-line", "Cookie:"},
	{"mix", "@%=:Bearer eyJ-----BEGINa@b:%3D\"'[Digest x=,"},
}

func redactHostileInput(unit string, size int) string {
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// redactWide has bounds above the hostile inputs: the scan itself sees
// every byte (a default Redactor looks at only about 9 KiB of a value).
func redactWide(t testing.TB) *Redactor {
	return newTestRedactor(t, WithMaxValueBytes(4<<20), WithMaxRecordBytes(4<<20))
}

// TestRedactLinearTime fails when redacting a hostile string costs more
// than linear time with a small constant. For each pattern, interleaved
// best of several runs, in CPU time of the running thread, with the
// collector off (so neither a busy machine nor a GC cycle decides):
//
//   - 2 MiB must cost about four times 512 KiB, not sixteen (ratio < 8;
//     both beyond a core's cache, which would otherwise favour the small);
//   - 2 MiB must cost less than 200 times 2 MiB of text without a trigger byte, which
//     only the trigger table looks at (a rule looking back 1 KiB at every
//     byte costs about 1000 times).
func TestRedactLinearTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	r := redactWide(t)
	plain := redactHostileInput("abcdefgh/", 2<<20)
	for _, h := range redactHostile {
		t.Run(h.name, func(t *testing.T) {
			inputs := []string{redactHostileInput(h.unit, 512<<10), redactHostileInput(h.unit, 2<<20), plain}
			best := []time.Duration{math.MaxInt64, math.MaxInt64, math.MaxInt64}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range 5 {
				for i, s := range inputs {
					runtime.GC()
					start := threadCPU()
					r.String("user_agent.original", s)
					best[i] = min(best[i], threadCPU()-start)
				}
			}
			small, large, base := best[0], best[1], max(best[2], time.Microsecond)
			growth := float64(large) / float64(max(small, time.Microsecond))
			cost := float64(large) / float64(base)
			t.Logf("512KiB %v, 2MiB %v (x%.1f), plain 2MiB %v (x%.0f)", small, large, growth, base, cost)
			assert.Less(t, growth, 8.0, "superlinear")
			assert.Less(t, cost, 200.0, "linear with a large constant")
		})
	}
}

// threadCPU returns the CPU time the calling thread has used
// (CLOCK_THREAD_CPUTIME_ID, exact to the nanosecond). Time spent waiting
// for a CPU on a busy machine does not count.
func threadCPU() time.Duration {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// BenchmarkRedactHostile1MiB redacts 1 MiB of each hostile pattern: "wide"
// with bounds above 1 MiB (the scan sees every byte), "default" with the
// default bounds (the value is cut at 8 KiB after redaction).
func BenchmarkRedactHostile1MiB(b *testing.B) {
	for _, cfg := range []struct {
		name string
		r    *Redactor
	}{{"wide", redactWide(b)}, {"default", newTestRedactor(b)}} {
		for _, h := range append(redactHostile, struct{ name, unit string }{"plain", "abcdefgh/"}) {
			s := redactHostileInput(h.unit, 1<<20)
			b.Run(cfg.name+"/"+h.name, func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					cfg.r.String("user_agent.original", s)
				}
			})
		}
	}
}
