// Package vp8 is a small cgo layer over libvpx for real-time VP8 encoding
// and decoding.
//
// The Encoder is push-style: the caller hands it one I420 picture at a time
// together with its presentation time and receives the encoded frame right
// away (libvpx is configured with zero lag, so every call to
// [Encoder.Encode] produces the frame for the picture just passed, or nil
// if libvpx dropped it; [Encoder.AppendEncode] writes it into a buffer the
// caller reuses). This fits a pipeline that encodes a source once and fans
// the encoded frames out to many WebRTC peers.
//
// The encoder is configured the way WebRTC configures libvpx for real time:
// one-pass CBR, no lookahead, error-resilient bitstream, a fixed cpu-used
// speed (see [EncoderSettings.Speed]), no internal resizing, and the
// VPX_DL_REALTIME deadline on every frame. On the moving test pattern of
// package timecode this takes about 2 ms per frame at 640x480 and 5 to
// 6 ms at 1280x720 on one core (BenchmarkEncode), instead of the tens of
// milliseconds the libvpx defaults need.
//
// Presentation times only steer libvpx's rate control. The encoder feeds
// libvpx its own monotonic timeline in which the gap between two frames is
// clamped to the range [1/90000 s, 1 s], so long idle periods and repeated
// or backwards timestamps cannot push libvpx out of range. (In
// pion/mediadevices, fixed by PR #692, an idle gap of more than about 71
// minutes gave a frame duration above UINT32_MAX, which libvpx 1.15 and
// later reject, and the encoder never recovered.)
//
// Neither Encoder nor Decoder is safe for concurrent use: calls to Encode,
// SetBitrate and Decode must be serialised by the caller. Close may be
// called from any goroutine at any time, also while another goroutine is
// inside Encode or Decode; it waits for that call to return and releases
// the libvpx context. Any later call returns [ErrClosed].
//
// The package needs cgo and libvpx (pkg-config package "vpx"; on Debian
// install libvpx-dev). Without cgo the package contains only this
// documentation and [ErrClosed].
package vp8

import "errors"

// ErrClosed is returned by every method of an Encoder or Decoder that has
// been closed, except Close itself.
var ErrClosed = errors.New("vp8: codec closed")
