package rtcbot

import (
	"image"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

// link describes a virtual network path for a test: one-way delay each
// way, and what befalls the packets on their way to the desktop: the share
// lost at random, runs lost in bursts, reordering, and the bandwidth (bits
// per second, 0 for no limit).
type link struct {
	delay       time.Duration
	lossPercent int
	burstLen    int     // with burstChance: runs of burstLen packets in a row are lost
	burstChance float64 // of a run starting, per packet not in one
	reorder     float64 // share of packets held back, delivered after the next reorderAfter (or reorderHold)
	rate        int
	video       VideoSettings // of both connections
}

// How far a reordered packet goes back: behind the next three packets, or
// 50 ms when fewer come by then: longer than a frame interval at 30 fps (a
// 320x240 frame is often one packet, so a packet held for less would
// rarely be overtaken), shorter than the receiver's reorder window at these
// round-trip times (reorderWait).
const (
	reorderAfter = 3
	reorderHold  = 50 * time.Millisecond
)

// vnetLink is a robot and a desktop connected by a link on pion's virtual
// network, and the link's parts a test looks at.
type vnetLink struct {
	robot, desktop ConnectionSettings
	bottleneck     *vnet.TBFQueue // the rate cap, nil without one; its rate can change mid-stream
	bursts         *burstLoss     // nil without burst loss
	reorder        *reorderNet    // the desktop's network, nil without reordering
}

// addBottleneck puts a rate cap of rate bits per second in front of nic,
// with half a second of queue, as Wi-Fi and mobile links have (packets
// beyond it are dropped), closed at the test's end. It returns the capped
// NIC and the cap, whose rate can change mid-stream.
func addBottleneck(t testing.TB, nic vnet.NIC, rate int) (vnet.NIC, *vnet.TBFQueue) {
	t.Helper()
	tbf := vnet.NewTBFQueue(rate, 10_000, int64(rate/8/2))
	q, err := vnet.NewQueue(nic, tbf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q, tbf
}

// newVNetLink returns the settings of a robot and a desktop connected
// through pion's virtual network (no real network is used) with the link's
// delay, loss, reordering and rate. The network is stopped at the test's
// end.
func newVNetLink(t testing.TB, l link) vnetLink {
	t.Helper()
	const robotIP, desktopIP = "10.0.0.1", "10.0.0.2"
	// The router delays every packet itself: a vnet.DelayFilter can leave
	// the router's goroutine blocked when both stop.
	wan, err := newRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", MinDelay: l.delay, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	var vl vnetLink
	if l.burstLen > 0 {
		vl.bursts = newBurstLoss(net.ParseIP(desktopIP), l.burstLen, l.burstChance, uint64(l.burstLen))
		wan.AddChunkFilter(vl.bursts.filter)
	}
	add := func(ip string, lossPercent, rate int) *vnet.Net {
		n, err := newNet(&vnet.NetConfig{StaticIPs: []string{ip}})
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
			nic, vl.bottleneck = addBottleneck(t, nic, rate)
		}
		if err := wan.AddNet(nic); err != nil {
			t.Fatal(err)
		}
		return n
	}
	robotNet, desktopNet := add(robotIP, 0, 0), add(desktopIP, l.lossPercent, l.rate)
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wan.Stop() })
	settings := func(n transport.Net) ConnectionSettings {
		return ConnectionSettings{Net: n, DisableMDNS: true, Video: l.video}
	}
	vl.robot, vl.desktop = settings(robotNet), settings(desktopNet)
	if l.reorder > 0 {
		// Last on the way, as the desktop's sockets read.
		vl.reorder = &reorderNet{Net: desktopNet, chance: l.reorder, after: reorderAfter, hold: reorderHold, seed: 1}
		vl.desktop.Net = vl.reorder
	}
	return vl
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

// A robot streams 320x240 video to a desktop over each of the bad links of
// issue 9 (50 ms round trip): random loss, losses in bursts, reordering,
// and a bandwidth cap, fixed or dropping and recovering. The strong check,
// in every one: every frame the desktop is given is the picture the robot
// drew for it (no frame decoded against a reference it lost), and frames
// keep coming. Then, by link, what should have happened: holes repaired by
// retransmission with few keyframe requests under loss, reordered packets
// put back in order, the bitrate brought under the cap.
func TestVideoOverBadLinks(t *testing.T) {
	const delay = 25 * time.Millisecond // each way
	type check int
	const (
		lossy     check = iota // holes are NACKed and repaired; keyframe requests stay rare
		reordered              // reordered packets are put back; keyframe requests stay rare
		capped                 // the bitrate at the end is under the cap
		recovered              // the bitrate went under the lower cap, the queue drained once it lifted
	)
	scenarios := []struct {
		name   string
		codecs []string
		check  check
		sc     linkScenario
	}{
		{"2% loss", []string{codecVP8, codecH264}, lossy, linkScenario{link: link{lossPercent: 2}}},
		{"5% loss", []string{codecVP8, codecH264}, lossy, linkScenario{link: link{lossPercent: 5}}},
		{"10% loss", []string{codecVP8, codecH264}, lossy, linkScenario{link: link{lossPercent: 10}}},
		// About one burst a second at this size.
		{"bursts of 10 lost", []string{codecVP8, codecH264}, lossy, linkScenario{link: link{burstLen: 10, burstChance: 0.01}}},
		{"reordering", []string{codecVP8, codecH264}, reordered, linkScenario{link: link{reorder: 0.1}}},
		// Asked for twice the cap, so that the cap binds; 8 s, as
		// congestion control still probes above the cap in the last
		// quarter of a 5 s run (1052 kbit/s over 1 Mbit/s once in 25
		// runs).
		{"1 Mbit/s", []string{codecVP8}, capped, linkScenario{link: link{rate: 1_000_000, video: VideoSettings{MaxBitrate: 2_000_000}}, duration: 8 * time.Second}},
		{"300 kbit/s", []string{codecVP8}, capped, linkScenario{link: link{rate: 300_000, video: VideoSettings{MaxBitrate: 600_000}}, duration: 8 * time.Second}},
		// Three seconds under the lower cap: congestion control takes about
		// one to follow it down.
		{"3 Mbit/s, 500 kbit/s and back", []string{codecVP8}, recovered, linkScenario{
			link:       link{rate: 3_000_000, video: VideoSettings{MaxBitrate: 3_000_000}},
			rateChange: 500_000, changeAt: 1500 * time.Millisecond, recoverAt: 4500 * time.Millisecond, duration: 6 * time.Second}},
	}
	for _, s := range scenarios {
		for _, codec := range s.codecs {
			t.Run(codec+"/"+s.name, func(t *testing.T) {
				// Two at a time on two cores (the default -parallel): each
				// needs little CPU at this size.
				t.Parallel()
				sc := s.sc
				sc.link.delay, sc.link.video.Codec = delay, codec
				sc.width, sc.height = 320, 240
				if sc.duration == 0 {
					sc.duration = 5 * time.Second
				}
				r := runLinkScenario(t, sc)
				t.Logf("%v; %v", r, r.stats)
				if r.bad > 0 {
					t.Errorf("%d frames unlike the picture drawn (decoded against a lost reference)", r.bad)
				}
				// Frames keep coming: at least a fifth of them, as a busy
				// machine may capture fewer (a stall, waiting for a keyframe
				// that never comes, gives almost none).
				if r.fps < 30/5 {
					t.Errorf("%.1f fps delivered at 30 fps sent, want at least a fifth", r.fps)
				}
				// Keyframe requests: two a second at most (a hole that
				// could not be repaired, or a keyframe lost on its way).
				maxKeyframes := 2 * uint64(sc.duration/time.Second)
				switch s.check {
				case lossy:
					if sc.link.burstLen > 0 && r.bursts == 0 {
						t.Fatalf("the link lost no burst: the scenario tests nothing")
					}
					if r.stats.PacketsRepaired == 0 || r.stats.NACKsSent == 0 {
						t.Errorf("%d packets repaired, %d NACKs sent: retransmissions are not used", r.stats.PacketsRepaired, r.stats.NACKsSent)
					}
					if r.keyframes > maxKeyframes {
						t.Errorf("%d keyframe requests in %v, want at most %d: holes should be repaired, not refreshed", r.keyframes, sc.duration, maxKeyframes)
					}
				case reordered:
					if r.reordered == 0 {
						t.Fatalf("the link reordered no packet: the scenario tests nothing")
					}
					if r.stats.PacketsRepaired == 0 {
						t.Errorf("no packet repaired of %d delivered late: reordered packets are dropped", r.reordered)
					}
					// Nothing is lost, yet one request comes at the start:
					// the receiver's reorder buffer begins at the first
					// packet it sees, so a first packet overtaken by the
					// next is dropped as late and the first keyframe is
					// incomplete (none comes when the link only reorders
					// after the first 1.5 s). Any other would come from a
					// packet the reorder window gave up on.
					if r.keyframes > 1 {
						t.Errorf("%d keyframe requests with nothing lost, want at most 1", r.keyframes)
					}
				case capped:
					// Under the cap, within 15%: congestion control cycles
					// between overshooting (the queue grows) and backing
					// off, and the last quarter of the run may catch an
					// overshoot, the link's queue absorbing it: 271 to
					// 331 kbit/s over 300 kbit/s in 9 runs under -race
					// (331 failed the 10% this allowed before). A sender
					// that ignored the cap would be far above it.
					if limit := sc.link.rate; r.sentKbps == 0 || r.sentKbps >= 1.15*float64(limit)/1000 {
						t.Errorf("sent %.0f kbit/s at the end over a %d kbit/s link, want under it (within 15%%)", r.sentKbps, limit/1000)
					}
				case recovered:
					if limit := sc.rateChange; r.lowKbps == 0 || r.lowKbps >= float64(limit)/1000 {
						t.Errorf("sent %.0f kbit/s in the second before the cap lifted, over a %d kbit/s link", r.lowKbps, limit/1000)
					}
					// The queue the lower cap built drains once it lifts:
					// the latency comes back to that of the link. A queue
					// left standing delays every frame, so the median of
					// the last second is checked: a loaded machine's stall
					// delays a frame or two (280 ms once, in a full -race
					// run beside a build).
					if calm := sc.link.delay + 100*time.Millisecond; r.tailMedian > calm {
						t.Errorf("median latency %v in the last second (worst %v), want at most %v once the cap lifted", r.tailMedian, r.tailWorst, calm)
					}
				}
			})
		}
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
	if r.fps < 30/5 { // as in TestVideoOverBadLinks
		t.Errorf("%.1f fps delivered at 30 fps sent, want at least a fifth", r.fps)
	}
}
