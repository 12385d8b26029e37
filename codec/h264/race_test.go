//go:build race

package h264_test

// raceEnabled: the test binary is built with -race, so the programs the
// build test makes are too, and share its compiled packages.
const raceEnabled = true
