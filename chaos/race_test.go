//go:build race

package main

// raceEnabled: the test binary runs with the race detector, so the chaos
// binary it builds does too (the dependencies' race builds are cached).
const raceEnabled = true
