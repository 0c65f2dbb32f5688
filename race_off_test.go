//go:build !race

package otelbearer

const raceEnabled = false
