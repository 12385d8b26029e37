//go:build cgo

package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>

// rtcav_dec lives in C memory for the lifetime of a Decoder. buf holds a C
// copy of the access unit being decoded, followed by the zero padding
// libavcodec requires, so FFmpeg never sees Go memory.
typedef struct {
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *frame; // avcodec_receive_frame's target
	AVFrame *out;   // the newest picture of the last decode call
	uint8_t *buf;
	size_t cap;
	int64_t max_pixels;
	// Set by rtcav_get_format when it refuses a stream, reset per call.
	int refused_w, refused_h; // a picture size over max_pixels
	int refused_fmt;          // a software pixel format other than 4:2:0
	int got;                  // pictures the last rtcav_decode_au yielded
} rtcav_dec;

// rtcav_get_format is libavcodec's get_format callback. FFmpeg's H.264
// decoder calls it when an SPS of a new size or format is activated, after
// setting the context's width and height and before allocating any picture
// buffer: the place to refuse a huge picture. It accepts only the planar
// 4:2:0 software formats.
static enum AVPixelFormat rtcav_get_format(AVCodecContext *ctx, const enum AVPixelFormat *fmts) {
	rtcav_dec *d = (rtcav_dec *)ctx->opaque;
	const enum AVPixelFormat *p;
	if (ctx->width <= 0 || ctx->height <= 0 ||
			(int64_t)ctx->width * ctx->height > d->max_pixels) {
		d->refused_w = ctx->width;
		d->refused_h = ctx->height;
		return AV_PIX_FMT_NONE;
	}
	// The list holds the hardware formats FFmpeg was built with (VAAPI,
	// VDPAU) and then the software format.
	for (p = fmts; *p != AV_PIX_FMT_NONE; p++) {
		if (*p == AV_PIX_FMT_YUV420P || *p == AV_PIX_FMT_YUVJ420P) return *p;
	}
	if (p != fmts) d->refused_fmt = p[-1];
	return AV_PIX_FMT_NONE;
}

static void rtcav_dec_free(rtcav_dec *d) {
	if (d == NULL) return;
	avcodec_free_context(&d->ctx);
	av_packet_free(&d->pkt);
	av_frame_free(&d->frame);
	av_frame_free(&d->out);
	free(d->buf);
	free(d);
}

// rtcav_open_ctx creates and opens d->ctx.
static int rtcav_open_ctx(rtcav_dec *d) {
	int ret;
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
	if (codec == NULL) return AVERROR_DECODER_NOT_FOUND;
	d->ctx = avcodec_alloc_context3(codec);
	if (d->ctx == NULL) return AVERROR(ENOMEM);
	d->ctx->opaque = d;
	d->ctx->get_format = rtcav_get_format;
	// Output every picture as soon as it is decoded, from one thread (frame
	// threads would each hold back a picture).
	d->ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
	d->ctx->thread_count = 1;
	// Pictures before the first IDR (or recovery point) reference pictures
	// the decoder never saw: do not output them.
	d->ctx->flags &= ~AV_CODEC_FLAG_OUTPUT_CORRUPT;
	d->ctx->flags2 &= ~AV_CODEC_FLAG2_SHOW_ALL;
	// Cropping is applied while copying the picture out: FFmpeg's own
	// cropping keeps a left crop that is not a multiple of its alignment.
	d->ctx->apply_cropping = 0;
	// A backstop behind rtcav_get_format for every allocation libavcodec
	// checks. FFmpeg counts the width rounded up to its stride alignment,
	// so leave room for that; get_format applies the exact limit.
	d->ctx->max_pixels = 2 * d->max_pixels;
	ret = avcodec_open2(d->ctx, codec, NULL);
	if (ret < 0) avcodec_free_context(&d->ctx);
	return ret;
}

static int rtcav_dec_new(rtcav_dec **out, int64_t max_pixels) {
	int ret;
	rtcav_dec *d;
	*out = NULL;
	d = (rtcav_dec *)calloc(1, sizeof(rtcav_dec));
	if (d == NULL) return AVERROR(ENOMEM);
	d->max_pixels = max_pixels;
	d->refused_fmt = AV_PIX_FMT_NONE;
	d->pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	d->out = av_frame_alloc();
	if (d->pkt == NULL || d->frame == NULL || d->out == NULL) {
		rtcav_dec_free(d);
		return AVERROR(ENOMEM);
	}
	if ((ret = rtcav_open_ctx(d)) < 0) {
		rtcav_dec_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

// rtcav_receive takes every picture the decoder has ready, keeping the
// newest in d->out. It returns 0 or a decoding error.
static int rtcav_receive(rtcav_dec *d, int *got) {
	int ret;
	for (;;) {
		ret = avcodec_receive_frame(d->ctx, d->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
		if (ret < 0) return ret;
		av_frame_unref(d->out);
		av_frame_move_ref(d->out, d->frame);
		(*got)++;
	}
}

// rtcav_restart replaces the decoder with a fresh one before an IDR
// access unit; the pictures the old one still holds are drained into
// d->out first (they precede the IDR in output order). A flush
// (avcodec_flush_buffers) is not enough in FFmpeg 5.1, for two reasons
// FuzzDecode found:
//   - the reorder depth (has_b_frames) only ever grows: an SPS declaring
//     reordering, or a jump in picture order counts, raises it, and from
//     then on every picture is held back by that many frames, so one bad
//     access unit would add latency for good;
//   - after some corrupt slices, state that survives a flush makes the next
//     IDR picture decode wrongly (from one wrong 4x4 block to a PSNR of
//     17 dB).
// The parameter sets are lost with the old decoder; the caller sends the
// ones it has seen along with the IDR.
static int rtcav_restart(rtcav_dec *d, int *got) {
	int ret = 0;
	if (d->ctx != NULL) {
		ret = avcodec_send_packet(d->ctx, NULL);
		if (ret == 0) ret = rtcav_receive(d, got);
		avcodec_free_context(&d->ctx);
	}
	if (ret < 0) {
		// A decoding error in the pictures before the IDR does not concern
		// the IDR; only drop them.
		av_frame_unref(d->out);
		*got = 0;
	}
	return rtcav_open_ctx(d);
}

// rtcav_decode sends one access unit to the decoder and receives the
// pictures it yields; *got is their number and d->out holds the newest.
// idr says whether the access unit holds an IDR slice (see rtcav_restart),
// in which case data starts with the parameter sets seen before.
// On error no picture is kept.
static int rtcav_decode(rtcav_dec *d, const void *data, size_t n, int idr, int *got) {
	int ret, tries;
	*got = 0;
	d->refused_w = d->refused_h = 0;
	d->refused_fmt = AV_PIX_FMT_NONE;
	av_frame_unref(d->out);
	if (idr || d->ctx == NULL) {
		// d->ctx is NULL only if opening a new one failed before.
		if ((ret = rtcav_restart(d, got)) < 0) {
			av_frame_unref(d->out);
			*got = 0;
			return ret;
		}
	}
	if (n > (size_t)INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) return AVERROR(EINVAL);
	if (n + AV_INPUT_BUFFER_PADDING_SIZE > d->cap) {
		uint8_t *b = (uint8_t *)realloc(d->buf, n + AV_INPUT_BUFFER_PADDING_SIZE);
		if (b == NULL) return AVERROR(ENOMEM);
		d->buf = b;
		d->cap = n + AV_INPUT_BUFFER_PADDING_SIZE;
	}
	memcpy(d->buf, data, n);
	memset(d->buf + n, 0, AV_INPUT_BUFFER_PADDING_SIZE);
	av_packet_unref(d->pkt);
	d->pkt->data = d->buf;
	d->pkt->size = (int)n;
	// EAGAIN means the decoder holds pictures that must be received before
	// it takes more input. Every call drains the decoder, so it should not
	// happen; handle it anyway, a bounded number of times.
	for (tries = 0; tries < 4; tries++) {
		ret = avcodec_send_packet(d->ctx, d->pkt);
		if (ret != AVERROR(EAGAIN)) break;
		ret = rtcav_receive(d, got);
		if (ret < 0) break;
	}
	if (ret == 0) {
		ret = rtcav_receive(d, got);
	} else {
		// Leave nothing behind for the next call.
		int ignored = 0;
		rtcav_receive(d, &ignored);
	}
	d->pkt->data = NULL;
	d->pkt->size = 0;
	if (ret < 0) {
		av_frame_unref(d->out);
		*got = 0;
	}
	return ret;
}

// rtcav_decode_au is rtcav_decode counting the pictures in d->got, so that
// the Go caller passes no pointer to its own variable (which would move it
// to the heap).
static int rtcav_decode_au(rtcav_dec *d, const void *data, size_t n, int idr) {
	return rtcav_decode(d, data, n, idr, &d->got);
}

static int rtcav_invaliddata(void) { return AVERROR_INVALIDDATA; }
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"
	"unsafe"
)

const (
	// maxAccessUnitSize bounds the input to Decode; an H.264 access unit of
	// a 4096x4096 picture is far smaller.
	maxAccessUnitSize = 64 << 20
	// maxDecodePixels bounds the picture size an SPS may declare. H.264
	// level 6.2 allows 139264 macroblocks (about 35.6 million pixels), and
	// the syntax far more; 4096x4096 covers 4K video.
	maxDecodePixels = 4096 * 4096
)

var quietOnce sync.Once

// Decoder decodes H.264 access units with libavcodec. Create it with
// NewH264Decoder and release it with Close. A Decoder is not safe for
// concurrent use, except that Close may be called at any time.
type Decoder struct {
	mu     sync.Mutex
	c      *C.rtcav_dec // nil once closed
	params [][]byte     // SPS and PPS NAL units seen, see remember
}

// NewH264Decoder returns a Decoder ready for a stream starting with an IDR
// access unit (with its SPS and PPS before it).
func NewH264Decoder() (*Decoder, error) {
	quietOnce.Do(func() { C.av_log_set_level(C.AV_LOG_QUIET) })
	var c *C.rtcav_dec
	if rc := C.rtcav_dec_new(&c, maxDecodePixels); rc < 0 {
		return nil, fmt.Errorf("avcodec: H.264 decoder init: %s", avError(rc))
	}
	return &Decoder{c: c}, nil
}

// Decode decodes one complete access unit in Annex-B form and returns its
// picture as a new *image.YCbCr (4:2:0, chroma planes (w+1)/2 x (h+1)/2,
// Rect at the origin) owned by the caller. It returns (nil, nil) if the
// access unit yields no picture, as one holding only SPS and PPS does.
//
// Corrupt or truncated input returns an error, and so does a picture
// FFmpeg decoded with errors or concealment, an SPS declaring more than
// 4096*4096 pixels, and a stream in a format other than 8-bit 4:2:0. A nil
// or empty access unit is an error. Should one access unit yield several
// pictures (a stream with reordering, or several access units passed as
// one), the newest is returned and the others are dropped.
func (d *Decoder) Decode(accessUnit []byte) (*image.YCbCr, error) {
	if len(accessUnit) == 0 {
		return nil, errors.New("avcodec: empty access unit")
	}
	if len(accessUnit) > maxAccessUnitSize {
		return nil, fmt.Errorf("avcodec: access unit of %d bytes too large", len(accessUnit))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		return nil, ErrClosed
	}
	idr, paramsOnly, params := scanNALs(accessUnit)
	packet := accessUnit
	if idr != 0 {
		// The decoder is replaced at an IDR (see rtcav_restart): give the
		// new one the parameter sets the old one had; the access unit's
		// own come after them.
		packet = d.withParams(accessUnit)
	}
	d.remember(params)
	rc := C.rtcav_decode_au(d.c, unsafe.Pointer(&packet[0]), C.size_t(len(packet)), C.int(idr))
	if d.c.refused_w != 0 || d.c.refused_h != 0 {
		return nil, fmt.Errorf("avcodec: picture size %dx%d exceeds the limit of %d pixels",
			int(d.c.refused_w), int(d.c.refused_h), maxDecodePixels)
	}
	if f := d.c.refused_fmt; f != C.AV_PIX_FMT_NONE {
		return nil, fmt.Errorf("avcodec: unsupported pixel format %s, need 8-bit 4:2:0", pixFmtName(int32(f)))
	}
	if rc < 0 {
		// FFmpeg's H.264 decoder parses the SPS and PPS of an access unit
		// without slices and then fails it with AVERROR_INVALIDDATA ("no
		// frame!"), which for this API is an access unit without a picture.
		if rc == C.rtcav_invaliddata() && paramsOnly {
			return nil, nil
		}
		return nil, fmt.Errorf("avcodec: decode: %s", avError(rc))
	}
	if d.c.got == 0 {
		return nil, nil
	}
	return copyFrame(d.c.out)
}

// scanNALs looks at the NAL units of an Annex-B access unit. idr reports
// an IDR slice (type 5) among them. paramsOnly reports that there is at
// least one NAL unit, every header is well formed, and none is a slice
// (types 1 to 5) or of a type ITU-T H.264 reserves or leaves unspecified
// (0, 13 to 31): SPS, PPS, SEI, access unit delimiters and the like, which
// carry no picture. Input without a start code has neither. params are the
// SPS and PPS NAL units (without start codes; slices of au).
func scanNALs(au []byte) (idr int, paramsOnly bool, params [][]byte) {
	n, bad := 0, false
	zeros := 0
	start := -1          // of the current NAL unit
	end := func(i int) { // the current NAL unit ends before au[i]
		if start >= 0 && start < i {
			nal := au[start:i]
			for len(nal) > 0 && nal[len(nal)-1] == 0 {
				nal = nal[:len(nal)-1]
			}
			// The NAL unit may be all zeros (a header byte 0 and zero
			// padding), and is empty once they are trimmed.
			if len(nal) > 1 && (nal[0]&0x1f == 7 || nal[0]&0x1f == 8) {
				params = append(params, nal)
			}
		}
	}
	for i := 0; i < len(au); i++ {
		b := au[i]
		if b == 0 {
			zeros++
			continue
		}
		if b == 1 && zeros >= 2 && i+1 < len(au) {
			end(i)
			start = i + 1
			h := au[i+1]
			t := h & 0x1f
			if t == 5 {
				idr = 1
			}
			if h&0x80 != 0 || t < 6 || t > 12 { // forbidden_zero_bit, slices, reserved
				bad = true
			}
			n++
		}
		zeros = 0
	}
	end(len(au))
	return idr, n > 0 && !bad, params
}

const (
	// maxParamSets and maxParamSetSize bound the SPS and PPS NAL units a
	// Decoder remembers. H.264 allows 32 SPS and 256 PPS ids; real streams
	// use one of each, and an SPS or PPS is rarely over 100 bytes.
	maxParamSets    = 32
	maxParamSetSize = 1024
)

// remember records the SPS and PPS NAL units of an access unit, most
// recent last, each once. Replayed in this order they give a new FFmpeg
// decoder the parameter sets the old one had: the last one of each id.
func (d *Decoder) remember(params [][]byte) {
	for _, p := range params {
		if len(p) > maxParamSetSize {
			continue
		}
		d.params = slices.DeleteFunc(d.params, func(q []byte) bool { return bytes.Equal(p, q) })
		if len(d.params) == maxParamSets {
			d.params = slices.Delete(d.params, 0, 1)
		}
		d.params = append(d.params, bytes.Clone(p))
	}
}

// withParams returns au behind the remembered parameter sets.
func (d *Decoder) withParams(au []byte) []byte {
	if len(d.params) == 0 {
		return au
	}
	n := len(au)
	for _, p := range d.params {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range d.params {
		out = append(out, 0, 0, 0, 1)
		out = append(out, p...)
	}
	return append(out, au...)
}

// copyFrame copies the cropped picture of a decoded frame into a new
// image.YCbCr.
func copyFrame(f *C.AVFrame) (*image.YCbCr, error) {
	if fl := f.decode_error_flags; fl != 0 || f.flags&C.AV_FRAME_FLAG_CORRUPT != 0 {
		return nil, fmt.Errorf("avcodec: picture decoded with errors (%s)", describeErrorFlags(int(fl)))
	}
	if f.format != C.AV_PIX_FMT_YUV420P && f.format != C.AV_PIX_FMT_YUVJ420P {
		return nil, fmt.Errorf("avcodec: unsupported pixel format %s, need 8-bit 4:2:0", pixFmtName(int32(f.format)))
	}
	fw, fh := int(f.width), int(f.height)
	left, top := uint64(f.crop_left), uint64(f.crop_top)
	right, bottom := uint64(f.crop_right), uint64(f.crop_bottom)
	if fw <= 0 || fh <= 0 || left+right >= uint64(fw) || top+bottom >= uint64(fh) {
		return nil, fmt.Errorf("avcodec: decoded picture has invalid size %dx%d (crop %d/%d/%d/%d)",
			fw, fh, left, right, top, bottom)
	}
	w, h := fw-int(left+right), fh-int(top+bottom)
	if w*h > maxDecodePixels { // rtcav_get_format has refused it already
		return nil, fmt.Errorf("avcodec: picture size %dx%d exceeds the limit of %d pixels", w, h, maxDecodePixels)
	}
	x0, y0 := int(left), int(top)
	out := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	cw, ch := (w+1)/2, (h+1)/2
	copyPlane(out.Y, out.YStride, f.data[0], int(f.linesize[0]), x0, y0, w, h)
	copyPlane(out.Cb, out.CStride, f.data[1], int(f.linesize[1]), x0/2, y0/2, cw, ch)
	copyPlane(out.Cr, out.CStride, f.data[2], int(f.linesize[2]), x0/2, y0/2, cw, ch)
	return out, nil
}

// copyPlane copies the w x h pixels at (x0, y0) of a plane in C memory with
// stride srcStride.
func copyPlane(dst []byte, dstStride int, src *C.uint8_t, srcStride, x0, y0, w, h int) {
	for y := range h {
		row := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(src), (y0+y)*srcStride+x0)), w)
		copy(dst[y*dstStride:y*dstStride+w], row)
	}
}

// describeErrorFlags names the FF_DECODE_ERROR_* flags in fl.
func describeErrorFlags(fl int) string {
	var s string
	for _, e := range []struct {
		bit  int
		name string
	}{
		{C.FF_DECODE_ERROR_INVALID_BITSTREAM, "invalid bitstream"},
		{C.FF_DECODE_ERROR_MISSING_REFERENCE, "missing reference"},
		{C.FF_DECODE_ERROR_CONCEALMENT_ACTIVE, "concealment"},
		{C.FF_DECODE_ERROR_DECODE_SLICES, "slices not decoded"},
	} {
		if fl&e.bit != 0 {
			if s != "" {
				s += ", "
			}
			s += e.name
		}
	}
	if s == "" {
		s = "marked corrupt"
	}
	return s
}

// pixFmtName returns FFmpeg's name of a pixel format.
func pixFmtName(f int32) string {
	if name := C.av_get_pix_fmt_name(C.enum_AVPixelFormat(f)); name != nil {
		return C.GoString(name)
	}
	return fmt.Sprintf("#%d", f)
}

// avError returns FFmpeg's description of an AVERROR code.
func avError(rc C.int) string {
	var buf [128]C.char
	if C.av_strerror(rc, &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("error %d", int(rc))
	}
	return C.GoString(&buf[0])
}

// Close releases the libavcodec decoder. It is idempotent and may be called
// while another goroutine is in Decode; later calls to Decode return
// ErrClosed.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		C.rtcav_dec_free(d.c)
		d.c = nil
	}
	return nil
}
