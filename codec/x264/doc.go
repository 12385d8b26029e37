// Package x264 is a push-style H.264 encoder for real-time video: a small
// adapter over the libx264 bridge of github.com/pion/mediadevices
// (pkg/codec/x264), which is pull-style.
//
// An [Encoder] takes one I420 picture at a time and returns the encoded
// frame for it right away as an Annex-B byte stream (NAL units separated by
// 00 00 00 01 start codes), ready for an RTP H.264 packetiser. x264 runs with
// the "ultrafast" preset and the "zerolatency" tune: no B-frames, no
// lookahead, one output frame per input picture. The stream uses no CABAC,
// no 8x8 transform, no B-frames and no weighted prediction, so x264 marks it
// Constrained Baseline (profile_idc 66 with constraint_set1), which is what
// WebRTC peers negotiate with profile-level-id 42e01f (aiortc, browsers).
// Every keyframe is an IDR picture preceded by its SPS and PPS, so a
// receiver can start decoding at any keyframe.
//
// Frame rate and bitrate: mediadevices v0.9.4 never passes a frame rate to
// x264, which then assumes 25 fps, and it passes no timestamps (x264 runs in
// constant-frame-rate mode). x264's rate control spends Bitrate/25 bits per
// frame, so at 30 fps a stream would overshoot its target by 20%, at 60 fps
// by 140%. The Encoder compensates by handing x264 the bitrate scaled by
// 25/FPS, so each frame gets Bitrate/FPS bits: the target is met when frames
// arrive at the nominal FPS. The pts passed to [Encoder.Encode] therefore
// does not steer rate control; a source slower than FPS undershoots its
// bitrate, a faster one overshoots it.
//
// An Encoder is not safe for concurrent use: calls to Encode must be
// serialised by the caller. Close may be called from any goroutine at any
// time, also during Encode (it waits for that call to return). Any later
// call returns [ErrClosed].
//
// x264 writes its own diagnostics to stderr (mediadevices leaves x264's
// log level at "info"): each encoder prints a few lines when it opens and
// closes.
//
// libx264 is under the GNU GPL, version 2 or later, and so is a program
// that links it, when distributed. Package rtcbot does not import this
// package: a program gets it, as rtcbot's H.264 encoder, by importing
// github.com/rtcbot-go/rtcbot/codec/h264.
//
// The package needs cgo and libx264 (pkg-config package "x264"; on Debian
// install libx264-dev). libx264 and OpenH264 cannot be linked into one
// program. Without cgo the package contains only this documentation and
// [ErrClosed].
package x264

import "errors"

// ErrClosed is returned by Encode once the Encoder has been closed.
var ErrClosed = errors.New("x264: encoder closed")
