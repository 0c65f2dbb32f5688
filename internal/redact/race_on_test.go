//go:build race

package redact

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts are not pinned under -race.
const raceEnabled = true
