package rtcbot

import (
	"image"

	"github.com/rtcbot-go/rtcbot/yuv"
)

// toI420 returns img as a 4:2:0 YCbCr picture whose bounds start at even
// coordinates, the encoders' input format: img itself if it is one,
// otherwise a conversion written into dst (reused when it has the right
// size, else replaced). RGBA and NRGBA pictures are converted by libyuv
// (package yuv, with chroma the mean of each 2x2 block), other kinds through
// their color model.
func toI420(img image.Image, dst *image.YCbCr) *image.YCbCr {
	if y, ok := img.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 &&
		y.Rect.Min.X&1 == 0 && y.Rect.Min.Y&1 == 0 {
		return y
	}
	b := img.Bounds()
	dst = yuv.Reuse(dst, b.Dx(), b.Dy())
	_ = yuv.FromImage(dst, img) // fails only for an empty picture, leaving dst empty
	return dst
}
