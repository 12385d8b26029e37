//go:build cgo

package rtcbot

import (
	"github.com/rtcbot-go/rtcbot/codec/avcodec"
	"github.com/rtcbot-go/rtcbot/codec/opus"
	"github.com/rtcbot-go/rtcbot/codec/vp8"
	"github.com/rtcbot-go/rtcbot/codec/x264"
)

func init() {
	newVP8Encoder = func(width, height, fps, bitrate int) (videoEncoder, error) {
		return vp8.NewEncoder(vp8.EncoderSettings{Width: width, Height: height, FPS: fps, Bitrate: bitrate})
	}
	newH264Encoder = func(width, height, fps, bitrate int) (videoEncoder, error) {
		return x264.NewEncoder(x264.EncoderSettings{Width: width, Height: height, FPS: fps, Bitrate: bitrate})
	}
	newVP8Decoder = func() (videoDecoder, error) { return vp8.NewDecoder() }
	newH264Decoder = func() (videoDecoder, error) { return avcodec.NewH264Decoder() }
	newOpusEncoder = func(channels int) (audioEncoder, error) {
		return opus.NewEncoder(opus.EncoderSettings{Channels: channels})
	}
	newOpusDecoder = func(channels int) (audioDecoder, error) { return opus.NewDecoder(channels) }
}
