//go:build cgo

package opus

/*
#cgo pkg-config: opus
#include <opus.h>

// opus_encoder_ctl is a variadic macro, which cgo cannot call directly.
static int rtcbot_opus_set_bitrate(OpusEncoder *e, opus_int32 v) {
	return opus_encoder_ctl(e, OPUS_SET_BITRATE(v));
}
static int rtcbot_opus_set_complexity(OpusEncoder *e, opus_int32 v) {
	return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(v));
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

// maxPacketBytes is the output buffer size recommended by the libopus
// documentation for opus_encode.
const maxPacketBytes = 4000

// Application tells the encoder what kind of signal to optimise for. The zero
// value is [ApplicationAudio].
type Application int

const (
	// ApplicationAudio favours faithful reproduction of general audio such
	// as music (OPUS_APPLICATION_AUDIO). It is the default.
	ApplicationAudio Application = iota
	// ApplicationVoIP favours speech intelligibility (OPUS_APPLICATION_VOIP).
	ApplicationVoIP
	// ApplicationLowDelay disables the speech-optimised modes to get the
	// lowest possible coding delay (OPUS_APPLICATION_RESTRICTED_LOWDELAY).
	ApplicationLowDelay
)

func (a Application) c() (C.int, error) {
	switch a {
	case ApplicationAudio:
		return C.OPUS_APPLICATION_AUDIO, nil
	case ApplicationVoIP:
		return C.OPUS_APPLICATION_VOIP, nil
	case ApplicationLowDelay:
		return C.OPUS_APPLICATION_RESTRICTED_LOWDELAY, nil
	}
	return 0, fmt.Errorf("opus: unknown application %d", int(a))
}

// EncoderSettings configures [NewEncoder]. The zero value gives a mono
// 32 kbit/s encoder for general audio at complexity 5.
type EncoderSettings struct {
	// Channels is 1 (mono) or 2 (stereo, interleaved). Zero means 1.
	Channels int
	// Bitrate is the target bit rate in bits per second. Zero means 32000
	// for mono and 64000 for stereo. libopus clamps values outside the
	// range it supports (500 to 300000 per channel); negative values are
	// an error.
	Bitrate int
	// Application selects the coding mode; the zero value is
	// [ApplicationAudio].
	Application Application
	// Complexity trades CPU time for quality, from 1 to 10. Zero means 5,
	// which is cheap enough for small boards; the libopus level 0 cannot
	// be selected.
	Complexity int
}

// Encoder encodes 20 ms frames of 48 kHz float32 audio into Opus packets.
// Create one with [NewEncoder] and release it with [Encoder.Close].
type Encoder struct {
	mu       sync.Mutex
	enc      *C.OpusEncoder // nil once closed
	channels int
	buf      []byte // scratch output buffer, maxPacketBytes long
	cleanup  runtime.Cleanup
}

// NewEncoder creates an encoder at [SampleRate] with the given settings,
// after filling in defaults for zero fields.
func NewEncoder(s EncoderSettings) (*Encoder, error) {
	if s.Channels == 0 {
		s.Channels = 1
	}
	if s.Channels != 1 && s.Channels != 2 {
		return nil, fmt.Errorf("opus: channels must be 1 or 2, got %d", s.Channels)
	}
	if s.Bitrate == 0 {
		s.Bitrate = 32000 * s.Channels
	}
	if s.Bitrate < 0 || s.Bitrate > 1<<30 {
		return nil, fmt.Errorf("opus: invalid bitrate %d", s.Bitrate)
	}
	if s.Complexity == 0 {
		s.Complexity = 5
	}
	if s.Complexity < 1 || s.Complexity > 10 {
		return nil, fmt.Errorf("opus: complexity must be 1..10, got %d", s.Complexity)
	}
	app, err := s.Application.c()
	if err != nil {
		return nil, err
	}

	var cerr C.int
	enc := C.opus_encoder_create(SampleRate, C.int(s.Channels), app, &cerr)
	if cerr != C.OPUS_OK || enc == nil {
		return nil, fmt.Errorf("opus: creating encoder: %w", opusError(cerr))
	}
	if r := C.rtcbot_opus_set_bitrate(enc, C.opus_int32(s.Bitrate)); r != C.OPUS_OK {
		C.opus_encoder_destroy(enc)
		return nil, fmt.Errorf("opus: setting bitrate %d: %w", s.Bitrate, opusError(r))
	}
	if r := C.rtcbot_opus_set_complexity(enc, C.opus_int32(s.Complexity)); r != C.OPUS_OK {
		C.opus_encoder_destroy(enc)
		return nil, fmt.Errorf("opus: setting complexity %d: %w", s.Complexity, opusError(r))
	}

	e := &Encoder{enc: enc, channels: s.Channels, buf: make([]byte, maxPacketBytes)}
	// Free the C state if the caller forgets Close.
	e.cleanup = runtime.AddCleanup(e, func(p *C.OpusEncoder) { C.opus_encoder_destroy(p) }, enc)
	return e, nil
}

// Encode encodes exactly one 20 ms frame. len(pcm) must be
// FrameSamples*Channels() interleaved samples; any other length is an error.
// The returned packet is a new slice owned by the caller.
func (e *Encoder) Encode(pcm []float32) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return nil, ErrClosed
	}
	if want := FrameSamples * e.channels; len(pcm) != want {
		return nil, fmt.Errorf("opus: Encode needs one 20 ms frame of %d samples (%d per channel x %d channels), got %d",
			want, FrameSamples, e.channels, len(pcm))
	}
	n := C.opus_encode_float(e.enc, (*C.float)(&pcm[0]), FrameSamples,
		(*C.uchar)(&e.buf[0]), C.opus_int32(len(e.buf)))
	if n < 0 {
		return nil, fmt.Errorf("opus: encoding: %w", opusError(C.int(n)))
	}
	out := make([]byte, int(n))
	copy(out, e.buf)
	return out, nil
}

// Channels returns the number of interleaved channels Encode expects.
func (e *Encoder) Channels() int { return e.channels }

// Close releases the encoder's C memory. It is safe to call more than once
// and concurrently with Encode; later calls to Encode return [ErrClosed].
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return nil
	}
	e.cleanup.Stop()
	C.opus_encoder_destroy(e.enc)
	e.enc = nil
	return nil
}

// opusError turns a negative libopus return code into an error.
func opusError(code C.int) error {
	return fmt.Errorf("%s (%d)", C.GoString(C.opus_strerror(code)), int(code))
}
