// Package opus is a small cgo binding to libopus for 48 kHz float32 audio,
// as used by WebRTC.
//
// Samples are float32 values in [-1, 1], interleaved when there are two
// channels (L, R, L, R, ...). The encoder works on 20 ms frames of
// [FrameSamples] samples per channel, which is what WebRTC sends. The
// decoder accepts any valid Opus packet (2.5 ms to 120 ms) whatever channel
// count it was encoded with, and produces the channel count it was created
// with: a stereo packet is downmixed for a mono decoder and a mono packet is
// duplicated for a stereo one. This matters because SDP always announces
// opus/48000/2 while the packets themselves may be mono.
//
// Encoders and decoders hold C memory: call Close when done with them. They
// are safe to Close concurrently with Encode or Decode, but are otherwise
// meant to be used from one goroutine at a time (calls are serialised by a
// mutex).
//
// The package needs cgo and libopus (pkg-config name "opus"; on Debian,
// libopus-dev). Without cgo only the constants and [ErrClosed] are
// available.
package opus

import "errors"

// SampleRate is the only sample rate this package uses, in Hz.
const SampleRate = 48000

// FrameSamples is the number of samples per channel in one 20 ms frame at
// [SampleRate].
const FrameSamples = 960

// maxFrameSamples is the longest Opus packet duration, 120 ms, in samples per
// channel.
const maxFrameSamples = 5760

// ErrClosed is returned by every method of an [Encoder] or [Decoder] that has
// been closed, except Close itself.
var ErrClosed = errors.New("opus: codec closed")
