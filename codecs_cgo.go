//go:build cgo

package rtcbot

import (
	"github.com/rtcbot-go/rtcbot/codec/opus"
	"github.com/rtcbot-go/rtcbot/codec/vp8"
)

// The codecs on by default in cgo builds, all under BSD licences: VP8
// (libvpx) and Opus (libopus). H.264 is registered by package codec/h264.
func init() {
	RegisterVideoEncoder(codecVP8, func(s VideoEncoderSettings) (VideoEncoder, error) {
		return vp8.NewEncoder(vp8.EncoderSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate})
	})
	RegisterVideoDecoder(codecVP8, func() (VideoDecoder, error) { return vp8.NewDecoder() })
	newOpusEncoder = func(channels int) (audioEncoder, error) {
		return opus.NewEncoder(opus.EncoderSettings{Channels: channels})
	}
	newOpusDecoder = func(channels int) (audioDecoder, error) { return opus.NewDecoder(channels) }
}
