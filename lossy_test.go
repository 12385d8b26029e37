package rtcbot

import (
	"image"
	"math"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
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

// newVNetLink returns the settings of a robot and a desktop connected
// through pion's virtual network (no real network is used) with the link's
// delay, loss and rate, and the bottleneck's queue (nil without a rate),
// whose rate can change mid-stream. The network is stopped at the test's
// end.
func newVNetLink(t testing.TB, l link) (robot, desktop ConnectionSettings, bottleneck *vnet.TBFQueue) {
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
			bottleneck = vnet.NewTBFQueue(rate, 10_000, int64(rate/8/2))
			q, err := vnet.NewQueue(nic, bottleneck)
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
	return settings(robotNet), settings(desktopNet), bottleneck
}

// lumaPSNR returns the peak signal-to-noise ratio of b's luma against a's,
// in dB (+Inf when they are equal, 0 when their sizes differ).
func lumaPSNR(a, b *image.YCbCr) float64 {
	if a.Rect.Size() != b.Rect.Size() {
		return 0
	}
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
		t.Run(codec, func(t *testing.T) {
			const watch = 4 * time.Second
			r := runLinkScenario(t, linkScenario{
				link:  link{delay: 25 * time.Millisecond, lossPercent: 5, video: VideoSettings{Codec: codec}},
				width: 320, height: 240, duration: watch,
			})
			t.Logf("%v; %v", r, r.stats)
			if r.bad > 0 || r.coarse > 0 {
				t.Errorf("%d frames unlike the picture drawn (decoded against a lost reference), %d coarse", r.bad, r.coarse)
			}
			// Frames keep coming: at least a fifth of them, as a busy
			// machine may capture fewer (a stall, waiting for a keyframe
			// that never comes, gives almost none).
			if r.fps < 30/5 {
				t.Errorf("%.1f fps delivered at 30 fps sent, want at least a fifth", r.fps)
			}
			if r.stats.PacketsRepaired == 0 || r.stats.NACKsSent == 0 {
				t.Errorf("%d packets repaired, %d NACKs sent: retransmissions are not used", r.stats.PacketsRepaired, r.stats.NACKsSent)
			}
			if max := uint64(watch/time.Second) * 2; r.keyframes > max {
				t.Errorf("%d keyframe requests in %v, want at most %d: holes should be repaired, not refreshed", r.keyframes, watch, max)
			}
		})
	}
}

// Over a 1 Mbit/s bottleneck, a robot asked for 2 Mbit/s of video ends
// below the cap, following the desktop's congestion feedback, and the
// desktop keeps getting correct frames. Without congestion control the
// video stalls at its first keyframe.
func TestVideoFollowsBandwidth(t *testing.T) {
	const limit = 1_000_000
	r := runLinkScenario(t, linkScenario{
		link:  link{delay: 20 * time.Millisecond, rate: limit, video: VideoSettings{MaxBitrate: 2 * limit}},
		width: 640, height: 480, duration: 12 * time.Second,
	})
	t.Logf("%v; %v", r, r.stats)
	if r.sentKbps >= limit/1000 || r.sentKbps == 0 {
		t.Errorf("sent %.0f kbit/s at the end over a %d kbit/s link", r.sentKbps, limit/1000)
	}
	if r.bad > 0 {
		t.Errorf("%d frames unlike the picture drawn", r.bad)
	}
	if r.fps < 30/5 { // as in TestVideoOverLossyLink
		t.Errorf("%.1f fps delivered at 30 fps sent, want at least a fifth", r.fps)
	}
}
