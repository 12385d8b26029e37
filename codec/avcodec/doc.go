// Package avcodec is a small cgo layer over FFmpeg's libavcodec for
// decoding H.264 in real time, the way rtcbot receives H.264 video from a
// WebRTC peer. Like the codec packages of pion/mediadevices it is a cgo
// fence: the C library stays behind this package, and programs that do not
// import it need neither cgo nor FFmpeg.
//
// A [Decoder] takes one complete access unit at a time in Annex-B form (NAL
// units behind 00 00 01 or 00 00 00 01 start codes, as pion's
// codecs.H264Packet depacketiser produces with IsAVC false; SPS and PPS may
// precede an IDR picture in the same access unit) and returns the picture
// decoded from it as a new 4:2:0 *image.YCbCr, copied out of FFmpeg's
// buffers. An access unit that yields no picture, such as one holding only
// an SPS and a PPS, returns (nil, nil).
//
// The decoder is configured for low delay: AV_CODEC_FLAG_LOW_DELAY and a
// single thread (FFmpeg's frame threading would hold back one frame per
// extra thread), so every access unit of a stream without B-frames
// (Constrained Baseline, what WebRTC peers send) yields its picture at
// once. Corrupt input returns an error, and so does a picture FFmpeg
// decoded with errors (with concealment, or with missing references):
// FFmpeg conceals damage with the previous picture, but this package hands
// out only pictures decoded cleanly, and the caller should ask the sender
// for a keyframe. Inter frames before the first IDR give an error (no
// parameter sets yet) or no picture (FFmpeg does not output pictures
// before its first IDR or recovery point). Pictures of more
// than 4096*4096 pixels are refused before FFmpeg allocates them, so a
// hostile SPS cannot make the decoder allocate hundreds of megabytes.
//
// At every access unit with an IDR picture the Decoder drains the FFmpeg
// decoder and replaces it with a fresh one, to which it hands the SPS and
// PPS NAL units seen so far (up to 32) ahead of the access unit. In FFmpeg
// 5.1 neither a reorder depth raised by one bad SPS (a frame of latency for
// good) nor the damage some corrupt slices leave behind (the next IDR
// picture decoding wrongly) goes away with avcodec_flush_buffers; with
// a fresh decoder every IDR decodes exactly as at the start of a stream.
//
// FFmpeg logs decoding errors to stderr by default. The package sets
// libav's process-wide log level to AV_LOG_QUIET when the first Decoder is
// created; this also silences any other libav user in the same process.
//
// A Decoder is not safe for concurrent use: calls to Decode must be
// serialised by the caller. Close may be called from any goroutine at any
// time, also while another goroutine is inside Decode; it waits for that
// call to return and releases the libavcodec context. Any later call
// returns [ErrClosed].
//
// FFmpeg's libraries are under the GNU LGPL, version 2.1 or later, as
// FFmpeg ships them, but Debian builds them with --enable-gpl and links
// libavcodec59 against libx264 and libx265: on Debian 12 a program that links
// libavcodec links GPL code (ldd lists libx264). Package rtcbot does not
// import this package: a program gets it, as rtcbot's H.264 decoder, by
// importing github.com/rtcbot-go/rtcbot/codec/h264.
//
// The package needs cgo and libavcodec with libavutil (pkg-config packages
// "libavcodec" and "libavutil"; on Debian install libavcodec-dev, which
// pulls in libavutil-dev). It is written against FFmpeg 5.1 (Debian 12).
// Without cgo the package contains only this documentation and
// [ErrClosed].
package avcodec

import "errors"

// ErrClosed is returned by Decode once the Decoder has been closed.
var ErrClosed = errors.New("avcodec: decoder closed")
