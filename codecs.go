package rtcbot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// VideoSettings configures the encoding of a connection's outgoing video.
type VideoSettings struct {
	// Codec is the video codec to send: "VP8" (the default) or "H264"
	// (Constrained Baseline, offered as profile-level-id 42e01f, the H.264
	// that aiortc and browsers accept; case does not matter). Another
	// value, or H264 with a peer that does not accept it, makes adding the
	// track or negotiating the connection fail.
	//
	// H.264 is off unless the program imports package
	// github.com/rtcbot-go/rtcbot/codec/h264 (x264 and FFmpeg's libavcodec,
	// both GPL-2.0+ as Debian builds them), or registers an encoder with
	// RegisterVideoEncoder: without one, "H264" fails with an error
	// matching ErrCodecNotSupported. Receiving decodes VP8, and H.264 when
	// an H.264 decoder is registered (codec/h264 registers libavcodec); a
	// connection without one does not offer to receive H.264.
	Codec string
	// MaxBitrate is what the encoder sends on a good link, in bits per
	// second, and never exceeds; default 0.1 bits per pixel per frame and at
	// least 100 kbit/s: 230 kbit/s at 320x240, 0.92 Mbit/s at 640x480 and
	// 2.8 Mbit/s at 1280x720, at 30 fps. Congestion control lowers the
	// bitrate when a connection's link carries less.
	MaxBitrate int
	// StartBitrate is where the encoder and congestion control start,
	// before the link is measured, and what a peer that sends no congestion
	// feedback gets; default the lower of MaxBitrate and
	// DefaultStartBitrate (1 Mbit/s). Starting above what the link carries
	// costs the first seconds: the first keyframes overflow its queue.
	StartBitrate int
	// MinBitrate is the lowest bitrate at the full picture size (default
	// DefaultMinBitrate, 100 kbit/s). Below it, the encoder keeps the
	// bitrate the link carries and degrades as Degradation says: a smaller
	// picture (the default) or fewer frames.
	MinBitrate int
	// Degradation is what gives when the link carries less than
	// MinBitrate; the default, MaintainFramerate, suits teleoperation.
	Degradation DegradationPreference
	// FPS is the nominal frame rate the encoder plans for; default 30.
	FPS int
	// PlayoutDelay is the most a receiver should hold each frame before
	// showing it, asked for in every video packet with the playout-delay
	// RTP header extension (minimum 0, maximum PlayoutDelay, in steps of
	// 10 ms up to 40.95 s) when the receiver offers it, as Chromium does.
	// The default, 0, asks it to show every frame as soon as it is decoded:
	// a browser then skips its jitter buffer, which otherwise holds frames
	// for 10 to 40 ms, at the price of a less even picture on a link whose
	// delay varies. ReceiverPlayoutDelay sends no extension and leaves
	// the receiver to choose. rtcbot's own receiver always shows frames at
	// once; aiortc (Python RTCBot) does not offer the extension.
	PlayoutDelay time.Duration
}

// ReceiverPlayoutDelay, as VideoSettings.PlayoutDelay, asks nothing of the
// receiver's playout delay: a browser buffers video as it would for any
// call.
const ReceiverPlayoutDelay time.Duration = -1

// maxPlayoutDelay is the most the playout-delay extension can ask for:
// 4095 steps of 10 ms.
const maxPlayoutDelay = 4095 * 10 * time.Millisecond

// DegradationPreference says what an encoder gives up when the link carries
// less than VideoSettings.MinBitrate, as WebRTC's degradationPreference.
type DegradationPreference int

const (
	// MaintainFramerate keeps the frame rate and halves the picture's width
	// and height, then halves them again, while the link carries less than
	// MinBitrate (a quarter of it for half the size), but not below
	// 160x120; it returns to the larger size when the link has carried
	// half as much again for a few seconds.
	// Each change of size starts with a keyframe, and receivers get frames
	// of the smaller size: a browser scales them to its video element, a Go
	// subscriber gets smaller images.
	MaintainFramerate DegradationPreference = iota
	// MaintainResolution keeps the picture size and drops frames, so each
	// frame sent gets the bits it would at MinBitrate; down to 1 frame a
	// second.
	MaintainResolution
)

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

// The Opus constructors; codecs_cgo.go sets them when cgo is available.
// Video codecs are registered (videocodec.go).
var (
	newOpusEncoder func(channels int) (audioEncoder, error)
	newOpusDecoder func(channels int) (audioDecoder, error)
)

var errNoCgo = fmt.Errorf("rtcbot: audio needs the cgo codec (libopus): build with CGO_ENABLED=1: %w", ErrCodecNotSupported)

// Video codec names for VideoSettings.Codec.
const (
	codecVP8  = "VP8"
	codecH264 = "H264"
)

// h264Fmtp describes the H.264 rtcbot sends and negotiates: Constrained
// Baseline up to level 3.1 in non-interleaved mode (packetization-mode 1),
// as aiortc and browsers offer it.
const h264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// videoCodec returns the normalised codec name and the RTP capability of the
// outgoing track for s.Codec.
func videoCodec(s VideoSettings) (string, webrtc.RTPCodecCapability, error) {
	switch strings.ToUpper(s.Codec) {
	case "", codecVP8:
		return codecVP8, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, nil
	case codecH264:
		return codecH264, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp}, nil
	}
	return "", webrtc.RTPCodecCapability{}, fmt.Errorf("rtcbot: video codec %q is not supported; use %q or %q: %w", s.Codec, codecVP8, codecH264, ErrCodecNotSupported)
}

// RTP payload types and feedback RTCBot's peers understand.
const (
	payloadVP8  = 96
	payloadH264 = 102
	payloadOpus = 111
)

// registerCodecs registers what aiortc and browsers offer and rtcbot can
// use: VP8, and with h264 H.264 baseline (packetization-mode 1), each with
// NACK, PLI, FIR and REMB feedback, and Opus 48 kHz stereo. A connection
// registers H.264 only if it can decode it or sends it, so that it offers
// to receive what it can decode, and a peer that could send either
// (aiortc, browsers) sends it VP8.
func registerCodecs(m *webrtc.MediaEngine, h264 bool) error {
	feedback := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	video := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: feedback}, PayloadType: payloadVP8},
	}
	if h264 {
		video = append(video, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: h264Fmtp, RTCPFeedback: feedback}, PayloadType: payloadH264})
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

// explainCodecError turns pion's "codec is not supported by remote", which
// applying a description returns when the peer accepts none of the codecs
// of an outgoing track, into an error that names the codec this side sends
// and those the peer offers for it. remoteSDP is the peer's description.
// Other errors are returned as they are.
func (c *Connection) explainCodecError(err error, remoteSDP string) error {
	if !errors.Is(err, webrtc.ErrUnsupportedCodec) && !errors.Is(err, webrtc.ErrSenderWithNoCodecs) {
		return err
	}
	type sent struct {
		kind, mime, setting string
	}
	var tracks []sent
	if c.video.sending() {
		_, capability, _ := videoCodec(c.settings.Video)
		tracks = append(tracks, sent{"video", capability.MimeType, "; choose one with ConnectionSettings.Video.Codec"})
	}
	if c.audio.sending() {
		tracks = append(tracks, sent{"audio", webrtc.MimeTypeOpus, ""})
	}
	for _, t := range tracks {
		offered := peerCodecs(remoteSDP, t.kind)
		name := strings.TrimPrefix(t.mime, t.kind+"/")
		if !slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, name) }) {
			list := "none"
			if len(offered) > 0 {
				list = strings.Join(offered, ", ")
			}
			return fmt.Errorf("rtcbot: the peer does not accept %s %s, which this connection sends (it takes %s%s): %w",
				name, t.kind, list, t.setting, err)
		}
	}
	return fmt.Errorf("rtcbot: the peer accepts no codec of an outgoing track in the form this connection sends it: %w", err)
}

// peerCodecs lists the codec names in the m=kind sections of an SDP, in
// order, without repeats and without the helpers rtx, red and ulpfec.
func peerCodecs(sdp, kind string) []string {
	var names []string
	in := false
	for line := range strings.Lines(sdp) {
		line = strings.TrimRight(line, "\r\n")
		if m, ok := strings.CutPrefix(line, "m="); ok {
			in = strings.HasPrefix(m, kind+" ")
			continue
		}
		rtpmap, ok := strings.CutPrefix(line, "a=rtpmap:")
		if !in || !ok {
			continue
		}
		_, codec, _ := strings.Cut(rtpmap, " ")
		name, _, _ := strings.Cut(codec, "/")
		switch strings.ToLower(name) {
		case "", "rtx", "red", "ulpfec":
			continue
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
