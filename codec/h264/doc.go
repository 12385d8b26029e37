// Package h264 turns on H.264 video in package rtcbot. Import it for its
// side effect:
//
//	import _ "github.com/rtcbot-go/rtcbot/codec/h264"
//
// Its init function registers x264 (package codec/x264) as rtcbot's H.264
// encoder and FFmpeg's libavcodec (package codec/avcodec) as its H.264
// decoder, with rtcbot.RegisterVideoEncoder and rtcbot.RegisterVideoDecoder.
// A connection can then send H.264 (rtcbot.VideoSettings{Codec: "H264"}),
// and it offers to receive H.264 besides VP8 and decodes it. Without this
// package rtcbot sends and receives VP8 only, and asking for "H264" fails
// with an error matching rtcbot.ErrCodecNotSupported.
//
// # Licence
//
// H.264 is kept out of package rtcbot because of its licences: libx264 is
// under the GNU GPL, version 2 or later, and so is libavcodec as Debian
// builds it (FFmpeg configured with --enable-gpl; Debian 12's libavcodec59
// also links libx264 and libx265 itself). A program that imports this
// package links both, and when distributed it must be under terms
// compatible with the GPL. Package rtcbot on its own links only libvpx and
// libopus, under BSD licences.
//
// To send H.264 without the GPL, register another encoder instead (a
// hardware encoder, or Cisco's OpenH264) with rtcbot.RegisterVideoEncoder,
// and a decoder with rtcbot.RegisterVideoDecoder if the program receives
// H.264 too. libx264 and OpenH264 cannot be linked into one program.
//
// The package needs cgo, libx264 and libavcodec (on Debian, libx264-dev and
// libavcodec-dev). Without cgo it registers nothing.
package h264
