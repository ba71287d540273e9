//go:build race

package memory

// raceEnabled skips what the race detector only slows down.
const raceEnabled = true
