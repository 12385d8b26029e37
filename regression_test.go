package rtcbot

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// TestCloseWaitsForPeerInitiatedClose is a bug the fault tests found:
// when the peer closes first, pion starts closing this side's PeerConnection on its own (on DTLS
// close_notify, in a goroutine); a Connection.Close called meanwhile gets
// nil at once from pc.Close (pion is "already closing") and returns while
// pion still holds the UDP socket and some 15 goroutines, for about 400 ms
// (sctp.Association.Abort waits out two 200 ms flush timeouts, because the
// peer's association is gone). Close is documented to free everything, and
// now waits for pion's close.
func TestCloseWaitsForPeerInitiatedClose(t *testing.T) {
	for i := range 20 {
		before := openFDs(t)
		desktop, err := NewConnection(loopbackSettings())
		if err != nil {
			t.Fatal(err)
		}
		robot, err := NewConnection(loopbackSettings())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = pairUp(ctx, desktop, robot)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		desktop.Close()
		// pion has begun closing the robot's PeerConnection on the peer's
		// close_notify (it sets the signaling state first).
		eventually(t, "robot's peer connection closing", func() bool {
			return robot.pc.SignalingState() == webrtc.SignalingStateClosed
		})
		robot.Close()
		state, fds := robot.pc.ConnectionState(), openFDs(t)
		if fds != before || state != webrtc.PeerConnectionStateClosed {
			t.Fatalf("cycle %d: robot.Close returned with the peer connection %v and %d file descriptors open, %d before", i, state, fds, before)
		}
	}
}

// TestVP8AssemblerLostFrameNeedsKeyframe is a bug found by
// TestOrderedMessagesWhileVideoFlows under load (decoded frames whose time
// code could not be read): when packets are lost across a frame boundary
// (a whole frame, or the end of one with its marker packet), the next
// frame's first packet clears the gap (broken = false) and the frame is
// decoded against reference frames the decoder never had: the assembler
// emitted corrupted pictures and asked for no keyframe. Now it waits for a
// keyframe, and asks for one.
func TestVP8AssemblerLostFrameNeedsKeyframe(t *testing.T) {
	const w, h, frames, lost = 160, 120, 12, 4
	for _, tc := range []struct {
		name string
		drop func(frame, packet, packets int) bool
	}{
		{"whole frame lost", func(f, _, _ int) bool { return f == lost }},
		{"marker packet lost", func(f, p, n int) bool { return f == lost && p == n-1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := newVP8Encoder(w, h, 30, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := newVP8Decoder()
			if err != nil {
				t.Fatal(err)
			}
			a := &vp8Assembler{dec: dec, needKey: true}
			defer a.close()
			pattern := timecode.NewPattern(w, h)
			var payloader codecs.VP8Payloader
			seq := uint16(0)
			keyRequested := false
			for f := range frames {
				data, _, err := enc.Encode(pattern.Frame(uint32(f), time.Now()), time.Duration(f)*time.Second/30, f == 0)
				if err != nil {
					t.Fatal(err)
				}
				if f > lost && data[0]&1 == 0 {
					t.Fatalf("frame %d is a keyframe; the test needs P-frames after the loss", f)
				}
				payloads := payloader.Payload(200, data) // several packets per keyframe
				for i, payload := range payloads {
					p := packet{&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(f * 3000), Marker: i == len(payloads)-1}, Payload: payload}}
					seq++
					if tc.drop(f, i, len(payloads)) {
						continue
					}
					var emitted []image.Image
					if a.push(p, func(img image.Image) { emitted = append(emitted, img) }) && f > lost {
						keyRequested = true
					}
					for _, img := range emitted {
						if f > lost {
							stamp, err := timecode.Read(img)
							t.Errorf("frame %d decoded after frame %d was lost, with no keyframe in between (time code: seq %d, %v)", f, lost, stamp.Seq, err)
						}
					}
				}
			}
			if !keyRequested {
				t.Errorf("no keyframe requested after frame %d was lost", lost)
			}
		})
	}
}
