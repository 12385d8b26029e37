//go:build cgo

package vp8

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

// rtcvp8_dec lives in C memory for the lifetime of a Decoder. buf holds a
// C copy of the frame being decoded, so libvpx never sees Go memory.
typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_iter_t iter;
	unsigned char *buf;
	size_t cap;
} rtcvp8_dec;

static vpx_codec_err_t rtcvp8_dec_new(rtcvp8_dec **out) {
	vpx_codec_err_t err;
	rtcvp8_dec *d = (rtcvp8_dec *)calloc(1, sizeof(rtcvp8_dec));
	*out = NULL;
	if (d == NULL) return VPX_CODEC_MEM_ERROR;
	err = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), NULL, 0);
	if (err != VPX_CODEC_OK) {
		free(d);
		return err;
	}
	*out = d;
	return VPX_CODEC_OK;
}

static void rtcvp8_dec_free(rtcvp8_dec *d) {
	vpx_codec_destroy(&d->ctx);
	free(d->buf);
	free(d);
}

static vpx_codec_err_t rtcvp8_decode(rtcvp8_dec *d, const void *data, size_t n) {
	d->iter = NULL;
	if (n > d->cap) {
		unsigned char *b = (unsigned char *)realloc(d->buf, n);
		if (b == NULL) return VPX_CODEC_MEM_ERROR;
		d->buf = b;
		d->cap = n;
	}
	memcpy(d->buf, data, n);
	return vpx_codec_decode(&d->ctx, d->buf, (unsigned int)n, NULL, 0);
}

// rtcvp8_peek reports whether data starts a keyframe and its declared size.
// It returns the size by value, so that the Go caller's variables stay on
// its stack.
typedef struct {
	unsigned int w, h;
	int is_kf;
} rtcvp8_peeked;

static rtcvp8_peeked rtcvp8_peek(const void *data, size_t n) {
	rtcvp8_peeked out = {0};
	vpx_codec_stream_info_t si;
	memset(&si, 0, sizeof(si));
	si.sz = sizeof(si);
	if (vpx_codec_peek_stream_info(vpx_codec_vp8_dx(), (const uint8_t *)data,
			(unsigned int)n, &si) != VPX_CODEC_OK) {
		return out;
	}
	out.w = si.w;
	out.h = si.h;
	out.is_kf = si.is_kf;
	return out;
}

static vpx_image_t *rtcvp8_get_frame(rtcvp8_dec *d) {
	return vpx_codec_get_frame(&d->ctx, &d->iter);
}

static const char *rtcvp8_dec_error_detail(rtcvp8_dec *d) {
	return vpx_codec_error_detail(&d->ctx);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"unsafe"
)

const (
	// maxFrameSize bounds the input to Decode; a VP8 frame is far smaller.
	maxFrameSize = 64 << 20
	// maxDecodePixels bounds the picture size a keyframe may declare. VP8
	// allows up to 16383x16383, for which libvpx would allocate over 1 GB
	// on the say-so of a 10-byte header; 4096x4096 covers 4K video.
	maxDecodePixels = 4096 * 4096
)

// Decoder decodes VP8 frames with libvpx. Create it with NewDecoder and
// release it with Close. A Decoder is not safe for concurrent use, except
// that Close may be called at any time.
type Decoder struct {
	mu sync.Mutex
	c  *C.rtcvp8_dec // nil once closed
}

// NewDecoder returns a Decoder ready for a stream starting with a keyframe.
func NewDecoder() (*Decoder, error) {
	var c *C.rtcvp8_dec
	if rc := C.rtcvp8_dec_new(&c); rc != C.VPX_CODEC_OK {
		return nil, fmt.Errorf("vp8: decoder init: %s", C.GoString(C.vpx_codec_err_to_string(rc)))
	}
	return &Decoder{c: c}, nil
}

// Decode decodes one complete VP8 frame and returns the picture as a new
// *image.YCbCr (4:2:0, chroma planes (w+1)/2 x (h+1)/2) owned by the
// caller. Corrupt or truncated input returns an error. A nil or empty
// frame is an error, and so is a frame that decodes to no picture (a VP8
// frame with show_frame = 0). Keyframes declaring more than 4096*4096
// pixels are rejected.
func (d *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	if len(frame) == 0 {
		return nil, errors.New("vp8: empty frame")
	}
	if len(frame) > maxFrameSize {
		return nil, fmt.Errorf("vp8: frame of %d bytes too large", len(frame))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	if p := C.rtcvp8_peek(unsafe.Pointer(&frame[0]), C.size_t(len(frame))); p.is_kf != 0 &&
		uint64(p.w)*uint64(p.h) > maxDecodePixels {
		return nil, fmt.Errorf("vp8: keyframe size %dx%d exceeds the limit of %d pixels", uint(p.w), uint(p.h), maxDecodePixels)
	}
	if rc := C.rtcvp8_decode(d.c, unsafe.Pointer(&frame[0]), C.size_t(len(frame))); rc != C.VPX_CODEC_OK {
		msg := C.GoString(C.vpx_codec_err_to_string(rc))
		if detail := C.rtcvp8_dec_error_detail(d.c); detail != nil {
			msg += ": " + C.GoString(detail)
		}
		return nil, fmt.Errorf("vp8: decode: %s", msg)
	}
	img := C.rtcvp8_get_frame(d.c)
	if img == nil {
		return nil, errors.New("vp8: frame produced no picture")
	}
	return copyImage(img)
}

// copyImage copies a libvpx I420 image into a new image.YCbCr.
func copyImage(img *C.vpx_image_t) (*image.YCbCr, error) {
	if img.fmt != C.VPX_IMG_FMT_I420 {
		return nil, fmt.Errorf("vp8: unexpected decoded image format %d", int(img.fmt))
	}
	w, h := int(img.d_w), int(img.d_h)
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("vp8: decoded image has invalid size %dx%d", w, h)
	}
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	cw, ch := (w+1)/2, (h+1)/2
	copyPlane(out.Y, out.YStride, img.planes[C.VPX_PLANE_Y], int(img.stride[C.VPX_PLANE_Y]), w, h)
	copyPlane(out.Cb, out.CStride, img.planes[C.VPX_PLANE_U], int(img.stride[C.VPX_PLANE_U]), cw, ch)
	copyPlane(out.Cr, out.CStride, img.planes[C.VPX_PLANE_V], int(img.stride[C.VPX_PLANE_V]), cw, ch)
	return out, nil
}

// copyPlane copies a w x h plane from C memory with stride srcStride.
func copyPlane(dst []byte, dstStride int, src *C.uchar, srcStride, w, h int) {
	for y := 0; y < h; y++ {
		row := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(src), y*srcStride)), w)
		copy(dst[y*dstStride:y*dstStride+w], row)
	}
}

// Close releases the libvpx decoder. It is idempotent and may be called
// while another goroutine is in Decode; later calls to Decode return
// ErrClosed.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		C.rtcvp8_dec_free(d.c)
		d.c = nil
	}
	return nil
}
