//go:build cgo

package yuv

/*
// Debian ships libyuv without a pkg-config file. The static library keeps
// the shared one, and the libjpeg and libstdc++ it links, out of programs.
#cgo LDFLAGS: -l:libyuv.a
#include <libyuv/convert.h>
#include <libyuv/convert_argb.h>
#include <libyuv/convert_from_argb.h>
#include <stdint.h>
#include <libyuv/scale.h>
#include <libyuv/scale_argb.h>

// rtcbot_argb_scale_clip scales into clip, the first pixel of the clip
// rectangle (cx, cy, cw, ch) of a dw x dh destination, which need not exist
// beyond it: libyuv addresses the clip from the destination's origin and
// writes only the clip.
static int rtcbot_argb_scale_clip(const uint8_t *src, int src_stride, int sw, int sh,
		uint8_t *clip, int dst_stride, int dw, int dh, int cx, int cy, int cw, int ch,
		enum FilterMode f) {
	uint8_t *origin = (uint8_t *)((uintptr_t)clip - (uintptr_t)cy * (uintptr_t)dst_stride - (uintptr_t)cx * 4);
	return ARGBScaleClip(src, src_stride, sw, sh, origin, dst_stride, dw, dh, cx, cy, cw, ch, f);
}
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

// from422or444 converts src, a 4:2:2 or 4:4:4 picture that passed
// checkPlanar, into dst, a 4:2:0 one of the same size.
func from422or444(dst, src *image.YCbCr) bool {
	sy, scb, scr := planes(src)
	dy, dcb, dcr := planes(dst)
	w, h := C.int(src.Rect.Dx()), C.int(src.Rect.Dy())
	var r C.int
	if src.SubsampleRatio == image.YCbCrSubsampleRatio444 {
		r = C.I444ToI420(ptr(sy), C.int(src.YStride), ptr(scb), C.int(src.CStride), ptr(scr), C.int(src.CStride),
			ptr(dy), C.int(dst.YStride), ptr(dcb), C.int(dst.CStride), ptr(dcr), C.int(dst.CStride), w, h)
	} else {
		r = C.I422ToI420(ptr(sy), C.int(src.YStride), ptr(scb), C.int(src.CStride), ptr(scr), C.int(src.CStride),
			ptr(dy), C.int(dst.YStride), ptr(dcb), C.int(dst.CStride), ptr(dcr), C.int(dst.CStride), w, h)
	}
	return r == 0
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

func scaleARGB(dst []byte, dstStride int, clip image.Rectangle, src []byte, srcStride, sw, sh int, size image.Point, f Filter) {
	C.rtcbot_argb_scale_clip(ptr(src), C.int(srcStride), C.int(sw), C.int(sh),
		ptr(dst), C.int(dstStride), C.int(size.X), C.int(size.Y),
		C.int(clip.Min.X), C.int(clip.Min.Y), C.int(clip.Dx()), C.int(clip.Dy()), filters[f])
}
