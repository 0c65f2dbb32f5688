//go:build !unix

package otelbearer

// cpuTime is unavailable here: benchmarks report ns/op only.
func cpuTime() (int64, bool) { return 0, false }
