package rtcbot

import (
	"image"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// viewerNets returns the settings of a robot and of two viewers on pion's
// virtual network, 20 ms from the robot each way; the second viewer's link
// from the robot is capped at slowRate bits per second (half a second of
// queue).
func viewerNets(t *testing.T, video VideoSettings, slowRate int) (robot, fast, slow ConnectionSettings) {
	t.Helper()
	wan, err := newRouter(&vnet.RouterConfig{CIDR: "10.0.1.0/24", MinDelay: 20 * time.Millisecond, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	add := func(ip string, rate int) ConnectionSettings {
		n, err := newNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		var nic vnet.NIC = n
		if rate > 0 {
			nic, _ = addBottleneck(t, nic, rate)
		}
		if err := wan.AddNet(nic); err != nil {
			t.Fatal(err)
		}
		return ConnectionSettings{Net: n, DisableMDNS: true, Video: video}
	}
	robot, fast, slow = add("10.0.1.1", 0), add("10.0.1.2", 0), add("10.0.1.3", slowRate)
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wan.Stop() })
	return robot, fast, slow
}

// viewerFrames counts what a viewer was given: frames, those unlike the
// picture drawn, and those smaller than drawn.
type viewerFrames struct{ frames, bad, smaller atomic.Int64 }

func watchViewer(t *testing.T, v *MediaStream[image.Image], width, height int) *viewerFrames {
	pattern := timecode.NewPattern(width, height)
	f := &viewerFrames{}
	v.SubscribeFunc(func(frame image.Image) {
		img := frame.(*image.YCbCr)
		stamp, err := timecode.Read(img)
		if err != nil {
			f.bad.Add(1)
			return
		}
		drawn := pattern.Frame(stamp.Seq, time.UnixMilli(int64(stamp.CaptureMillis)))
		if w := img.Rect.Dx(); w != width {
			f.smaller.Add(1)
			drawn = downscale(drawn, width/w, nil)
		}
		if lumaPSNR(drawn, img) < 15 {
			f.bad.Add(1)
			return
		}
		f.frames.Add(1)
	})
	return f
}

// One camera, two viewers, one encoder. With the slow viewer's link above
// the floor, the encoder follows it: the fast viewer is sent no more than
// the slow link carries. With the slow link below the floor, the encoder
// stays at the floor for the fast viewer, at full size and full frame
// rate, and the slow viewer loses what does not fit: it gets few frames
// (two a second, here), each correct (repaired, or after a keyframe), never
// a corrupted one, and its keyframe requests stay rare.
func TestSharedEncoderFollowsSlowestViewer(t *testing.T) {
	const width, height = 320, 240
	for _, tc := range []struct {
		name     string
		slowRate int
	}{
		{"slow link above the floor", 350_000},
		{"slow link below the floor", 130_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			video := VideoSettings{MaxBitrate: 800_000, MinBitrate: 200_000, StartBitrate: 300_000}
			robotNet, fastNet, slowNet := viewerNets(t, video, tc.slowRate)
			cam := NewTestPatternCamera(CameraSettings{Width: width, Height: height, FPS: 30})
			defer cam.Close()
			var robots [2]*Connection
			var seen [2]*viewerFrames
			for i, viewerNet := range []ConnectionSettings{fastNet, slowNet} {
				robot, err := NewConnection(robotNet)
				if err != nil {
					t.Fatal(err)
				}
				defer robot.Close()
				robot.Video().PutSubscription(cam)
				viewer, err := NewConnection(viewerNet)
				if err != nil {
					t.Fatal(err)
				}
				defer viewer.Close()
				seen[i] = watchViewer(t, viewer.Video(), width, height)
				connectPair(t, viewer, robot)
				robots[i] = robot
			}
			// Long enough for congestion control to find the slow link and
			// the queue it filled to drain.
			const watch = 10 * time.Second
			time.Sleep(watch) // a span to watch, not a wait for an event
			fast, slow := robots[0].LinkStats(), robots[1].LinkStats()
			t.Logf("fast viewer: %d frames (%d bad, %d smaller), robot %v", seen[0].frames.Load(), seen[0].bad.Load(), seen[0].smaller.Load(), fast)
			t.Logf("slow viewer: %d frames (%d bad, %d smaller), robot %v", seen[1].frames.Load(), seen[1].bad.Load(), seen[1].smaller.Load(), slow)
			for i, f := range seen {
				if f.bad.Load() != 0 {
					t.Errorf("viewer %d got %d frames unlike the picture drawn", i, f.bad.Load())
				}
				// Two thirds of the frames sent, allowing for a busy machine;
				// a viewer that cannot keep up gets what fits: some frames,
				// each after a keyframe or a repair.
				want := int64(watch/time.Second) * 30 * 2 / 3
				if i == 1 && tc.slowRate < video.MinBitrate {
					want = 10
				}
				if f.frames.Load() < want {
					t.Errorf("viewer %d got %d frames in %v, want at least %d", i, f.frames.Load(), watch, want)
				}
				if f.smaller.Load() != 0 {
					t.Errorf("viewer %d got %d smaller frames: the encoder went below the floor for one slow viewer", i, f.smaller.Load())
				}
			}
			// Both connections send the same encoded stream: the fast
			// viewer is sent what the slow link allows, or the floor.
			limit := max(tc.slowRate, video.MinBitrate) * 5 / 4 // rate control overshoots a little
			if fast.SentBitrate > limit || fast.SentBitrate < video.MinBitrate/2 {
				t.Errorf("fast viewer sent %d kbit/s at the end; want the slow link's %d kbit/s or the floor's %d, within %d",
					fast.SentBitrate/1000, tc.slowRate/1000, video.MinBitrate/1000, limit/1000)
			}
			if max := uint64(watch/time.Second) * 2; slow.KeyframeRequestsReceived > max {
				t.Errorf("%d keyframe requests from the slow viewer in %v, want at most %d", slow.KeyframeRequestsReceived, watch, max)
			}
		})
	}
}
