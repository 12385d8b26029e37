package rtcbot

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestPlayoutDelayExtension checks what a robot asks of a receiver that
// offers the playout-delay extension, as Chromium does: zero delay by
// default, the configured maximum otherwise, and nothing with
// ReceiverPlayoutDelay.
func TestPlayoutDelayExtension(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setting time.Duration
		wantMax int // in 10 ms steps; -1: no extension
	}{
		{"default", 0, 0},
		{"250ms", 250 * time.Millisecond, 25},
		{"capped", time.Minute, 4095},
		{"receiver", ReceiverPlayoutDelay, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &webrtc.MediaEngine{}
			if err := m.RegisterDefaultCodecs(); err != nil {
				t.Fatal(err)
			}
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: playoutDelayURI}, webrtc.RTPCodecTypeVideo); err != nil {
				t.Fatal(err)
			}
			viewer := newRawPeer(t, m)
			if _, err := viewer.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
			packets := make(chan *rtp.Packet, 1)
			viewer.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
				p, _, err := track.ReadRTP()
				if err == nil {
					packets <- p
				}
			})
			offer := rawOffer(t, viewer)

			s := loopbackSettings()
			s.Video.PlayoutDelay = tc.setting
			robot, err := NewConnection(s)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { robot.Close() })
			cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120, FPS: 30})
			t.Cleanup(func() { cam.Close() })
			robot.Video().PutSubscription(cam)
			answer, err := robot.GetLocalDescription(mediaCtx(t), &offer)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(answer.SDP, playoutDelayURI); got != (tc.wantMax >= 0) {
				t.Fatalf("answer offers playout-delay: %v, want %v", got, tc.wantMax >= 0)
			}
			if err := viewer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
				t.Fatal(err)
			}
			p := recv(t, packets)
			id := 0
			for _, e := range viewer.GetTransceivers()[0].Receiver().GetParameters().HeaderExtensions {
				if e.URI == playoutDelayURI {
					id = e.ID
				}
			}
			raw := p.GetExtension(uint8(id))
			if tc.wantMax < 0 {
				if id != 0 || raw != nil {
					t.Fatalf("playout-delay negotiated as %d, packet carries %x; want none", id, raw)
				}
				return
			}
			var ext rtp.PlayoutDelayExtension
			if err := ext.Unmarshal(raw); err != nil {
				t.Fatalf("packet's playout-delay extension (id %d) %x: %v", id, raw, err)
			}
			if ext.MinDelay != 0 || int(ext.MaxDelay) != tc.wantMax {
				t.Fatalf("playout delay min %d max %d (10 ms steps), want 0 and %d", ext.MinDelay, ext.MaxDelay, tc.wantMax)
			}
		})
	}
}
