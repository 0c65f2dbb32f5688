//go:build race

package otelbearer

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts are not pinned under -race.
const raceEnabled = true
