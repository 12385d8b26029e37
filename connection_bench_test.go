package rtcbot

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkDataChannelRoundTrip measures a small JSON message sent on the
// default channel, echoed by the peer and received back, over loopback. It
// reports the median and 99th percentile round trip besides the mean.
func BenchmarkDataChannelRoundTrip(b *testing.B) {
	robot, desktop := newConn(b), newConn(b)
	echo := robot.SubscribeFunc(func(msg any) { robot.Put(msg) })
	defer echo.Close()
	replies := desktop.Subscribe()
	connectPair(b, desktop, robot)
	ctx := mediaCtx(b)
	msg := map[string]any{"timestamp": 1553379216.972892, "code": "ABS_X", "state": -4957, "event": "Absolute"}

	rtts := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		desktop.Put(msg)
		if _, err := replies.Get(ctx); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
}
