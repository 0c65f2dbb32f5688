//go:build !race

package logbridge_test

const raceEnabled = false
