//go:build cgo

package mjpeg

/*
// The static library keeps the shared one out of programs.
#cgo LDFLAGS: -l:libturbojpeg.a
#include <stdio.h>
#include <turbojpeg.h>

// rtcbot_tj_result is the outcome of a call, returned by value so that the
// Go caller's variables stay on its stack: what tjDecompressHeader3 reads,
// and on failure (ret != 0) libjpeg-turbo's message. The message is read in
// the call that failed because libjpeg-turbo keeps most messages in a
// thread-local string, and cgo calls may run on different threads.
typedef struct {
	int ret, w, h, subsamp, colorspace;
	int warning;
	char msg[200];
} rtcbot_tj_result;

static void rtcbot_tj_failed(tjhandle h, rtcbot_tj_result *r) {
	r->warning = tjGetErrorCode(h) == TJERR_WARNING;
	snprintf(r->msg, sizeof r->msg, "%s", tjGetErrorStr2(h));
}

static rtcbot_tj_result rtcbot_tj_read_header(tjhandle h, const unsigned char *buf, unsigned long n) {
	rtcbot_tj_result r = {0, 0, 0, -1, -1, 0, ""};
	r.ret = tjDecompressHeader3(h, buf, n, &r.w, &r.h, &r.subsamp, &r.colorspace);
	if (r.ret != 0) rtcbot_tj_failed(h, &r);
	return r;
}

// rtcbot_tj_planes decodes into the planes y, cb and cr (cb and cr NULL
// for a greyscale JPEG): the plane and stride arrays are built here, as
// cgo does not let Go pass C an array of Go pointers.
static rtcbot_tj_result rtcbot_tj_planes(tjhandle h, const unsigned char *buf, unsigned long n,
		unsigned char *y, unsigned char *cb, unsigned char *cr,
		int ystride, int cstride, int w, int ht, int flags) {
	rtcbot_tj_result r = {0, 0, 0, -1, -1, 0, ""};
	unsigned char *planes[3] = {y, cb, cr};
	int strides[3] = {ystride, cstride, cstride};
	r.ret = tjDecompressToYUVPlanes(h, buf, n, planes, w, strides, ht, flags);
	if (r.ret != 0) rtcbot_tj_failed(h, &r);
	return r;
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// LibJPEGTurbo reports whether the package decodes with libjpeg-turbo:
// true in a build with cgo.
const LibJPEGTurbo = true

// flags are the decoding flags: fail on libjpeg's warnings (corrupt data)
// instead of returning a damaged picture, and refuse progressive JPEGs of
// more than 500 scans (a denial of service). The inverse DCT is
// libjpeg-turbo's default for decoding, the accurate integer one:
// TJFLAG_FASTDCT made no difference BenchmarkDecode could measure (its SIMD
// accurate one is fast), and is less exact.
const flags = C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS

// A Decoder decodes JPEG frames with a TurboJPEG decompressor. It is not
// safe for concurrent use.
type Decoder struct {
	h         C.tjhandle // nil once closed, or if a reset failed
	unusable  error      // why h is nil: ErrClosed, or the reset's error
	maxPixels int
}

// NewDecoder returns a decoder. Close releases it.
func NewDecoder() (*Decoder, error) {
	h, err := newHandle()
	if err != nil {
		return nil, err
	}
	return &Decoder{h: h, maxPixels: MaxPixels}, nil
}

func newHandle() (C.tjhandle, error) {
	h := C.tjInitDecompress()
	if h == nil {
		return nil, fmt.Errorf("mjpeg: tjInitDecompress: %s", C.GoString(C.tjGetErrorStr2(nil)))
	}
	return h, nil
}

// Close releases the decompressor. It is idempotent; Decode then returns
// ErrClosed.
func (d *Decoder) Close() error {
	if d.h != nil {
		C.tjDestroy(d.h)
		d.h = nil
	}
	d.unusable = ErrClosed
	return nil
}

// ratios are the chroma subsamplings libjpeg-turbo decodes to planes.
var ratios = map[C.int]image.YCbCrSubsampleRatio{
	C.TJSAMP_444: image.YCbCrSubsampleRatio444,
	C.TJSAMP_422: image.YCbCrSubsampleRatio422,
	C.TJSAMP_420: image.YCbCrSubsampleRatio420,
	C.TJSAMP_440: image.YCbCrSubsampleRatio440,
	C.TJSAMP_411: image.YCbCrSubsampleRatio411,
}

// Decode decodes one JPEG frame into a new picture: an *image.YCbCr at the
// frame's subsampling, or an *image.Gray for a greyscale one. The frame is
// only read, during the call. Errors about the frame wrap ErrCorrupt.
func (d *Decoder) Decode(jpeg []byte) (image.Image, error) {
	if d.h == nil {
		return nil, d.unusable
	}
	img, err := d.decode(jpeg)
	if err != nil && len(jpeg) > 0 {
		d.reset()
	}
	return img, err
}

// reset replaces the decompressor after a failed frame. libjpeg-turbo
// 2.1's leaves its state where a header error stopped it, and fails every
// later frame (TestDecodeCorrupt); a new one also forgets the tables of
// earlier frames.
func (d *Decoder) reset() {
	if d.h != nil {
		C.tjDestroy(d.h)
	}
	d.h, d.unusable = newHandle()
}

func (d *Decoder) decode(jpeg []byte) (image.Image, error) {
	if len(jpeg) == 0 {
		return nil, errEmpty
	}
	hd := C.rtcbot_tj_read_header(d.h, ptr(jpeg), C.ulong(len(jpeg)))
	w, h := int(hd.w), int(hd.h)
	if hd.ret != 0 && (w <= 0 || h <= 0 || hd.subsamp >= 0) {
		return nil, tjError(&hd)
	}
	if err := checkSize(w, h, d.maxPixels); err != nil {
		return nil, err
	}
	switch ratio, ok := ratios[hd.subsamp]; {
	case hd.ret != 0: // a subsampling libjpeg-turbo does not know, such as 4:1:0
		d.reset()
		return decodeGo(jpeg, d.maxPixels)
	case hd.colorspace == C.TJCS_GRAY && hd.subsamp == C.TJSAMP_GRAY:
		img := image.NewGray(image.Rect(0, 0, w, h))
		if !fits(0, w, h, hd.subsamp, img.Stride, len(img.Pix)) {
			return nil, fmt.Errorf("mjpeg: %dx%d greyscale plane does not fit libjpeg-turbo's", w, h)
		}
		if err := d.planes(jpeg, img.Pix, nil, nil, img.Stride, 0, w, h); err != nil {
			return nil, err
		}
		return img, nil
	case hd.colorspace == C.TJCS_YCbCr && ok:
		img, err := newYCbCr(w, h, hd.subsamp, ratio)
		if err != nil {
			return nil, err
		}
		if err := d.planes(jpeg, img.Y, img.Cb, img.Cr, img.YStride, img.CStride, w, h); err != nil {
			return nil, err
		}
		return img, nil
	default: // RGB, CMYK: not for planes
		return decodeGo(jpeg, d.maxPixels)
	}
}

// newYCbCr returns a w x h picture whose planes are those libjpeg-turbo
// writes for subsampling samp. Its chroma planes are image.NewYCbCr's, but
// libjpeg-turbo writes the luma plane whole chroma samples wide and high
// (for 4:2:0, 321x241 pixels give a 322x242 luma plane): the picture is the
// w x h corner of one that size.
func newYCbCr(w, h int, samp C.int, ratio image.YCbCrSubsampleRatio) (*image.YCbCr, error) {
	pw := int(C.tjPlaneWidth(0, C.int(w), samp))
	ph := int(C.tjPlaneHeight(0, C.int(h), samp))
	if pw < w || ph < h {
		return nil, fmt.Errorf("mjpeg: libjpeg-turbo's %dx%d luma plane for %dx%d", pw, ph, w, h)
	}
	img := image.NewYCbCr(image.Rect(0, 0, pw, ph), ratio)
	if !fits(0, w, h, samp, img.YStride, len(img.Y)) ||
		!fits(1, w, h, samp, img.CStride, len(img.Cb)) || !fits(2, w, h, samp, img.CStride, len(img.Cr)) {
		return nil, fmt.Errorf("mjpeg: %dx%d %v planes do not fit libjpeg-turbo's", w, h, ratio)
	}
	return img.SubImage(image.Rect(0, 0, w, h)).(*image.YCbCr), nil
}

// fits reports whether a plane of the given stride and length holds
// libjpeg-turbo's plane for component comp of a w x h picture at
// subsampling samp, which it writes plane-width bytes a row.
func fits(comp, w, h int, samp C.int, stride, length int) bool {
	pw := int(C.tjPlaneWidth(C.int(comp), C.int(w), samp))
	ph := int(C.tjPlaneHeight(C.int(comp), C.int(h), samp))
	return pw > 0 && ph > 0 && pw <= stride && (ph-1)*stride+pw <= length
}

// planes decodes the frame into the planes, which fit it.
func (d *Decoder) planes(jpeg, y, cb, cr []byte, ystride, cstride, w, h int) error {
	r := C.rtcbot_tj_planes(d.h, ptr(jpeg), C.ulong(len(jpeg)), ptr(y), ptr(cb), ptr(cr),
		C.int(ystride), C.int(cstride), C.int(w), C.int(h), flags)
	if r.ret != 0 {
		return tjError(&r)
	}
	return nil
}

// tjError returns the error or warning of a failed call.
func tjError(r *C.rtcbot_tj_result) error {
	kind := "error"
	if r.warning != 0 {
		kind = "warning"
	}
	return fmt.Errorf("%w: libjpeg-turbo %s: %s", ErrCorrupt, kind, C.GoString(&r.msg[0]))
}

// ptr returns the address of b's first byte, or nil, for libjpeg-turbo.
// The slices are Go memory without pointers in it, which cgo lets C use
// during the call.
func ptr(b []byte) *C.uchar { return (*C.uchar)(unsafe.Pointer(unsafe.SliceData(b))) }
