//go:build cgo

package yuv

/*
// Debian ships libyuv without a pkg-config file. The static library keeps
// the shared one, and the libjpeg and libstdc++ it links, out of programs.
#cgo LDFLAGS: -l:libyuv.a
#include <libyuv/convert_argb.h>
#include <libyuv/convert_from_argb.h>
#include <libyuv/scale.h>
*/
import "C"

import (
	"image"
	"unsafe"
)

// LibYUV reports whether the package uses libyuv: true in a build with cgo.
const LibYUV = true

// ptr returns the address of b's first byte for libyuv. The slices are Go
// memory without pointers in it, which cgo lets C use during the call.
func ptr(b []byte) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))) }

func fromABGR(dst *image.YCbCr, pix []byte, stride, w, h int) {
	y, cb, cr := planes(dst)
	C.ABGRToJ420(ptr(pix), C.int(stride),
		ptr(y), C.int(dst.YStride), ptr(cb), C.int(dst.CStride), ptr(cr), C.int(dst.CStride),
		C.int(w), C.int(h))
}

func toABGR(pix []byte, stride int, src *image.YCbCr) {
	y, cb, cr := planes(src)
	C.J420ToABGR(ptr(y), C.int(src.YStride), ptr(cb), C.int(src.CStride), ptr(cr), C.int(src.CStride),
		ptr(pix), C.int(stride), C.int(src.Rect.Dx()), C.int(src.Rect.Dy()))
}

func toRGB24(pix []byte, stride int, src *image.YCbCr) {
	y, cb, cr := planes(src)
	C.J420ToRGB24(ptr(y), C.int(src.YStride), ptr(cb), C.int(src.CStride), ptr(cr), C.int(src.CStride),
		ptr(pix), C.int(stride), C.int(src.Rect.Dx()), C.int(src.Rect.Dy()))
}

var filters = [...]C.enum_FilterMode{FilterNone: C.kFilterNone, FilterBilinear: C.kFilterBilinear, FilterBox: C.kFilterBox}

func scale(dst, src *image.YCbCr, f Filter) {
	sy, scb, scr := planes(src)
	dy, dcb, dcr := planes(dst)
	C.I420Scale(ptr(sy), C.int(src.YStride), ptr(scb), C.int(src.CStride), ptr(scr), C.int(src.CStride),
		C.int(src.Rect.Dx()), C.int(src.Rect.Dy()),
		ptr(dy), C.int(dst.YStride), ptr(dcb), C.int(dst.CStride), ptr(dcr), C.int(dst.CStride),
		C.int(dst.Rect.Dx()), C.int(dst.Rect.Dy()), filters[f])
}
