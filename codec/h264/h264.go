//go:build cgo

package h264

import (
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/codec/avcodec"
	"github.com/rtcbot-go/rtcbot/codec/x264"
)

func init() {
	rtcbot.RegisterVideoEncoder("H264", newEncoder)
	rtcbot.RegisterVideoDecoder("H264", newDecoder)
}

// newEncoder makes an x264 encoder (Constrained Baseline, ultrafast,
// zerolatency; see package codec/x264), which can change its bitrate.
func newEncoder(s rtcbot.VideoEncoderSettings) (rtcbot.VideoEncoder, error) {
	enc, err := x264.NewEncoder(x264.EncoderSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate})
	if err != nil {
		return nil, err
	}
	return enc, nil
}

// newDecoder makes a libavcodec H.264 decoder (see package codec/avcodec).
func newDecoder() (rtcbot.VideoDecoder, error) {
	dec, err := avcodec.NewH264Decoder()
	if err != nil {
		return nil, err
	}
	return dec, nil
}

// x264's encoder follows congestion control's bitrate.
var _ rtcbot.BitrateSetter = (*x264.Encoder)(nil)
