package rtcbot

import (
	"image"
	"image/color"
)

// toI420 returns img as a 4:2:0 YCbCr picture, the encoders' input format:
// img itself if it is one, otherwise a conversion written into dst (reused
// when it has the right size, else replaced). RGBA and NRGBA pictures take a
// fast path; other kinds go through their color model.
func toI420(img image.Image, dst *image.YCbCr) *image.YCbCr {
	if y, ok := img.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		return y
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	var pix []uint8
	var stride int
	switch src := img.(type) {
	case *image.RGBA:
		pix, stride = src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride
	case *image.NRGBA: // opaque camera frames; alpha is ignored
		pix, stride = src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, bl uint8
			if pix != nil {
				i := y*stride + 4*x
				r, g, bl = pix[i], pix[i+1], pix[i+2]
			} else {
				c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
				r, g, bl = c.R, c.G, c.B
			}
			yy, cb, cr := color.RGBToYCbCr(r, g, bl)
			dst.Y[y*dst.YStride+x] = yy
			if x&1 == 0 && y&1 == 0 {
				ci := (y/2)*dst.CStride + x/2
				dst.Cb[ci], dst.Cr[ci] = cb, cr
			}
		}
	}
	return dst
}
