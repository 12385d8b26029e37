package rtcbot

import (
	"fmt"
	"image"
	"maps"
	"strings"
	"sync"
	"time"
)

// h264Package is the import path of the package that turns H.264 on, for
// error messages.
const h264Package = "github.com/rtcbot-go/rtcbot/codec/h264"

// A VideoEncoder encodes the pictures of one outgoing video track, one at a
// time, for the codec it was registered for with RegisterVideoEncoder:
//
//   - VP8: each frame is one VP8 frame.
//   - H264: each frame is one access unit as an Annex-B byte stream (NAL
//     units behind 00 00 00 01 or 00 00 01 start codes) in Constrained
//     Baseline profile, which rtcbot negotiates as profile-level-id 42e01f
//     with packetization-mode 1: no B-frames, and every keyframe an IDR
//     picture preceded by its SPS and PPS.
//
// Encode encodes img, a 4:2:0 picture (Rect at the origin), presented at
// pts since the track's first frame. It returns the encoded frame and
// whether it is a keyframe; a nil frame with a nil error means the encoder
// skipped the picture. With forceKeyframe the frame must be a keyframe:
// rtcbot asks for one when a receiver lost a picture. Given a picture of
// another size than the last, the encoder must re-initialise itself and
// start the new size with a keyframe (rtcbot shrinks the picture on a poor
// link). Calls to Encode are serialised; the encoder may keep img only
// until Encode returns.
//
// Close releases the encoder; rtcbot calls it once, after the last Encode.
//
// An encoder that can change its bitrate while it runs implements
// BitrateSetter too, and follows what the link carries; one that does not
// keeps the bitrate it was made with.
type VideoEncoder interface {
	Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (frame []byte, keyframe bool, err error)
	Close() error
}

// BitrateSetter is implemented by a VideoEncoder that can change its target
// bitrate while it runs. SetBitrate sets the target, in bits per second,
// from the next frame on. rtcbot calls it between calls to Encode, when
// congestion control changes its estimate of the link; after an error the
// encoder is taken to keep its last bitrate.
type BitrateSetter interface {
	SetBitrate(bps int) error
}

// VideoEncoderSettings is what a VideoEncoder is made for. rtcbot makes
// the encoder of a track when the track's first picture arrives.
type VideoEncoderSettings struct {
	// Width and Height are the size of the first picture, in pixels.
	// Later pictures may have other sizes (see VideoEncoder).
	Width, Height int
	// FPS is the nominal frame rate (VideoSettings.FPS, default 30); the
	// presentation times passed to Encode say when frames really come.
	FPS int
	// Bitrate is the target to start with, in bits per second.
	Bitrate int
}

// A VideoDecoder decodes the frames of one incoming video track, for the
// codec it was registered for with RegisterVideoDecoder: one whole VP8
// frame, or one H.264 access unit in Annex-B form (SPS and PPS may precede
// an IDR picture in it), at a time, as rtcbot reassembles them from RTP.
//
// Decode returns the picture of frame as a 4:2:0 *image.YCbCr that the
// caller may keep (it is handed to subscribers), or nil and no error for a
// frame that yields no picture (H.264 parameter sets alone). It returns an
// error for a frame it cannot decode cleanly, also one that refers to a
// picture it did not get: rtcbot then drops frames until the next keyframe,
// which it asks the sender for. The decoder must not be fooled into huge
// allocations by a peer's headers: a hostile peer can send anything. Calls
// to Decode are serialised.
//
// Close releases the decoder; rtcbot calls it once, after the last Decode.
type VideoDecoder interface {
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}

// registeredCodec is what is registered for one codec name.
type registeredCodec struct {
	newEncoder func(VideoEncoderSettings) (VideoEncoder, error)
	newDecoder func() (VideoDecoder, error)
}

// videoCodecSet is the registered codecs by name ("VP8", "H264"), as a
// connection sees them: taken when it is made, so that what it offers and
// what it can encode and decode agree.
type videoCodecSet map[string]registeredCodec

var registry struct {
	mu     sync.Mutex
	codecs videoCodecSet
}

// RegisterVideoEncoder makes newEncoder the encoder of the named video
// codec, "VP8" or "H264" (case does not matter), for the connections made
// from then on. cgo builds register libvpx for VP8; H.264 has no encoder
// until one is registered, by importing package
// github.com/rtcbot-go/rtcbot/codec/h264 (x264) or otherwise.
//
// A later registration replaces an earlier one, so a program can plug in
// another encoder (a hardware one, OpenH264) by registering it in main,
// before it makes connections (the init functions of imported packages,
// such as codec/h264, run before main). Encoder and decoder are registered
// separately: replacing one keeps the other.
//
// It panics if the name is not one rtcbot can send (it packetises and
// negotiates VP8 and H.264 itself) or newEncoder is nil.
func RegisterVideoEncoder(codec string, newEncoder func(VideoEncoderSettings) (VideoEncoder, error)) {
	name := mustCodecName("RegisterVideoEncoder", codec, newEncoder == nil)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	c := registry.codecs[name]
	c.newEncoder = newEncoder
	registry.codecs = registry.codecs.with(name, c)
}

// RegisterVideoDecoder makes newDecoder the decoder of the named video
// codec, "VP8" or "H264" (case does not matter), for the connections made
// from then on, as RegisterVideoEncoder does for encoders. cgo builds
// register libvpx for VP8. A connection offers to receive H.264 only if it
// has an H.264 decoder (or sends H.264 itself), so that a peer that could
// send either sends VP8.
//
// It panics if the name is not one rtcbot can receive or newDecoder is
// nil.
func RegisterVideoDecoder(codec string, newDecoder func() (VideoDecoder, error)) {
	name := mustCodecName("RegisterVideoDecoder", codec, newDecoder == nil)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	c := registry.codecs[name]
	c.newDecoder = newDecoder
	registry.codecs = registry.codecs.with(name, c)
}

// mustCodecName returns the normalised name of a codec being registered,
// and panics on a name rtcbot does not carry or a nil constructor.
func mustCodecName(fn, codec string, isNil bool) string {
	name := strings.ToUpper(codec)
	if name != codecVP8 && name != codecH264 {
		panic(fmt.Sprintf("rtcbot: %s(%q): rtcbot carries only %q and %q video", fn, codec, codecVP8, codecH264))
	}
	if isNil {
		panic(fmt.Sprintf("rtcbot: %s(%q): nil constructor", fn, codec))
	}
	return name
}

// registeredVideoCodecs returns the codecs registered now. The set is never
// changed: registering makes a new one.
func registeredVideoCodecs() videoCodecSet {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.codecs
}

// with returns a copy of s in which name has c.
func (s videoCodecSet) with(name string, c registeredCodec) videoCodecSet {
	out := maps.Clone(s)
	if out == nil {
		out = videoCodecSet{}
	}
	out[name] = c
	return out
}

// encoder returns the constructor of the encoder for codec (a normalised
// name), or an error matching ErrCodecNotSupported that says what to do.
func (s videoCodecSet) encoder(codec string) (func(VideoEncoderSettings) (VideoEncoder, error), error) {
	if f := s[codec].newEncoder; f != nil {
		return f, nil
	}
	return nil, missingCodec("sending", codec, "encoder")
}

// decoder returns the constructor of the decoder for codec (a normalised
// name), or an error matching ErrCodecNotSupported that says what to do.
func (s videoCodecSet) decoder(codec string) (func() (VideoDecoder, error), error) {
	if f := s[codec].newDecoder; f != nil {
		return f, nil
	}
	return nil, missingCodec("receiving", codec, "decoder")
}

// canDecode reports whether s has a decoder for codec.
func (s videoCodecSet) canDecode(codec string) bool { return s[codec].newDecoder != nil }

// missingCodec explains why there is no encoder or decoder for codec.
func missingCodec(doing, codec, what string) error {
	if codec == codecH264 {
		return fmt.Errorf("rtcbot: %s H.264 video needs an H.264 %s: import _ %q (x264 and libavcodec, GPL-2.0+) or register one with RegisterVideo%s: %w",
			doing, what, h264Package, strings.ToUpper(what[:1])+what[1:], ErrCodecNotSupported)
	}
	return fmt.Errorf("rtcbot: %s %s video needs a %s %s: build with CGO_ENABLED=1 (libvpx) or register one with RegisterVideo%s: %w",
		doing, codec, codec, what, strings.ToUpper(what[:1])+what[1:], ErrCodecNotSupported)
}
