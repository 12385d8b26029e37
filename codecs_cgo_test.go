//go:build cgo

package rtcbot

import (
	"github.com/rtcbot-go/rtcbot/codec/avcodec"
	"github.com/rtcbot-go/rtcbot/codec/x264"
)

// The package's tests send and receive H.264 too. They cannot import
// codec/h264, which imports this package, so they register the same two
// codecs as it does: codec/x264 and codec/avcodec import nothing of rtcbot.
// codec/h264's own tests check that importing it turns H.264 on, and that
// a program without it links neither library.
func init() {
	RegisterVideoEncoder(codecH264, func(s VideoEncoderSettings) (VideoEncoder, error) {
		return x264.NewEncoder(x264.EncoderSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate})
	})
	RegisterVideoDecoder(codecH264, func() (VideoDecoder, error) { return avcodec.NewH264Decoder() })
}
