//go:build cgo

package vp8

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

// rtcvp8_enc lives in C memory for the lifetime of an Encoder.
typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	vpx_image_t img;
	vpx_codec_iter_t iter;
	int initialized;
} rtcvp8_enc;

typedef struct {
	int width, height, bitrate_kbps, speed, threads, kf_max_dist;
} rtcvp8_params;

typedef struct {
	const void *buf;
	size_t sz;
	int keyframe;
	int found;
} rtcvp8_frame;

static rtcvp8_enc *rtcvp8_enc_alloc(void) {
	return (rtcvp8_enc *)calloc(1, sizeof(rtcvp8_enc));
}

static void rtcvp8_enc_destroy(rtcvp8_enc *e) {
	if (e->initialized) {
		vpx_codec_destroy(&e->ctx);
		e->initialized = 0;
	}
}

static void rtcvp8_enc_free(rtcvp8_enc *e) {
	rtcvp8_enc_destroy(e);
	free(e);
}

// rtcvp8_enc_init (re)initialises the encoder with real-time settings.
// On failure the encoder is left uninitialised.
static vpx_codec_err_t rtcvp8_enc_init(rtcvp8_enc *e, rtcvp8_params p) {
	vpx_codec_err_t err;
	vpx_codec_enc_cfg_t *cfg = &e->cfg;

	rtcvp8_enc_destroy(e);
	err = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), cfg, 0);
	if (err != VPX_CODEC_OK) return err;

	cfg->g_w = p.width;
	cfg->g_h = p.height;
	cfg->g_timebase.num = 1;
	cfg->g_timebase.den = 90000;
	cfg->g_threads = p.threads;
	cfg->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
	cfg->g_pass = VPX_RC_ONE_PASS;
	cfg->g_lag_in_frames = 0;
	cfg->rc_dropframe_thresh = 0;
	cfg->rc_resize_allowed = 0;
	cfg->rc_end_usage = VPX_CBR;
	cfg->rc_target_bitrate = p.bitrate_kbps;
	cfg->rc_min_quantizer = 4;
	cfg->rc_max_quantizer = 56;
	cfg->rc_undershoot_pct = 100;
	cfg->rc_overshoot_pct = 15;
	cfg->rc_buf_sz = 1000;
	cfg->rc_buf_initial_sz = 500;
	cfg->rc_buf_optimal_sz = 600;
	cfg->kf_mode = VPX_KF_AUTO;
	cfg->kf_min_dist = 0;
	cfg->kf_max_dist = p.kf_max_dist;

	err = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), cfg, 0);
	if (err != VPX_CODEC_OK) return err;
	e->initialized = 1;

	// vpx_codec_control is a macro expanding to typed inline functions, so
	// it has to be called from C.
	if ((err = vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, p.speed)) != VPX_CODEC_OK ||
	    (err = vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0u)) != VPX_CODEC_OK ||
	    (err = vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1u)) != VPX_CODEC_OK ||
	    (err = vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, (int)VP8_ONE_TOKENPARTITION)) != VPX_CODEC_OK ||
	    // A keyframe may take at most 9 frames' worth of bits (libwebrtc's
	    // rule: half the 600 ms optimal buffer at 30 fps), so the keyframe
	    // sent after a loss still fits a slow link's queue.
	    (err = vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 900u)) != VPX_CODEC_OK) {
		rtcvp8_enc_destroy(e);
		return err;
	}
	return VPX_CODEC_OK;
}

static vpx_codec_err_t rtcvp8_enc_set_bitrate(rtcvp8_enc *e, unsigned int kbps) {
	e->cfg.rc_target_bitrate = kbps;
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

// rtcvp8_encode encodes one I420 picture. The plane pointers may point to Go
// memory: they are stored in e->img only for the duration of this call.
static vpx_codec_err_t rtcvp8_encode(rtcvp8_enc *e, unsigned char *y, unsigned char *u,
		unsigned char *v, int y_stride, int c_stride, vpx_codec_pts_t pts,
		unsigned long duration, int force_kf) {
	vpx_codec_err_t err;
	vpx_image_t *img = &e->img;

	vpx_img_wrap(img, VPX_IMG_FMT_I420, e->cfg.g_w, e->cfg.g_h, 1, y);
	img->planes[VPX_PLANE_Y] = y;
	img->planes[VPX_PLANE_U] = u;
	img->planes[VPX_PLANE_V] = v;
	img->stride[VPX_PLANE_Y] = y_stride;
	img->stride[VPX_PLANE_U] = c_stride;
	img->stride[VPX_PLANE_V] = c_stride;

	err = vpx_codec_encode(&e->ctx, img, pts, duration,
		force_kf ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME);

	// Do not keep Go pointers in C memory beyond this call.
	img->img_data = NULL;
	img->planes[VPX_PLANE_Y] = NULL;
	img->planes[VPX_PLANE_U] = NULL;
	img->planes[VPX_PLANE_V] = NULL;
	e->iter = NULL;
	return err;
}

// rtcvp8_next_frame returns the next compressed frame packet produced by the
// last rtcvp8_encode call; found is 0 when there is none left.
static rtcvp8_frame rtcvp8_next_frame(rtcvp8_enc *e) {
	rtcvp8_frame f = {0};
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
			f.buf = pkt->data.frame.buf;
			f.sz = pkt->data.frame.sz;
			f.keyframe = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
			f.found = 1;
			return f;
		}
	}
	return f;
}

static const char *rtcvp8_enc_error_detail(rtcvp8_enc *e) {
	return vpx_codec_error_detail(&e->ctx);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// EncoderSettings configures an Encoder. Zero values take the documented
// defaults.
type EncoderSettings struct {
	// Width and Height are the picture size in pixels (1..16383 each).
	// They are required. Odd sizes are allowed. Encode re-initialises the
	// encoder when it is handed a picture of a different size.
	Width, Height int

	// FPS is the nominal frame rate, 1..1000, default 30. It sets the
	// duration of the first frame and the default Bitrate; later frame
	// durations come from the presentation times passed to Encode.
	FPS int

	// Bitrate is the CBR target in bits per second, 1000..1e9. The default is
	// 0.1 bits per pixel per frame, Width*Height*FPS/10, but at least
	// 100 kbit/s: 640x480@30 gives 921.6 kbit/s, 1280x720@30 2.76 Mbit/s.
	// With the default, the target is recomputed when the picture size
	// changes; an explicit value (or one set by SetBitrate) is kept.
	// libvpx works in kbit/s, so the value is rounded down to whole kbit/s.
	Bitrate int

	// Speed is libvpx's cpu-used setting, -16..16. Larger magnitudes encode
	// faster at lower quality. Negative values use that speed for every
	// frame, which keeps latency predictable; positive values let libvpx
	// adapt the speed to the real-time deadline. Zero selects the default:
	// -6 up to 640x480 pixels, -10 above (cpu-used 0, the slowest setting,
	// cannot be requested). On the moving test pattern
	// (BenchmarkEncodeSpeed), faster settings than -6 save nothing at
	// 640x480 and below and cost 2-8 dB of PSNR; at 1280x720, -10 takes a
	// fifth less time than -6 (5.9 against 7.4 ms a frame) for the same
	// PSNR.
	Speed int

	// Threads is the number of encoder threads. The default is 1 for
	// pictures up to 640x480 pixels, and 2 above on machines with more than
	// two cores (see below). The value is capped at
	// runtime.NumCPU() (and at libvpx's limit of 64).
	//
	// libvpx's VP8 encoder threads wait for each other by spinning, so
	// they only help when they get a core each. On a 2-core machine with
	// one core busy elsewhere, 1280x720 took 137 ms per frame with 2
	// threads against 9 ms with 1 (2.7 ms vs 4 ms when idle). Use 1 on
	// small or busy machines.
	Threads int

	// KeyframeInterval is the maximum number of frames between two
	// keyframes. Default 3000 (100 s at 30 fps): in WebRTC keyframes are
	// normally requested by peers (PLI/FIR) through Encode's forceKeyframe
	// argument, so periodic keyframes are only a safety net.
	KeyframeInterval int
}

const (
	defaultFPS              = 30
	defaultSpeed            = -6
	defaultSpeedLarge       = -10 // above 640x480: see EncoderSettings.Speed
	defaultKeyframeInterval = 3000
	minDefaultBitrate       = 100_000
	maxBitrate              = 1_000_000_000
	maxThreads              = 64 // libvpx's VP8 limit
	maxDimension            = 16383
	timebase                = 90000 // ticks per second fed to libvpx
)

// resolve validates s and fills in the defaults for the given picture size.
func (s EncoderSettings) resolve(width, height int) (EncoderSettings, error) {
	if width < 1 || height < 1 || width > maxDimension || height > maxDimension {
		return s, fmt.Errorf("vp8: invalid size %dx%d (each side must be 1..%d)", width, height, maxDimension)
	}
	s.Width, s.Height = width, height
	switch {
	case s.FPS < 0 || s.FPS > 1000:
		return s, fmt.Errorf("vp8: invalid FPS %d", s.FPS)
	case s.FPS == 0:
		s.FPS = defaultFPS
	}
	switch {
	case s.Bitrate < 0:
		return s, fmt.Errorf("vp8: invalid bitrate %d", s.Bitrate)
	case s.Bitrate == 0:
		s.Bitrate = min(max(width*height*s.FPS/10, minDefaultBitrate), maxBitrate)
	}
	if err := checkBitrate(s.Bitrate); err != nil {
		return s, err
	}
	switch {
	case s.Speed < -16 || s.Speed > 16:
		return s, fmt.Errorf("vp8: invalid speed %d (allowed -16..16)", s.Speed)
	case s.Speed == 0:
		s.Speed = defaultSpeed
		if width*height > 640*480 {
			s.Speed = defaultSpeedLarge
		}
	}
	switch {
	case s.Threads < 0:
		return s, fmt.Errorf("vp8: invalid thread count %d", s.Threads)
	case s.Threads == 0:
		s.Threads = 1
		if width*height > 640*480 && runtime.NumCPU() > 2 {
			s.Threads = 2
		}
	}
	s.Threads = min(s.Threads, runtime.NumCPU(), maxThreads)
	switch {
	case s.KeyframeInterval < 0:
		return s, fmt.Errorf("vp8: invalid keyframe interval %d", s.KeyframeInterval)
	case s.KeyframeInterval == 0:
		s.KeyframeInterval = defaultKeyframeInterval
	}
	return s, nil
}

// Encoder encodes I420 pictures to VP8 with libvpx set up for real time.
// Create it with NewEncoder and release it with Close. An Encoder is not
// safe for concurrent use, except that Close may be called at any time.
type Encoder struct {
	mu       sync.Mutex
	c        *C.rtcvp8_enc   // nil once closed
	user     EncoderSettings // as passed to NewEncoder, Bitrate updated by SetBitrate
	cur      EncoderSettings // resolved settings in effect
	started  bool            // a frame has been encoded since the last (re)init
	lastPTS  time.Duration   // caller's pts of the previous frame
	libvpxTS int64           // libvpx pts of the previous frame, in 1/90000 s
	lastDur  int64           // duration passed with the previous frame
}

// NewEncoder returns an Encoder configured by s. Width and Height are
// required; the other fields default as documented on EncoderSettings.
func NewEncoder(s EncoderSettings) (*Encoder, error) {
	cur, err := s.resolve(s.Width, s.Height)
	if err != nil {
		return nil, err
	}
	c := C.rtcvp8_enc_alloc()
	if c == nil {
		return nil, errors.New("vp8: out of memory")
	}
	e := &Encoder{c: c, user: s}
	if err := e.init(cur); err != nil {
		C.rtcvp8_enc_free(c)
		return nil, err
	}
	return e, nil
}

// init (re)initialises the libvpx encoder with resolved settings s.
// The caller holds e.mu (or owns e exclusively).
func (e *Encoder) init(s EncoderSettings) error {
	p := C.rtcvp8_params{
		width:        C.int(s.Width),
		height:       C.int(s.Height),
		bitrate_kbps: C.int(s.Bitrate / 1000),
		speed:        C.int(s.Speed),
		threads:      C.int(s.Threads),
		kf_max_dist:  C.int(s.KeyframeInterval),
	}
	if rc := C.rtcvp8_enc_init(e.c, p); rc != C.VPX_CODEC_OK {
		e.cur = EncoderSettings{} // not initialised: the next Encode retries
		return fmt.Errorf("vp8: encoder init %dx%d: %s", s.Width, s.Height, C.GoString(C.vpx_codec_err_to_string(rc)))
	}
	e.cur = s
	e.started = false
	return nil
}

// Encode encodes one I420 frame (image.YCbCr with SubsampleRatio420; other
// ratios are an error) whose presentation time is pts (monotonic, measured
// from the stream start); forceKeyframe asks for a keyframe. It returns the
// encoded frame (a fresh []byte the caller owns; nil if libvpx dropped the
// frame) and whether it is a keyframe. If the image size differs from the
// encoder's, the encoder re-initialises for the new size and the next frame
// is a keyframe.
//
// pts only feeds rate control: the gap to the previous frame is clamped to
// [1/90000 s, 1 s], so pauses and non-monotonic timestamps are harmless.
func (e *Encoder) Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (frame []byte, keyframe bool, err error) {
	frame, keyframe, err = e.AppendEncode(nil, img, pts, forceKeyframe)
	if len(frame) == 0 {
		frame = nil // dropped, or an error
	}
	return frame, keyframe, err
}

// AppendEncode is Encode writing the encoded frame into memory the caller
// provides: it appends the frame to dst and returns the extended slice, so
// that a caller reusing one buffer (AppendEncode(buf[:0], ...)) encodes
// without allocating once the buffer has grown to a frame's size. If libvpx
// dropped the frame, or on error, nothing is appended.
func (e *Encoder) AppendEncode(dst []byte, img *image.YCbCr, pts time.Duration, forceKeyframe bool) (frame []byte, keyframe bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return dst, false, ErrClosed
	}
	if img == nil {
		return dst, false, errors.New("vp8: nil image")
	}
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return dst, false, fmt.Errorf("vp8: unsupported chroma subsampling %v, need 4:2:0 (I420)", img.SubsampleRatio)
	}
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	if w <= 0 || h <= 0 {
		return dst, false, fmt.Errorf("vp8: empty image %v", r)
	}
	if err := checkPlanes(img); err != nil {
		return dst, false, err
	}

	if w != e.cur.Width || h != e.cur.Height {
		s, err := e.user.resolve(w, h)
		if err != nil {
			return dst, false, err
		}
		if err := e.init(s); err != nil {
			return dst, false, err
		}
	}

	ts, dur := e.timestamps(pts)
	yOff := img.YOffset(r.Min.X, r.Min.Y)
	cOff := img.COffset(r.Min.X, r.Min.Y)
	kf := C.int(0)
	if forceKeyframe {
		kf = 1
	}
	rc := C.rtcvp8_encode(e.c,
		(*C.uchar)(&img.Y[yOff]), (*C.uchar)(&img.Cb[cOff]), (*C.uchar)(&img.Cr[cOff]),
		C.int(img.YStride), C.int(img.CStride),
		C.vpx_codec_pts_t(ts), C.ulong(dur), kf)
	if rc != C.VPX_CODEC_OK {
		return dst, false, e.errorf("encode", rc)
	}
	e.started = true
	e.libvpxTS, e.lastDur, e.lastPTS = ts, dur, pts

	// With g_lag_in_frames = 0 libvpx emits at most one frame packet per
	// input picture; take the first and drain anything else.
	frame, found := dst, false
	for f := C.rtcvp8_next_frame(e.c); f.found != 0; f = C.rtcvp8_next_frame(e.c) {
		if !found && f.sz > 0 {
			frame = append(frame, unsafe.Slice((*byte)(f.buf), int(f.sz))...)
			keyframe, found = f.keyframe != 0, true
		}
	}
	return frame, keyframe, nil
}

// timestamps maps the caller's pts to the libvpx timeline: it advances by
// the pts gap clamped to [1 tick, 1 s], which keeps libvpx's timestamp and
// frame-rate arithmetic in range whatever the caller passes.
func (e *Encoder) timestamps(pts time.Duration) (ts, dur int64) {
	if !e.started {
		// First frame after (re)init: nominal duration. Keep the libvpx
		// timeline running across re-inits; it is monotonic either way.
		dur = max(int64(timebase/e.cur.FPS), 1)
		return e.libvpxTS + e.lastDur, dur
	}
	gap := pts - e.lastPTS
	switch {
	case gap >= time.Second:
		dur = timebase
	case gap <= 0:
		dur = 1
	default:
		dur = max((int64(gap)*timebase+int64(time.Second)/2)/int64(time.Second), 1) // rounded
	}
	return e.libvpxTS + dur, dur
}

// checkPlanes makes sure libvpx will not read outside the Go slices.
func checkPlanes(img *image.YCbCr) error {
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	if img.YStride < w || img.CStride < cw {
		return fmt.Errorf("vp8: strides %d/%d too small for width %d", img.YStride, img.CStride, w)
	}
	yOff := img.YOffset(r.Min.X, r.Min.Y)
	cOff := img.COffset(r.Min.X, r.Min.Y)
	if yOff < 0 || cOff < 0 ||
		len(img.Y)-yOff < (h-1)*img.YStride+w ||
		len(img.Cb)-cOff < (ch-1)*img.CStride+cw ||
		len(img.Cr)-cOff < (ch-1)*img.CStride+cw {
		return errors.New("vp8: image planes shorter than the image rectangle needs")
	}
	return nil
}

// SetBitrate changes the CBR target to bps bits per second (1000..1e9).
// It takes effect from the next frame and is kept across size changes.
func (e *Encoder) SetBitrate(bps int) error {
	if err := checkBitrate(bps); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return ErrClosed
	}
	e.user.Bitrate = bps
	if e.cur.Width == 0 { // a failed re-init left no libvpx encoder
		return nil
	}
	if rc := C.rtcvp8_enc_set_bitrate(e.c, C.uint(bps/1000)); rc != C.VPX_CODEC_OK {
		return e.errorf("set bitrate", rc)
	}
	e.cur.Bitrate = bps
	return nil
}

func checkBitrate(bps int) error {
	if bps < 1000 || bps > maxBitrate {
		return fmt.Errorf("vp8: bitrate %d bit/s outside 1000..%d", bps, maxBitrate)
	}
	return nil
}

// Close releases the libvpx encoder. It is idempotent and may be called
// while another goroutine is in Encode; later calls to Encode or
// SetBitrate return ErrClosed.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		C.rtcvp8_enc_free(e.c)
		e.c = nil
	}
	return nil
}

func (e *Encoder) errorf(op string, rc C.vpx_codec_err_t) error {
	msg := C.GoString(C.vpx_codec_err_to_string(rc))
	if d := C.rtcvp8_enc_error_detail(e.c); d != nil {
		msg += ": " + C.GoString(d)
	}
	return fmt.Errorf("vp8: %s: %s", op, msg)
}
