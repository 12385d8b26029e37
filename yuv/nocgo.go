//go:build !cgo

package yuv

import "image"

// LibYUV reports whether the package uses libyuv: false in a build without
// cgo, where it uses its Go implementations.
const LibYUV = false

func fromABGR(dst *image.YCbCr, pix []byte, stride, w, h int) { fromABGRGo(dst, pix, stride, w, h) }

func from422or444(*image.YCbCr, *image.YCbCr) bool { return false } // FromImage uses fromYCbCrGo

func toABGR(pix []byte, stride int, src *image.YCbCr) { toABGRGo(pix, stride, src) }

func toRGB24(pix []byte, stride int, src *image.YCbCr) { toRGB24Go(pix, stride, src) }

func scale(dst, src *image.YCbCr, f Filter) { scaleGo(dst, src, f) }

func scaleARGB(dst []byte, dstStride int, clip image.Rectangle, src []byte, srcStride, sw, sh int, size image.Point, _ Filter) {
	scaleARGBGo(dst, dstStride, clip, src, srcStride, sw, sh, size)
}
