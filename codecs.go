package rtcbot

import (
	"fmt"
	"image"
	"time"

	"github.com/pion/webrtc/v4"
)

// VideoSettings configures the encoding of a connection's outgoing video.
type VideoSettings struct {
	// Codec is the video codec to send: "VP8" (the default). Receiving
	// decodes VP8.
	Codec string
	// Bitrate is the target in bits per second; default 0.1 bits per pixel
	// per frame (about 0.9 Mbit/s at 640x480 and 30 fps).
	Bitrate int
	// FPS is the nominal frame rate the encoder plans for; default 30.
	FPS int
}

// videoEncoder encodes pictures for one outgoing track.
type videoEncoder interface {
	Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) ([]byte, bool, error)
	Close() error
}

// videoDecoder decodes the frames of one incoming track.
type videoDecoder interface {
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}

// audioEncoder encodes 20 ms of interleaved 48 kHz audio at a time.
type audioEncoder interface {
	Encode(pcm []float32) ([]byte, error)
	Close() error
}

// audioDecoder decodes the packets of one incoming audio track into
// interleaved 48 kHz samples.
type audioDecoder interface {
	Decode(packet []byte) ([]float32, error)
	Close() error
}

// The codec constructors; codecs_cgo.go sets them when cgo is available.
var (
	newVP8Encoder  func(width, height int, s VideoSettings) (videoEncoder, error)
	newVP8Decoder  func() (videoDecoder, error)
	newOpusEncoder func(channels int) (audioEncoder, error)
	newOpusDecoder func(channels int) (audioDecoder, error)
)

var errNoCgo = fmt.Errorf("rtcbot: media needs the cgo codecs (libvpx, libopus): build with CGO_ENABLED=1")

// RTP payload types and feedback RTCBot's peers understand.
const (
	payloadVP8  = 96
	payloadH264 = 102
	payloadOpus = 111
)

// registerCodecs registers what aiortc and browsers offer and rtcbot can
// use: VP8 and H.264 baseline (packetization-mode 1) with NACK, PLI, FIR and
// REMB feedback, and Opus 48 kHz stereo.
func registerCodecs(m *webrtc.MediaEngine) error {
	feedback := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	video := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: feedback}, PayloadType: payloadVP8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: feedback}, PayloadType: payloadH264},
	}
	for _, c := range video {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("rtcbot: register %s: %w", c.MimeType, err)
		}
	}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: payloadOpus}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("rtcbot: register opus: %w", err)
	}
	return nil
}
