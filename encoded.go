package rtcbot

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4/pkg/media"
)

// EncodedFrame is a frame of video that something other than rtcbot
// encoded (a camera's or a board's hardware encoder, an ffmpeg or GStreamer
// pipeline), which MediaStream.PutEncoded sends as it is: no decode and
// re-encode on the robot.
//
// Frames are shared by every subscriber: treat Data as read-only.
type EncodedFrame struct {
	// Data is the frame: for H.264 one access unit in Annex-B form (each
	// NAL unit after a start code, 00 00 01 or 00 00 00 01); for VP8 one
	// frame, as libvpx writes it.
	Data []byte
	// Keyframe reports whether the frame decodes on its own: an H.264 IDR
	// access unit (with its SPS and PPS), a VP8 key frame.
	Keyframe bool
	// Time is when the frame was captured or arrived, zero for when it is
	// sent. The receiver plays frames at the pace of these times.
	Time time.Time
}

// KeyframeRequester is implemented by a source of EncodedFrames that can
// make its encoder send a keyframe soon: an EncodedSource, which calls its
// EncodedStreamSettings.RequestKeyframe. A connection sending the source
// calls it when a peer joins or asks for one (PLI, FIR), at most every
// 300 ms; without it viewers wait for the source's next keyframe.
type KeyframeRequester interface {
	RequestKeyframe()
}

// passthroughEncoder is the sampleEncoder of encoded frames: it checks each
// frame and sends it as a sample, on the clock of the frames' times. It
// holds back the frames before the first keyframe, which no peer could
// decode, and passes keyframe requests to the source.
type passthroughEncoder struct {
	codec     string
	requester KeyframeRequester // nil if the source cannot make keyframes
	started   bool              // a keyframe was sent
	last      time.Time         // the previous frame's time
}

func newPassthroughEncoder(codec string, src any) *passthroughEncoder {
	e := &passthroughEncoder{codec: codec}
	e.requester, _ = src.(KeyframeRequester)
	return e
}

// minFrameDuration is the least time between the RTP timestamps of two
// encoded frames: a millisecond, 90 ticks of video's clock.
const minFrameDuration = time.Millisecond

// annexBStart is the start code every H.264 access unit begins with.
var annexBStart = []byte{0, 0, 1}

func (e *passthroughEncoder) encode(f EncodedFrame, forceKeyframe bool, write func(media.Sample)) (bool, bool, error) {
	if forceKeyframe && e.requester != nil {
		e.requester.RequestKeyframe()
	}
	if len(f.Data) == 0 {
		return false, false, nil
	}
	if e.codec == codecH264 && !bytes.HasPrefix(f.Data, annexBStart) && !bytes.HasPrefix(f.Data, []byte{0, 0, 0, 1}) {
		return false, false, fmt.Errorf("%w: an encoded H.264 frame that does not start with an Annex-B start code", ErrEncodedFrame)
	}
	if !e.started && !f.Keyframe {
		return false, false, nil // waiting for a keyframe
	}
	e.started = true
	now := f.Time
	if now.IsZero() {
		now = time.Now()
	}
	duration := time.Second / 30 // the first frame's
	if !e.last.IsZero() {
		// Frames that came together (one read of a pipe can complete
		// two) still need timestamps of their own: a receiver joins the
		// packets of one timestamp into one frame.
		duration = min(max(now.Sub(e.last), minFrameDuration), time.Second)
	}
	e.last = now
	write(media.Sample{Data: f.Data, Duration: duration, Timestamp: now})
	return true, f.Keyframe, nil
}

func (e *passthroughEncoder) setLinks(linkRange) {} // the encoder's bitrate is its own

func (e *passthroughEncoder) sendingBitrate() int { return 0 }

func (e *passthroughEncoder) close() {}
