//go:build cgo

package x264

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	mdx264 "github.com/pion/mediadevices/pkg/codec/x264"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// EncoderSettings configures an Encoder. Zero values take the documented
// defaults.
type EncoderSettings struct {
	// Width and Height are the picture size in pixels (2..16384 each). They
	// are required. H.264 in 4:2:0 needs even sizes: an odd width or height
	// loses its last column or row. Encode re-initialises the encoder when
	// it is handed a picture of a different size.
	Width, Height int

	// FPS is the nominal frame rate, 1..1000, default 30. x264's rate
	// control plans Bitrate/FPS bits per frame (see the package
	// documentation).
	FPS int

	// Bitrate is the target in bits per second, 1000..1e9. The default is
	// 0.1 bits per pixel per frame, Width*Height*FPS/10, but at least
	// 100 kbit/s: 640x480@30 gives 921.6 kbit/s. With the default, the
	// target is recomputed when the picture size changes; an explicit value
	// is kept. x264 works in whole kbit/s.
	Bitrate int

	// KeyframeInterval is the maximum number of frames between two
	// keyframes, 1..1000000. Default 3000 (100 s at 30 fps): in WebRTC
	// keyframes are normally requested by peers (PLI/FIR) through Encode's
	// forceKeyframe argument, so periodic keyframes are only a safety net.
	KeyframeInterval int
}

const (
	defaultFPS              = 30
	defaultKeyframeInterval = 3000
	maxKeyframeInterval     = 1_000_000
	minDefaultBitrate       = 100_000
	maxBitrate              = 1_000_000_000
	maxDimension            = 16384
	// x264FPS is the frame rate x264 assumes when mediadevices passes it
	// none (x264's validate_parameters turns a zero i_fps_num into 25/1).
	x264FPS = 25
)

// resolve validates s and fills in the defaults for a picture of the given
// size, rounded down to even.
func (s EncoderSettings) resolve(width, height int) (EncoderSettings, error) {
	if width < 2 || height < 2 || width > maxDimension || height > maxDimension {
		return s, fmt.Errorf("x264: invalid size %dx%d (each side must be 2..%d)", width, height, maxDimension)
	}
	s.Width, s.Height = width&^1, height&^1
	switch {
	case s.FPS < 0 || s.FPS > 1000:
		return s, fmt.Errorf("x264: invalid FPS %d (allowed 1..1000)", s.FPS)
	case s.FPS == 0:
		s.FPS = defaultFPS
	}
	switch {
	case s.Bitrate == 0:
		s.Bitrate = min(max(s.Width*s.Height*s.FPS/10, minDefaultBitrate), maxBitrate)
	case s.Bitrate < 1000 || s.Bitrate > maxBitrate:
		return s, fmt.Errorf("x264: bitrate %d bit/s outside 1000..%d", s.Bitrate, maxBitrate)
	}
	switch {
	case s.KeyframeInterval < 0 || s.KeyframeInterval > maxKeyframeInterval:
		return s, fmt.Errorf("x264: invalid keyframe interval %d (allowed 1..%d)", s.KeyframeInterval, maxKeyframeInterval)
	case s.KeyframeInterval == 0:
		s.KeyframeInterval = defaultKeyframeInterval
	}
	return s, nil
}

// x264Bitrate is the bitrate in bit/s to hand mediadevices so that x264,
// planning for 25 fps, spends Bitrate/FPS bits per frame. It is at least
// 1 kbit/s, as x264 works in kbit/s.
func (s EncoderSettings) x264Bitrate() int {
	return max(s.Bitrate*x264FPS/s.FPS, 1000)
}

// Encoder encodes I420 pictures to H.264 (Annex B, Constrained Baseline)
// with x264. Create it with NewEncoder and release it with Close. An Encoder
// is not safe for concurrent use, except that Close may be called at any
// time.
type Encoder struct {
	mu     sync.Mutex
	closed bool
	user   EncoderSettings  // as passed to NewEncoder
	cur    EncoderSettings  // resolved settings of enc; zero when enc is nil
	enc    codec.ReadCloser // mediadevices' x264 encoder, nil after a failed re-init
	keys   codec.KeyFrameController
	pic    *image.YCbCr // the picture enc's reader hands out, during Encode only
	buf    *image.YCbCr // packed copy for pictures x264 cannot take as they are
}

// NewEncoder returns an Encoder configured by s. Width and Height are
// required; the other fields default as documented on EncoderSettings.
func NewEncoder(s EncoderSettings) (*Encoder, error) {
	cur, err := s.resolve(s.Width, s.Height)
	if err != nil {
		return nil, err
	}
	e := &Encoder{user: s}
	if err := e.open(cur); err != nil {
		return nil, err
	}
	return e, nil
}

// open (re)creates the x264 encoder with resolved settings s. The caller
// holds e.mu (or owns e exclusively).
func (e *Encoder) open(s EncoderSettings) error {
	if e.enc != nil {
		e.enc.Close()
		e.enc, e.keys, e.cur = nil, nil, EncoderSettings{}
	}
	params, err := mdx264.NewParams()
	if err != nil {
		return fmt.Errorf("x264: %w", err)
	}
	params.Preset = mdx264.PresetUltrafast
	params.BitRate = s.x264Bitrate()
	params.KeyFrameInterval = s.KeyframeInterval
	media := prop.Media{Video: prop.Video{
		Width: s.Width, Height: s.Height, FrameRate: float32(s.FPS), FrameFormat: frame.FormatI420,
	}}
	enc, err := params.BuildVideoEncoder(video.ReaderFunc(e.read), media)
	if err != nil {
		return fmt.Errorf("x264: open encoder for %dx%d: %w", s.Width, s.Height, err)
	}
	keys, ok := enc.Controller().(codec.KeyFrameController)
	if !ok { // mediadevices' x264 encoder has one; this guards an upgrade
		enc.Close()
		return errors.New("x264: the mediadevices encoder cannot force keyframes")
	}
	e.enc, e.keys, e.cur = enc, keys, s
	return nil
}

// read is the video.Reader mediadevices' encoder pulls from: it hands out
// the picture Encode is encoding.
func (e *Encoder) read() (image.Image, func(), error) {
	if e.pic == nil {
		return nil, func() {}, errors.New("x264: no picture to encode")
	}
	return e.pic, func() {}, nil
}

// Encode encodes one I420 picture (image.YCbCr with SubsampleRatio420; other
// ratios are an error); forceKeyframe asks for an IDR picture. It returns the
// encoded frame as Annex-B NAL units (a fresh []byte the caller owns) and
// whether it is a keyframe, that is contains an IDR slice (keyframes also
// carry SPS and PPS). If the picture size differs from the encoder's, the
// encoder re-initialises for the new size and the frame is a keyframe.
//
// pts is the picture's presentation time; mediadevices' bridge gives x264
// no timestamps, so it does not affect the output (rate control assumes
// frames at the nominal FPS).
func (e *Encoder) Encode(img *image.YCbCr, pts time.Duration, forceKeyframe bool) (frame []byte, keyframe bool, err error) {
	_ = pts
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, ErrClosed
	}
	w, h, err := checkImage(img)
	if err != nil {
		return nil, false, err
	}
	if e.enc == nil || w != e.cur.Width || h != e.cur.Height {
		s, err := e.user.resolve(w, h)
		if err != nil {
			return nil, false, err
		}
		if err := e.open(s); err != nil {
			return nil, false, err
		}
	}
	e.pic = e.packed(img, w, h)
	defer func() { e.pic = nil }()
	if forceKeyframe {
		if err := e.keys.ForceKeyFrame(); err != nil {
			return nil, false, fmt.Errorf("x264: force keyframe: %w", err)
		}
	}
	data, release, err := e.enc.Read()
	if release != nil {
		release()
	}
	if err != nil {
		return nil, false, fmt.Errorf("x264: encode %dx%d: %w", w, h, err)
	}
	return data, hasIDR(data), nil
}

// checkImage validates img and returns the size to encode: its size rounded
// down to even.
func checkImage(img *image.YCbCr) (w, h int, err error) {
	if img == nil {
		return 0, 0, errors.New("x264: nil image")
	}
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return 0, 0, fmt.Errorf("x264: unsupported chroma subsampling %v, need 4:2:0 (I420)", img.SubsampleRatio)
	}
	r := img.Rect
	if r.Dx() < 2 || r.Dy() < 2 {
		return 0, 0, fmt.Errorf("x264: image %v is smaller than 2x2", r)
	}
	w, h = r.Dx()&^1, r.Dy()&^1
	cw := (r.Max.X+1)/2 - r.Min.X/2
	if img.YStride < r.Dx() || img.CStride < cw {
		return 0, 0, fmt.Errorf("x264: strides %d/%d too small for %v", img.YStride, img.CStride, r)
	}
	last := image.Pt(r.Max.X-1, r.Max.Y-1)
	if img.YOffset(last.X, last.Y) >= len(img.Y) {
		return 0, 0, fmt.Errorf("x264: luma plane of %d bytes too short for %v", len(img.Y), r)
	}
	if c := img.COffset(last.X, last.Y); c >= len(img.Cb) || c >= len(img.Cr) {
		return 0, 0, fmt.Errorf("x264: chroma planes of %d/%d bytes too short for %v", len(img.Cb), len(img.Cr), r)
	}
	return w, h, nil
}

// packed returns img's top-left w x h pixels in the layout x264 reads:
// planes starting at index 0 with strides w and w/2. img is returned as it
// is when it has that layout already, otherwise it is copied into e.buf.
func (e *Encoder) packed(img *image.YCbCr, w, h int) *image.YCbCr {
	if img.Rect.Dx() == w && img.Rect.Dy() == h && img.YStride == w && img.CStride == w/2 {
		return img
	}
	if e.buf == nil || e.buf.Rect.Dx() != w || e.buf.Rect.Dy() != h {
		e.buf = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	dst, r := e.buf, img.Rect
	for y := range h {
		o := img.YOffset(r.Min.X, r.Min.Y+y)
		copy(dst.Y[y*dst.YStride:y*dst.YStride+w], img.Y[o:o+w])
	}
	for y := range h / 2 {
		o := img.COffset(r.Min.X, r.Min.Y+2*y)
		d := y * dst.CStride
		copy(dst.Cb[d:d+w/2], img.Cb[o:o+w/2])
		copy(dst.Cr[d:d+w/2], img.Cr[o:o+w/2])
	}
	return dst
}

// hasIDR reports whether an Annex-B stream contains an IDR slice. It
// scans for start codes as nalUnits does, without allocating.
func hasIDR(stream []byte) bool {
	zeros := 0
	for i, b := range stream {
		switch {
		case b == 0:
			zeros++
			continue
		case b == 1 && zeros >= 2 && i+1 < len(stream) && stream[i+1]&0x1f == nalIDR:
			return true
		}
		zeros = 0
	}
	return false
}

// NAL unit types used here (ITU-T H.264 table 7-1).
const (
	nalSlice = 1
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
)

// nalUnits splits an Annex-B stream at its start codes (00 00 01 or
// 00 00 00 01) and returns the non-empty NAL units, without start codes.
func nalUnits(stream []byte) [][]byte {
	var nals [][]byte
	start := -1 // start of the current NAL unit
	zeros := 0
	for i, b := range stream {
		switch {
		case b == 0:
			zeros++
			continue
		case b == 1 && zeros >= 2:
			if start >= 0 {
				if end := i - zeros; end > start {
					nals = append(nals, stream[start:end])
				}
			}
			start = i + 1
		}
		zeros = 0
	}
	if start >= 0 && start < len(stream) {
		nals = append(nals, stream[start:])
	}
	return nals
}

// Close releases the x264 encoder. It is idempotent and may be called while
// another goroutine is in Encode; later calls to Encode return ErrClosed.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var err error
	if e.enc != nil {
		err = e.enc.Close()
		e.enc, e.keys = nil, nil
	}
	if err != nil {
		return fmt.Errorf("x264: close: %w", err)
	}
	return nil
}

// SetBitrate changes the target to bps bits per second (1000..1e9) from the
// next frame, without re-creating the encoder (x264 reconfigures its rate
// control), and keeps it across size changes.
func (e *Encoder) SetBitrate(bps int) error {
	if bps < 1000 || bps > maxBitrate {
		return fmt.Errorf("x264: bitrate %d bit/s outside 1000..%d", bps, maxBitrate)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.user.Bitrate = bps
	if e.enc == nil { // a failed re-init: the next open uses e.user
		return nil
	}
	rc, ok := e.enc.Controller().(codec.BitRateController)
	if !ok {
		return errors.New("x264: the encoder cannot change its bitrate")
	}
	e.cur.Bitrate = bps
	return rc.SetBitRate(e.cur.x264Bitrate())
}
