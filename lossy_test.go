package rtcbot

import (
	"image"
	"math"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// link describes a virtual network path for a test: one-way delay each
// way, and the share of packets lost and the bandwidth (bits per second, 0
// for no limit) on their way to the desktop.
type link struct {
	delay       time.Duration
	lossPercent int
	rate        int
	video       VideoSettings // of both connections
}

// newVNetPair returns the settings of a robot and a desktop connected
// through pion's virtual network (no real network is used) with the link's
// delay and loss. The network is stopped at the test's end.
func newVNetPair(t *testing.T, l link) (robot, desktop ConnectionSettings) {
	t.Helper()
	// The router delays every packet itself: a vnet.DelayFilter can leave
	// the router's goroutine blocked when both stop.
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", MinDelay: l.delay, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	add := func(ip string, lossPercent, rate int) *vnet.Net {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		var nic vnet.NIC = n
		if lossPercent > 0 {
			lf, err := vnet.NewLossFilter(nic, lossPercent, vnet.WithLossSeed(int64(lossPercent)))
			if err != nil {
				t.Fatal(err)
			}
			nic = lf
		}
		if rate > 0 {
			// A bottleneck with half a second of queue, as Wi-Fi and mobile
			// links have: packets beyond it are dropped.
			q, err := vnet.NewQueue(nic, vnet.NewTBFQueue(rate, 10_000, int64(rate/8/2)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Close() })
			nic = q
		}
		if err := wan.AddNet(nic); err != nil {
			t.Fatal(err)
		}
		return n
	}
	robotNet, desktopNet := add("10.0.0.1", 0, 0), add("10.0.0.2", l.lossPercent, l.rate)
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wan.Stop() })
	settings := func(n *vnet.Net) ConnectionSettings {
		return ConnectionSettings{Net: n, DisableMDNS: true, Video: l.video}
	}
	return settings(robotNet), settings(desktopNet)
}

// lumaPSNR returns the peak signal-to-noise ratio of b's luma against a's,
// in dB (+Inf when they are equal).
func lumaPSNR(a, b *image.YCbCr) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var sum float64
	for y := range h {
		ra, rb := a.Y[y*a.YStride:y*a.YStride+w], b.Y[y*b.YStride:y*b.YStride+w]
		for x := range w {
			d := float64(ra[x]) - float64(rb[x])
			sum += d * d
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(w*h)))
}

// A robot streams over a link that loses 5% of the packets to the desktop,
// 50 ms round trip, in VP8 and in H.264. The strong check: every frame the
// desktop is given is the picture the robot drew for it (no frame decoded
// against a reference it lost), and frames keep coming, repaired by
// retransmission with few keyframe requests.
func TestVideoOverLossyLink(t *testing.T) {
	for _, codec := range []string{codecVP8, codecH264} {
		t.Run(codec, func(t *testing.T) { videoOverLossyLink(t, codec) })
	}
}

func videoOverLossyLink(t *testing.T, codec string) {
	const w, h, fps, minPSNR = 320, 240, 30, 25
	robotSettings, desktopSettings := newVNetPair(t, link{delay: 25 * time.Millisecond, lossPercent: 5, video: VideoSettings{Codec: codec}})
	cam := NewTestPatternCamera(CameraSettings{Width: w, Height: h, FPS: fps})
	defer cam.Close()
	robot, err := NewConnection(robotSettings)
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	if err := robot.Video().PutSubscription(cam); err != nil {
		t.Fatal(err)
	}
	desktop, err := NewConnection(desktopSettings)
	if err != nil {
		t.Fatal(err)
	}
	defer desktop.Close()
	frames := desktop.Video().SubscribeWith(NewQueue[image.Image](1000))
	connectPair(t, desktop, robot)

	pattern := timecode.NewPattern(w, h)
	const watch = 4 * time.Second
	ctx := mediaCtx(t)
	end := time.Now().Add(watch)
	delivered, worst := 0, math.Inf(1)
	var lastSeq uint32
	for time.Now().Before(end) {
		frame, err := frames.Get(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", delivered, err)
		}
		img := frame.(*image.YCbCr)
		stamp, err := timecode.Read(img)
		if err != nil {
			t.Fatalf("frame %d: no readable time code (a corrupted picture): %v", delivered, err)
		}
		if delivered > 0 && stamp.Seq <= lastSeq {
			t.Fatalf("frame %d after %d: out of order", stamp.Seq, lastSeq)
		}
		lastSeq = stamp.Seq
		want := pattern.Frame(stamp.Seq, time.UnixMilli(int64(stamp.CaptureMillis)))
		psnr := lumaPSNR(want, img)
		// A frame decoded against a lost reference is far off (the bars
		// move several pixels a frame); a keyframe sent after a loss may be
		// coarser than the frames before it, near 29 dB here.
		if psnr < minPSNR {
			t.Fatalf("frame %d: luma PSNR %.1f dB against the picture drawn, want at least %d", stamp.Seq, psnr, minPSNR)
		}
		worst = min(worst, psnr)
		delivered++
	}
	stats := desktop.LinkStats()
	repaired, plis := stats.PacketsRepaired, stats.KeyframeRequestsSent
	t.Logf("%d frames in %v (%.1f fps), worst luma PSNR %.1f dB; %v", delivered, watch, float64(delivered)/watch.Seconds(), worst, stats)
	if stats.NACKsSent == 0 || robot.LinkStats().NACKsReceived == 0 {
		t.Errorf("NACKs sent %d, received %d: want some on a lossy link", stats.NACKsSent, robot.LinkStats().NACKsReceived)
	}
	// Frames keep coming: at least a fifth of them, as a busy machine may
	// capture fewer (a stall, waiting for a keyframe that never comes,
	// gives almost none).
	if delivered < fps*int(watch/time.Second)/5 {
		t.Errorf("%d frames delivered in %v at %d fps sent, want at least a fifth", delivered, watch, fps)
	}
	if repaired == 0 {
		t.Error("no packet was repaired: retransmissions are not used")
	}
	if max := uint64(watch/time.Second) * 2; plis > max {
		t.Errorf("%d keyframe requests in %v, want at most %d: holes should be repaired, not refreshed", plis, watch, max)
	}
}

// checkFrames reads frames for d, checking each against the picture drawn
// for it (luma PSNR at least minPSNR), and returns how many came.
func checkFrames(t *testing.T, frames Subscription[image.Image], pattern *timecode.Pattern, d time.Duration) int {
	t.Helper()
	const minPSNR = 25
	ctx := mediaCtx(t)
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		frame, err := frames.Get(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", n, err)
		}
		img := frame.(*image.YCbCr)
		stamp, err := timecode.Read(img)
		if err != nil {
			t.Fatalf("no readable time code (a corrupted picture): %v", err)
		}
		want := pattern.Frame(stamp.Seq, time.UnixMilli(int64(stamp.CaptureMillis)))
		if psnr := lumaPSNR(want, img); psnr < minPSNR {
			t.Fatalf("frame %d: luma PSNR %.1f dB against the picture drawn, want at least %d", stamp.Seq, psnr, minPSNR)
		}
	}
	return n
}

// Over a 1 Mbit/s bottleneck, a robot asked for 2 Mbit/s of video ends
// below the cap, following the desktop's congestion feedback, and the
// desktop keeps getting correct frames.
func TestVideoFollowsBandwidth(t *testing.T) {
	const w, h, fps, limit = 640, 480, 30, 1_000_000
	robotSettings, desktopSettings := newVNetPair(t, link{delay: 20 * time.Millisecond, rate: limit, video: VideoSettings{Bitrate: 2 * limit}})
	cam := NewTestPatternCamera(CameraSettings{Width: w, Height: h, FPS: fps})
	defer cam.Close()
	robot, err := NewConnection(robotSettings)
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	if err := robot.Video().PutSubscription(cam); err != nil {
		t.Fatal(err)
	}
	desktop, err := NewConnection(desktopSettings)
	if err != nil {
		t.Fatal(err)
	}
	defer desktop.Close()
	frames := desktop.Video().SubscribeWith(NewQueue[image.Image](1000))
	connectPair(t, desktop, robot)
	if !robot.peerSendsTWCC() {
		t.Fatal("TWCC was not negotiated between two Go peers")
	}
	track := func() *outTrack[image.Image] {
		robot.video.mu.Lock()
		defer robot.video.mu.Unlock()
		return robot.video.slots[0].track
	}()

	pattern := timecode.NewPattern(w, h)
	settle := checkFrames(t, frames, pattern, 8*time.Second)
	before := track.bytesSent.Load()
	const measure = 3 * time.Second
	last := checkFrames(t, frames, pattern, measure)
	sent := float64(track.bytesSent.Load()-before) * 8 / measure.Seconds()
	t.Logf("frames: %d while settling, %d in the last %v; sent %.0f kbit/s over a %d kbit/s link; encoder target %d kbit/s",
		settle, last, measure, sent/1000, limit/1000, track.target.Load()/1000)
	t.Logf("robot: %v", robot.LinkStats())
	t.Logf("desktop: %v", desktop.LinkStats())
	if sent >= limit {
		t.Errorf("sent %.0f kbit/s over a %d kbit/s link", sent/1000, limit/1000)
	}
	// The estimate may sit above what the encoder sends (the link is not
	// filled), but it came down from the 2 Mbit/s asked for.
	if target := track.target.Load(); target == 0 || target >= 2*limit {
		t.Errorf("encoder target %d bit/s, want below the %d bit/s asked for", target, 2*limit)
	}
	if last < fps*int(measure/time.Second)/5 { // as in TestVideoOverLossyLink
		t.Errorf("%d frames in %v at %d fps, want at least a fifth", last, measure, fps)
	}
}
