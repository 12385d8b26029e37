package rtcbot

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/browsertest"
)

// BenchmarkBrowserLatency measures capture-to-rendered latency from a robot
// to headless Chromium, read from the pixels: the robot streams the
// 640x480@30 test pattern, the page (rtcbot.js) reads each frame's time
// code in requestVideoFrameCallback, and after a second of warm-up the next
// 300 frames (10 s) are measured. It reports the latency to the frame's
// presentation (handed to the compositor: "rendered") as ms-median and
// ms-p99, to the browser's expected display time as display-ms-median and
// display-ms-p99, the frames per second shown, and the frames the browser's
// jitter buffer held on average (held-ms):
//
//	go test -run '^$' -bench BrowserLatency -benchtime 1x .
//
// Sub-benchmarks: VP8 (the defaults, zero playout delay asked),
// VP8-receiver-delay (VideoSettings.PlayoutDelay = ReceiverPlayoutDelay,
// the browser's own buffering, as with RTCBot) and H264.
func BenchmarkBrowserLatency(b *testing.B) {
	for _, bc := range []struct {
		name  string
		video VideoSettings
	}{
		{"VP8", VideoSettings{}},
		{"VP8-receiver-delay", VideoSettings{PlayoutDelay: ReceiverPlayoutDelay}},
		{"H264", VideoSettings{Codec: codecH264}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				m := measureBrowserVideo(b, bc.video, 30, 300)
				b.ReportMetric(m.presented.median, "ms-median")
				b.ReportMetric(m.presented.p99, "ms-p99")
				b.ReportMetric(m.displayed.median, "display-ms-median")
				b.ReportMetric(m.displayed.p99, "display-ms-p99")
				b.ReportMetric(m.fps, "fps")
				b.ReportMetric(m.heldMillis, "held-ms")
				b.Logf("%s: %s, %d frames, %d keyframes decoded", bc.name, m.stats.MimeType, m.stats.FramesDecoded, m.stats.KeyFramesDecoded)
			}
		})
	}
}

// browserVideoMeasure is what measureBrowserVideo found.
type browserVideoMeasure struct {
	presented, displayed latencySummary
	fps                  float64 // frames shown per second of capture
	heldMillis           float64 // mean time in the jitter buffer
	stats                browserVideoStats
}

// latencySummary is the median and 99th percentile of latencies, in ms.
type latencySummary struct{ median, p99 float64 }

func summarize(ms []float64) latencySummary {
	ms = slices.Sorted(slices.Values(ms))
	return latencySummary{median: ms[len(ms)/2], p99: ms[len(ms)*99/100]}
}

// measureBrowserVideo streams the 640x480 test pattern from a robot with
// the given video settings to Chromium, skips the first skip frames shown
// and measures the next n.
func measureBrowserVideo(tb testing.TB, video VideoSettings, skip, n int) browserVideoMeasure {
	tb.Helper()
	cam := NewTestPatternCamera(CameraSettings{Width: 640, Height: 480, FPS: 30})
	tb.Cleanup(func() { cam.Close() })
	settings := loopbackSettings()
	settings.Video = video
	conns := make(chan *Connection, 1)
	robot := browserRobot(tb, browserConn(tb, settings, conns, func(c *Connection) { c.Video().PutSubscription(cam) }))
	tab := openBrowserPage(tb, robot)
	browsertest.Eval[bool](tb, tab, watchVideoScript)
	start := time.Now()
	browsertest.WaitFor(tb, tab, "stamps.length >= "+strconv.Itoa(skip+n), strconv.Itoa(skip+n)+" frames")
	if time.Since(start) > browsertest.Timeout/2 {
		tb.Logf("slow: %d frames took %v", skip+n, time.Since(start))
	}
	stamps := browsertest.Eval[[]browserStamp](tb, tab, "stamps")[skip : skip+n]
	st := browsertest.Eval[browserVideoStats](tb, tab, inboundVideoStatsScript)
	var m browserVideoMeasure
	presented := make([]float64, n)
	displayed := make([]float64, n)
	for i, s := range stamps {
		presented[i], displayed[i] = s.Presented, s.Displayed
	}
	m.presented, m.displayed = summarize(presented), summarize(displayed)
	// Frames shown per second of the camera's 30 fps: the sequence numbers
	// span the capture time of the frames measured.
	if span := stamps[n-1].Seq - stamps[0].Seq; span > 0 {
		m.fps = 30 * float64(n-1) / float64(span)
	}
	if st.JitterBufferEmittedCount > 0 {
		m.heldMillis = 1000 * st.JitterBufferDelay / float64(st.JitterBufferEmittedCount)
	}
	m.stats = st
	return m
}
