package rtcbot

import (
	"context"
	"fmt"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// linkScenario is a robot streaming its test pattern to a desktop over a
// virtual link for a while, optionally changing the link's rate midway,
// and optionally changing it back.
type linkScenario struct {
	name          string
	link          link
	width, height int
	duration      time.Duration
	rateChange    int           // new bottleneck rate, bits per second, 0 for none
	changeAt      time.Duration // when the rate changes
	recoverAt     time.Duration // when it goes back to link.rate, 0 for never
}

// linkResult is what the desktop saw.
type linkResult struct {
	frames     int
	fps        float64
	freezes    int           // gaps between frames over 200 ms
	longestGap time.Duration // between two frames
	p50, p99   time.Duration // capture to decoded frame
	bad        int           // frames unlike the picture drawn: no readable time code, or luma PSNR under 15 dB
	coarse     int           // frames like it, but coarsely coded (luma PSNR 15 to 25 dB)
	smaller    int           // frames sent smaller than drawn, as the link carried too little
	unreadable int           // coarse frames whose time code did not read (like a picture drawn after the last read)
	settle     time.Duration // after the rate change, until latency stayed under the link delay + 100 ms for a second
	sentKbps   float64       // over the last quarter of the run
	lowKbps    float64       // with a recovery, over the second before it
	tailWorst  time.Duration // the worst latency over the last second
	tailMedian time.Duration // the median latency over the last second
	stats      LinkStats     // the desktop's
	keyframes  uint64        // requests the robot received
	bursts     uint64        // runs of packets the link lost in a row
	reordered  uint64        // packets the link delivered after later ones
}

func (r linkResult) String() string {
	return fmt.Sprintf("%.1f fps, %d freezes > 200 ms (longest gap %v), latency p50 %v p99 %v, %d bad frames, %d coarse, %d smaller, settle %v, sent %.0f kbit/s at the end, %d keyframe requests, %d bursts lost, %d packets reordered, worst latency in the last second %v (median %v), sent %.0f kbit/s before the recovery",
		r.fps, r.freezes, r.longestGap.Round(time.Millisecond), r.p50, r.p99, r.bad, r.coarse, r.smaller, r.settle.Round(100*time.Millisecond), r.sentKbps, r.keyframes, r.bursts, r.reordered,
		r.tailWorst, r.tailMedian, r.lowKbps)
}

// runLinkScenario runs sc with real connections, codecs and the test
// pattern on pion's virtual network.
func runLinkScenario(tb testing.TB, sc linkScenario) linkResult {
	tb.Helper()
	vl := newVNetLink(tb, sc.link)
	robotSettings, desktopSettings, bottleneck := vl.robot, vl.desktop, vl.bottleneck
	cam := NewTestPatternCamera(CameraSettings{Width: sc.width, Height: sc.height, FPS: 30})
	defer cam.Close()
	robot, err := NewConnection(robotSettings)
	if err != nil {
		tb.Fatal(err)
	}
	defer robot.Close()
	robot.Video().PutSubscription(cam)
	desktop, err := NewConnection(desktopSettings)
	if err != nil {
		tb.Fatal(err)
	}
	defer desktop.Close()
	frames := desktop.Video().SubscribeWith(NewQueue[image.Image](10000))
	connectPair(tb, desktop, robot)

	pattern := timecode.NewPattern(sc.width, sc.height)
	var res linkResult
	var latencies []time.Duration
	type sample struct {
		at      time.Duration
		latency time.Duration
	}
	var samples []sample
	start := time.Now()
	if sc.rateChange > 0 && bottleneck != nil {
		timer := time.AfterFunc(sc.changeAt, func() { bottleneck.SetRate(sc.rateChange) })
		defer timer.Stop()
		if sc.recoverAt > 0 {
			timer := time.AfterFunc(sc.recoverAt, func() { bottleneck.SetRate(sc.link.rate) })
			defer timer.Stop()
		}
	}
	var sentAt, lowAt, lowEnd time.Time
	var sentBefore, lowBefore, lowAfter uint64
	last := start
	var lastStamp timecode.Stamp // of the last frame read
	// With -v, a line a second: what the robot aims at and sends, and the
	// worst latency the desktop saw.
	var second struct {
		n      int
		frames int
		worst  time.Duration
	}
	trace := func(now time.Time) {
		if n := int(now.Sub(start) / time.Second); n > second.n {
			if testing.Verbose() {
				s := robot.LinkStats()
				tb.Logf("%2ds: target %4d kbit/s, sending %4d kbit/s (%3d resent, %d dropped), %2d frames, worst latency %v, rtt %v, %d keyframes sent",
					second.n+1, s.TargetBitrate/1000, s.SentBitrate/1000, s.ResentBitrate/1000, s.ResendsDropped, second.frames,
					second.worst.Round(time.Millisecond), s.RTT.Round(time.Millisecond), s.KeyframesSent)
			}
			second.n, second.frames, second.worst = n, 0, 0
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sc.duration)
	defer cancel()
	for time.Since(start) < sc.duration {
		if sentAt.IsZero() && time.Since(start) >= sc.duration*3/4 {
			sentAt, sentBefore = time.Now(), robot.LinkStats().VideoBytesSent
		}
		if sc.recoverAt > 0 && lowAt.IsZero() && time.Since(start) >= sc.recoverAt-time.Second {
			lowAt, lowBefore = time.Now(), robot.LinkStats().VideoBytesSent
		}
		if sc.recoverAt > 0 && lowEnd.IsZero() && time.Since(start) >= sc.recoverAt {
			lowEnd, lowAfter = time.Now(), robot.LinkStats().VideoBytesSent
		}
		frame, err := frames.Get(ctx)
		trace(time.Now())
		if ctx.Err() != nil {
			break // the video stalled: the figures say so
		}
		if err != nil {
			tb.Fatalf("after %d frames: %v", res.frames, err)
		}
		now := time.Now()
		img := frame.(*image.YCbCr)
		stamp, err := timecode.Read(img)
		if err != nil {
			// Coded coarsely enough, a time code's cell can read wrong.
			// Such a frame is still like one of the pictures drawn next;
			// a frame decoded against a lost reference is like none.
			if psnr := bestNextPSNR(pattern, lastStamp, img, sc.width); psnr >= 15 {
				res.coarse++
				res.unreadable++
				continue
			}
			res.bad++
			tb.Logf("bad frame at %v, %v: time code unreadable: %v", now.Sub(start).Round(time.Millisecond), img.Rect.Size(), err)
			continue
		}
		lastStamp = stamp
		// A frame decoded against a lost reference is far off (the bars
		// move several pixels a frame); one coded at a low bitrate is only
		// blurred.
		drawn := pattern.Frame(stamp.Seq, time.UnixMilli(int64(stamp.CaptureMillis)))
		if w := img.Rect.Dx(); w != sc.width { // degraded to a smaller picture
			res.smaller++
			drawn = downscale(drawn, sc.width/w, nil)
		}
		switch psnr := lumaPSNR(drawn, img); {
		case psnr < 15:
			res.bad++
			tb.Logf("bad frame at %v, %v: frame %d, luma PSNR %.1f dB", now.Sub(start).Round(time.Millisecond), img.Rect.Size(), stamp.Seq, psnr)
			continue
		case psnr < 25:
			res.coarse++
		}
		if gap := now.Sub(last); res.frames > 0 {
			res.longestGap = max(res.longestGap, gap)
			if gap > 200*time.Millisecond {
				res.freezes++
			}
		}
		last = now
		res.frames++
		latency := stamp.Latency(now)
		second.frames++
		second.worst = max(second.worst, latency)
		latencies = append(latencies, latency)
		samples = append(samples, sample{now.Sub(start), latency})
	}
	elapsed := min(time.Since(start), sc.duration)
	res.fps = float64(res.frames) / elapsed.Seconds()
	if tail := start.Add(elapsed).Sub(last); tail > 200*time.Millisecond { // a stall at the end
		res.freezes++
		res.longestGap = max(res.longestGap, tail)
	}
	if !sentAt.IsZero() {
		res.sentKbps = float64(robot.LinkStats().VideoBytesSent-sentBefore) * 8 / time.Since(sentAt).Seconds() / 1000
	}
	if !lowEnd.IsZero() {
		res.lowKbps = float64(lowAfter-lowBefore) * 8 / lowEnd.Sub(lowAt).Seconds() / 1000
	}
	var tail []time.Duration
	for _, s := range samples {
		if s.at >= elapsed-time.Second {
			res.tailWorst = max(res.tailWorst, s.latency)
			tail = append(tail, s.latency)
		}
	}
	if len(tail) > 0 {
		slices.Sort(tail)
		res.tailMedian = tail[len(tail)/2]
	}
	if n := len(latencies); n > 0 {
		slices.Sort(latencies)
		res.p50, res.p99 = latencies[n/2], latencies[n*99/100]
	}
	if sc.rateChange > 0 {
		// The first moment after the change from which latency stayed
		// within the link's delay + 100 ms for a second.
		res.settle = elapsed - sc.changeAt // not settled by the end
		var calm time.Duration = -1        // since when latency stayed low
		for _, s := range samples {
			if s.at < sc.changeAt {
				continue
			}
			if s.latency > sc.link.delay+100*time.Millisecond {
				calm = -1
				continue
			}
			if calm < 0 {
				calm = s.at
			}
			if s.at-calm >= time.Second {
				res.settle = calm - sc.changeAt
				break
			}
		}
	}
	res.stats = desktop.LinkStats()
	res.keyframes = robot.LinkStats().KeyframeRequestsReceived
	if vl.bursts != nil {
		res.bursts = vl.bursts.runs.Load()
	}
	if vl.reorder != nil {
		res.reordered = vl.reorder.overtaken.Load()
	}
	return res
}

// bestNextPSNR returns the best luma PSNR of img against the pictures
// drawn for the eight frames after last (a frame whose time code did not
// read), downscaled as img is.
func bestNextPSNR(pattern *timecode.Pattern, last timecode.Stamp, img *image.YCbCr, width int) float64 {
	best := 0.0
	for k := uint32(1); k <= 8; k++ {
		drawn := pattern.Frame(last.Seq+k, time.UnixMilli(int64(last.CaptureMillis)+int64(k)*1000/30))
		if w := img.Rect.Dx(); w != width && w > 0 {
			drawn = downscale(drawn, width/w, nil)
		}
		best = max(best, lumaPSNR(drawn, img))
	}
	return best
}

// linkScenarios are the links of the README's table: 640x480 at 30 fps, 100
// ms round trip unless said otherwise.
func linkScenarios(codec string) []linkScenario {
	v := VideoSettings{Codec: codec, MaxBitrate: 1_500_000}
	at := func(l link) link { l.video = v; return l }
	return []linkScenario{
		{name: "clean", link: at(link{delay: 50 * time.Millisecond})},
		{name: "2% loss", link: at(link{delay: 50 * time.Millisecond, lossPercent: 2})},
		{name: "5% loss", link: at(link{delay: 50 * time.Millisecond, lossPercent: 5})},
		{name: "10% loss", link: at(link{delay: 50 * time.Millisecond, lossPercent: 10})},
		{name: "1 Mbit/s", link: at(link{delay: 50 * time.Millisecond, rate: 1_000_000})},
		{name: "300 kbit/s", link: at(link{delay: 50 * time.Millisecond, rate: 300_000})},
		{name: "3 Mbit/s, 500 kbit/s and back", link: at(link{delay: 50 * time.Millisecond, rate: 3_000_000}),
			rateChange: 500_000, changeAt: 7 * time.Second, recoverAt: 13 * time.Second},
		// About a burst every 3 s at 1.5 Mbit/s (150 packets a second).
		{name: "bursts of 10 lost", link: at(link{delay: 50 * time.Millisecond, burstLen: 10, burstChance: 0.002})},
		{name: "reordering", link: at(link{delay: 50 * time.Millisecond, reorder: 0.05})},
	}
}

// BenchmarkLink measures video over the virtual links of linkScenarios,
// for the README: run with
//
//	go test -run '^$' -bench Link -benchtime 1x .
//
// Each scenario runs 20 s whatever b.N is; the figures are reported as
// metrics and logged.
func BenchmarkLink(b *testing.B) {
	for _, codec := range []string{codecVP8, codecH264} {
		for _, sc := range linkScenarios(codec) {
			sc.width, sc.height, sc.duration = 640, 480, 20*time.Second
			b.Run(codec+"/"+sc.name, func(b *testing.B) {
				var r linkResult
				for range b.N {
					r = runLinkScenario(b, sc)
				}
				b.ReportMetric(r.fps, "fps")
				b.ReportMetric(float64(r.freezes), "freezes")
				b.ReportMetric(float64(r.p99.Milliseconds()), "p99-ms")
				b.ReportMetric(float64(r.bad), "bad-frames")
				b.Logf("%s %s: %v", codec, sc.name, r)
			})
		}
	}
}
