//go:build !race

package h264_test

// raceEnabled: the test binary is built without -race.
const raceEnabled = false
