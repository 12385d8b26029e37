package cv

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"runtime"
	"unsafe"

	"github.com/rtcbot-go/rtcbot/yuv"
	"gocv.io/x/gocv"
)

// FromMat returns m, an 8-bit BGR (3 channels, what OpenCV cameras and files
// give), BGRA (4) or grey (1) Mat, as a new *image.RGBA. The conversion runs
// in OpenCV and writes straight into the picture's memory.
func FromMat(m gocv.Mat) (*image.RGBA, error) {
	var code gocv.ColorConversionCode
	switch m.Type() {
	case gocv.MatTypeCV8UC3:
		code = gocv.ColorBGRToRGBA
	case gocv.MatTypeCV8UC4:
		code = gocv.ColorBGRAToRGBA
	case gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGRA // grey is the same in either order
	default:
		return nil, fmt.Errorf("cv: FromMat: unsupported Mat type %v", m.Type())
	}
	if m.Empty() {
		return nil, errors.New("cv: FromMat: empty Mat")
	}
	img := image.NewRGBA(image.Rect(0, 0, m.Cols(), m.Rows()))
	err := intoRGBA(img, func(dst *gocv.Mat) { gocv.CvtColor(m, dst, code) })
	return img, err
}

// intoRGBA runs f with a 4-channel Mat that uses img's pixels (img must be
// packed: Stride 4*width, at the origin), so that an OpenCV function writing
// a Mat of that size and type writes img directly. Should f leave the Mat
// with other memory, what it holds is copied into img.
func intoRGBA(img *image.RGBA, f func(dst *gocv.Mat)) error {
	dst, err := gocv.NewMatFromBytes(img.Rect.Dy(), img.Rect.Dx(), gocv.MatTypeCV8UC4, img.Pix)
	if err != nil {
		return fmt.Errorf("cv: %w", err)
	}
	defer dst.Close()
	f(&dst)
	if dst.Rows() != img.Rect.Dy() || dst.Cols() != img.Rect.Dx() || dst.Type() != gocv.MatTypeCV8UC4 {
		return fmt.Errorf("cv: OpenCV made a %dx%d %v Mat, want %dx%d RGBA",
			dst.Cols(), dst.Rows(), dst.Type(), img.Rect.Dx(), img.Rect.Dy())
	}
	if p, err := dst.DataPtrUint8(); err == nil && unsafe.SliceData(p) != unsafe.SliceData(img.Pix) {
		copy(img.Pix, p) // OpenCV reallocated; not expected
	}
	runtime.KeepAlive(img)
	return nil
}

// packed returns img's pixels as a packed RGBA picture (Stride 4*width, at
// the origin): img's own pixels when it is an *image.RGBA or *image.NRGBA
// (alpha ignored) whose rows are contiguous, otherwise a conversion into
// *buf, which is reused if it has the right size and replaced if not (buf
// may be nil). 4:2:0 frames are converted by libyuv (package yuv), other
// kinds by image/draw.
func packed(img image.Image, buf **image.RGBA) *image.RGBA {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	var pix []byte
	switch m := img.(type) {
	case *image.RGBA:
		if m.Stride == 4*w && !r.Empty() {
			pix = m.Pix[m.PixOffset(r.Min.X, r.Min.Y):]
		}
	case *image.NRGBA:
		if m.Stride == 4*w && !r.Empty() {
			pix = m.Pix[m.PixOffset(r.Min.X, r.Min.Y):]
		}
	}
	if len(pix) >= 4*w*h {
		return &image.RGBA{Pix: pix[:4*w*h], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	}
	var b *image.RGBA
	if buf != nil {
		b = *buf
	}
	if b == nil || b.Rect.Size() != r.Size() {
		b = image.NewRGBA(image.Rect(0, 0, w, h))
		if buf != nil {
			*buf = b
		}
	}
	if m, ok := img.(*image.YCbCr); !ok || yuv.ToRGBA(b, m) != nil {
		// draw has fast paths for the other usual kinds.
		draw.Draw(b, b.Rect, img, r.Min, draw.Src)
	}
	return b
}

// rgbaMat returns a 4-channel Mat over the pixels of p, a picture made by
// packed.
// Close it before p is modified; p must stay alive while it is used.
func rgbaMat(p *image.RGBA) (gocv.Mat, error) {
	r := p.Rect
	if r.Empty() {
		return gocv.Mat{}, errors.New("cv: empty image")
	}
	m, err := gocv.NewMatFromBytes(r.Dy(), r.Dx(), gocv.MatTypeCV8UC4, p.Pix)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("cv: %w", err)
	}
	return m, nil
}

// converter turns pictures into BGR Mats, enlarged by a whole factor if
// asked, reusing its buffers from one picture to the next. It is not safe
// for concurrent use.
type converter struct {
	buf    *image.RGBA  // conversion buffer for pictures that are not packed RGBA
	big    *image.YCbCr // a 4:2:0 frame enlarged
	bgr    gocv.Mat     // the result
	scaled gocv.Mat     // the result of other kinds before enlarging
}

// toBGR converts img, enlarged scale times (bilinear, as cv2.resize), into
// c.bgr, which it returns; the Mat stays valid until the next call or Close.
// A 4:2:0 frame is enlarged and converted by libyuv (package yuv) straight
// into the Mat; other kinds are converted and enlarged by OpenCV.
func (c *converter) toBGR(img image.Image, scale int) (gocv.Mat, error) {
	scale = max(scale, 1)
	if m, ok := img.(*image.YCbCr); ok && m.SubsampleRatio == image.YCbCrSubsampleRatio420 &&
		m.Rect.Min.X&1 == 0 && m.Rect.Min.Y&1 == 0 && !m.Rect.Empty() {
		if scale > 1 {
			c.big = yuv.Reuse(c.big, scale*m.Rect.Dx(), scale*m.Rect.Dy())
			if err := yuv.Scale(c.big, m, yuv.FilterBilinear); err != nil {
				return gocv.Mat{}, fmt.Errorf("cv: %w", err)
			}
			m = c.big
		}
		return c.fromI420(m)
	}
	p := packed(img, &c.buf)
	src, err := rgbaMat(p)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer src.Close()
	out := &c.bgr
	if scale > 1 {
		out = &c.scaled
	}
	if out.Ptr() == nil {
		*out = gocv.NewMat()
	}
	gocv.CvtColor(src, out, gocv.ColorRGBAToBGR)
	runtime.KeepAlive(p)
	if scale > 1 {
		if c.bgr.Ptr() == nil {
			c.bgr = gocv.NewMat()
		}
		gocv.Resize(c.scaled, &c.bgr, image.Pt(scale*p.Rect.Dx(), scale*p.Rect.Dy()), 0, 0, gocv.InterpolationLinear)
	}
	return c.bgr, nil
}

// fromI420 converts m into c.bgr, made or remade to m's size.
func (c *converter) fromI420(m *image.YCbCr) (gocv.Mat, error) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if c.bgr.Ptr() == nil || c.bgr.Cols() != w || c.bgr.Rows() != h || c.bgr.Type() != gocv.MatTypeCV8UC3 || !c.bgr.IsContinuous() {
		if c.bgr.Ptr() != nil {
			c.bgr.Close()
		}
		c.bgr = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	}
	pix, err := c.bgr.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("cv: %w", err)
	}
	if err := yuv.ToBGR(pix, c.bgr.Step(), m); err != nil {
		return gocv.Mat{}, fmt.Errorf("cv: %w", err)
	}
	return c.bgr, nil
}

// Close releases the converter's Mats.
func (c *converter) Close() error {
	for _, m := range []*gocv.Mat{&c.bgr, &c.scaled} {
		if m.Ptr() != nil {
			m.Close()
			*m = gocv.Mat{}
		}
	}
	return nil
}

// ToMat returns img as a new 8-bit BGR Mat, OpenCV's usual format, for
// processing with gocv (in a camera's Preprocess function, say). Close the
// Mat when done with it. Packed *image.RGBA and *image.NRGBA pictures are
// read in place, 4:2:0 frames (what connections receive) converted by
// libyuv straight into the Mat; other kinds are converted first.
func ToMat(img image.Image) (gocv.Mat, error) {
	var c converter
	m, err := c.toBGR(img, 1)
	if err != nil {
		c.Close()
		return gocv.Mat{}, err
	}
	return m, nil
}

// Resize returns img scaled to width x height with bilinear interpolation
// (cv2.resize's default), computed by OpenCV. RTCBot's desktop example uses
// it to show received frames four times larger:
//
//	big, err := cv.Resize(frame, 4*w, 4*h)
func Resize(img image.Image, width, height int) (*image.RGBA, error) {
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("cv: Resize to %dx%d", width, height)
	}
	p := packed(img, nil)
	src, err := rgbaMat(p)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	err = intoRGBA(out, func(dst *gocv.Mat) {
		gocv.Resize(src, dst, image.Pt(width, height), 0, 0, gocv.InterpolationLinear)
	})
	runtime.KeepAlive(p)
	return out, err
}
