package rtcbot

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// H.264 is selectable for outgoing video (VideoSettings.Codec "H264") and
// decoded when it comes in, with the codecs codecs_cgo_test.go registers.

// requireH264 skips the test in builds without the cgo codecs.
func requireH264(t *testing.T) {
	t.Helper()
	requireVideoCodec(t, codecH264)
}

// h264Settings are loopback settings that send H.264 video.
func h264Settings() ConnectionSettings {
	s := loopbackSettings()
	s.Video.Codec = "H264"
	return s
}

// newConnWith makes a connection with settings s that the test closes at
// its end.
func newConnWith(t *testing.T, s ConnectionSettings) *Connection {
	t.Helper()
	c, err := NewConnection(s)
	if err != nil {
		t.Fatalf("NewConnection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// warnings is a slog handler that passes on warnings and errors.
type warnings chan slog.Record

func (w warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w warnings) WithGroup(string) slog.Handler                { return w }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	select {
	case w <- r.Clone():
	default:
	}
	return nil
}

// attrs returns a record's attributes as strings.
func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// sentTrackCodec returns the codec capability of the connection's outgoing
// video track.
func sentTrackCodec(t *testing.T, c *Connection) webrtc.RTPCodecCapability {
	t.Helper()
	c.video.mu.Lock()
	defer c.video.mu.Unlock()
	if len(c.video.slots) == 0 || c.video.slots[0].track == nil {
		t.Fatal("no outgoing video track")
	}
	return c.video.slots[0].track.localTrack().Codec()
}

// TestConnectionH264ToGoDecoded: a Go receiver decodes H.264 from a Go
// sender (codec/avcodec): the frames are the pictures drawn, and nothing is
// logged.
func TestConnectionH264ToGoDecoded(t *testing.T) {
	requireH264(t)
	const w, h = 320, 240
	robot := newConnWith(t, h264Settings())
	logged := make(warnings, 16)
	ds := loopbackSettings()
	ds.Logger = slog.New(logged)
	desktop := newConnWith(t, ds)

	cam := NewTestPatternCamera(CameraSettings{Width: w, Height: h, FPS: 30})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	got := desktop.Video().SubscribeWith(NewQueue[image.Image](100))
	connectPair(t, desktop, robot)
	if c := sentTrackCodec(t, robot); c.MimeType != webrtc.MimeTypeH264 || c.SDPFmtpLine != h264Fmtp {
		t.Fatalf("robot's video track is %s %q, want H.264 %q", c.MimeType, c.SDPFmtpLine, h264Fmtp)
	}
	pattern := timecode.NewPattern(w, h)
	for range 30 {
		img := mustGet(t, got).(*image.YCbCr)
		stamp, err := timecode.Read(img)
		if err != nil {
			t.Fatalf("decoded H.264 frame without a readable time code: %v", err)
		}
		if psnr := lumaPSNR(pattern.Frame(stamp.Seq, time.UnixMilli(int64(stamp.CaptureMillis))), img); psnr < 30 {
			t.Fatalf("frame %d: luma PSNR %.1f dB", stamp.Seq, psnr)
		}
	}
	select {
	case r := <-logged:
		t.Fatalf("desktop logged %q %v", r.Message, attrs(r))
	default:
	}
}

// withoutCodec removes a video codec (and its rtx) from an SDP, as a peer
// that does not support it would describe itself.
func withoutCodec(sdp, name string) string {
	lines := strings.Split(strings.TrimSuffix(sdp, "\r\n"), "\r\n")
	drop := map[string]bool{}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "a=rtpmap:"); ok {
			pt, codec, _ := strings.Cut(rest, " ")
			if strings.HasPrefix(strings.ToUpper(codec), strings.ToUpper(name)+"/") {
				drop[pt] = true
			}
		}
	}
	for _, l := range lines { // rtx for a dropped codec
		if rest, ok := strings.CutPrefix(l, "a=fmtp:"); ok {
			pt, params, _ := strings.Cut(rest, " ")
			if apt, ok := strings.CutPrefix(params, "apt="); ok && drop[apt] {
				drop[pt] = true
			}
		}
	}
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "m=video ") {
			f := strings.Fields(l) // m=video port proto pt...
			pts := slices.DeleteFunc(slices.Clone(f[3:]), func(pt string) bool { return drop[pt] })
			l = strings.Join(append(f[:3:3], pts...), " ")
		}
		skip := false
		for _, p := range []string{"a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"} {
			if rest, ok := strings.CutPrefix(l, p); ok {
				pt, _, _ := strings.Cut(rest, " ")
				skip = skip || drop[pt]
			}
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n") + "\r\n"
}

// TestConnectionH264PeerWithoutH264: a robot sending H.264 to a peer that
// accepts only VP8 fails to negotiate, with an error saying so, whichever
// side makes the offer.
func TestConnectionH264PeerWithoutH264(t *testing.T) {
	requireH264(t)
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("negotiating H.264 with a VP8-only peer succeeded")
		}
		if !errors.Is(err, webrtc.ErrUnsupportedCodec) || !strings.Contains(err.Error(), "does not accept H264 video") ||
			!strings.Contains(err.Error(), "it takes VP8") {
			t.Fatalf("error %q does not say that the peer lacks H.264 and takes VP8", err)
		}
		t.Logf("error: %v", err)
	}
	setup := func(t *testing.T) (robot, desktop *Connection) {
		robot, desktop = newConnWith(t, h264Settings()), newConn(t)
		frames := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
		t.Cleanup(func() { frames.Close() })
		robot.Video().PutSubscription(frames)
		desktop.Video().Subscribe()
		return robot, desktop
	}

	t.Run("robot answers", func(t *testing.T) {
		robot, desktop := setup(t)
		ctx := mediaCtx(t)
		offer, err := desktop.GetLocalDescription(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(offer.SDP, "H264/90000") {
			t.Fatalf("Go's offer lacks H.264:\n%s", offer.SDP)
		}
		offer.SDP = withoutCodec(offer.SDP, "H264")
		if strings.Contains(offer.SDP, "H264") || !strings.Contains(offer.SDP, "VP8/90000") {
			t.Fatalf("offer without H.264 is wrong:\n%s", offer.SDP)
		}
		_, err = robot.GetLocalDescription(ctx, &offer)
		check(t, err)
	})
	t.Run("robot offers", func(t *testing.T) {
		robot, desktop := setup(t)
		ctx := mediaCtx(t)
		offer, err := robot.GetLocalDescription(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		offer.SDP = withoutCodec(offer.SDP, "H264")
		answer, err := desktop.GetLocalDescription(ctx, &offer)
		if err != nil {
			t.Fatal(err)
		}
		check(t, robot.SetRemoteDescription(answer))
	})
}

func TestConnectionVideoCodecSetting(t *testing.T) {
	requireH264(t)
	for _, tt := range []struct {
		codec, mime, fmtp string
	}{
		{"", webrtc.MimeTypeVP8, ""},
		{"VP8", webrtc.MimeTypeVP8, ""},
		{"vp8", webrtc.MimeTypeVP8, ""},
		{"H264", webrtc.MimeTypeH264, h264Fmtp},
		{"h264", webrtc.MimeTypeH264, h264Fmtp},
		{"VP9", "", ""},
		{"H.265", "", ""},
	} {
		t.Run(tt.codec, func(t *testing.T) {
			s := loopbackSettings()
			s.Video.Codec = tt.codec
			c := newConnWith(t, s)
			frames := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
			defer frames.Close()
			c.Video().PutSubscription(frames)
			_, err := c.GetLocalDescription(mediaCtx(t), nil)
			if tt.mime == "" {
				if err == nil || !strings.Contains(err.Error(), "is not supported; use \"VP8\" or \"H264\"") {
					t.Fatalf("codec %q: got %v, want an error naming the supported codecs", tt.codec, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sentTrackCodec(t, c); got.MimeType != tt.mime || got.SDPFmtpLine != tt.fmtp {
				t.Errorf("codec %q: track %s %q, want %s %q", tt.codec, got.MimeType, got.SDPFmtpLine, tt.mime, tt.fmtp)
			}
		})
	}
}

// videoReportCodec waits for Python's video report among the messages of
// sub and returns the codec aiortc decoded the video with.
func videoReportCodec(t *testing.T, py *pythonPeer, sub Subscription[any]) string {
	t.Helper()
	for {
		m, err := sub.Get(py.ctx)
		if err != nil {
			py.fail(t, "no video report from Python: %v", err)
		}
		if obj, ok := m.(map[string]any); ok && obj["video"] != nil {
			r, _ := obj["video"].(map[string]any)
			codec, _ := r["codec"].(string)
			return codec
		}
	}
}

// TestInteropH264ToPython: a Go robot sending H.264 to the aiortc peer,
// which decodes it (with FFmpeg, through PyAV) and reports the frame size
// and the time codes it read. Python makes the offer (as RTCBot's desktop
// and browser client do) or answers Go's offer.
func TestInteropH264ToPython(t *testing.T) {
	requireAiortc(t)
	requireH264(t)
	t.Run("Python offers", func(t *testing.T) {
		conn := newConnWith(t, h264Settings())
		received, all := conn.Subscribe(), conn.Subscribe()
		src := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
		conn.Video().PutSubscription(src)
		publishPattern(t, src)
		srv := servePythonOffer(t, conn, func(_ *http.Request, offer SessionDescription) {
			if !strings.Contains(offer.SDP, "profile-level-id=42e01f") {
				t.Errorf("aiortc's offer has no H.264 42e01f:\n%s", offer.SDP)
			}
		})
		defer srv.Close()

		frames := conn.Video().Subscribe()
		py := startPythonPeer(t, "offer", srv.URL+"/connect")
		exchangeMessages(t, py, conn, received, true) // checks the video report
		if codec := videoReportCodec(t, py, all); codec != webrtc.MimeTypeH264 {
			t.Fatalf("aiortc decoded Go's video as %q, want %s", codec, webrtc.MimeTypeH264)
		}
		receivePythonVideo(t, py, frames) // H.264 back, decoded by codec/avcodec
		followsREMB(t, conn)
	})
	t.Run("Go offers", func(t *testing.T) {
		py := startPythonPeer(t, "answer")
		conn := newConnWith(t, h264Settings())
		received, all := conn.Subscribe(), conn.Subscribe()
		src := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
		conn.Video().PutSubscription(src)
		publishPattern(t, src)
		frames := conn.Video().Subscribe()
		offer, err := conn.GetLocalDescription(py.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		sendOfferToPython(t, py, conn, offer)
		exchangeMessages(t, py, conn, received, true)
		if codec := videoReportCodec(t, py, all); codec != webrtc.MimeTypeH264 {
			t.Fatalf("aiortc decoded Go's video as %q, want %s", codec, webrtc.MimeTypeH264)
		}
		receivePythonVideo(t, py, frames)
		followsREMB(t, conn)
	})
}

// followsREMB checks that the bitrate estimate aiortc sends (REMB; it has
// no transport-wide feedback) reaches the connection's congestion control.
func followsREMB(t *testing.T, conn *Connection) {
	t.Helper()
	if conn.peerSendsTWCC() {
		t.Fatal("aiortc negotiated transport-wide congestion control: this check is for REMB")
	}
	eventually(t, "a REMB estimate from aiortc", func() bool { return conn.LinkStats().TargetBitrate > 0 })
	t.Logf("target bitrate from aiortc's REMB: %d kbit/s", conn.LinkStats().TargetBitrate/1000)
}
