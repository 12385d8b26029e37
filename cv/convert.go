package cv

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"runtime"
	"unsafe"

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
// (alpha ignored) whose rows are contiguous, otherwise a conversion drawn
// into *buf, which is reused if it has the right size and replaced if not
// (buf may be nil).
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
	// draw has fast paths for the usual kinds, 4:2:0 YCbCr frames included.
	draw.Draw(b, b.Rect, img, r.Min, draw.Src)
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

// converter turns pictures into BGR Mats, reusing its buffers from one
// picture to the next. It is not safe for concurrent use.
type converter struct {
	buf *image.RGBA // conversion buffer for pictures that are not packed RGBA
	bgr gocv.Mat
}

// toBGR converts img into c.bgr, which it returns; the Mat stays valid until
// the next call or Close.
func (c *converter) toBGR(img image.Image) (gocv.Mat, error) {
	p := packed(img, &c.buf)
	src, err := rgbaMat(p)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer src.Close()
	if c.bgr.Ptr() == nil {
		c.bgr = gocv.NewMat()
	}
	gocv.CvtColor(src, &c.bgr, gocv.ColorRGBAToBGR)
	runtime.KeepAlive(p)
	return c.bgr, nil
}

// Close releases the converter's Mat.
func (c *converter) Close() error {
	if c.bgr.Ptr() != nil {
		return c.bgr.Close()
	}
	return nil
}

// ToMat returns img as a new 8-bit BGR Mat, OpenCV's usual format, for
// processing with gocv (in a camera's Preprocess function, say). Close the
// Mat when done with it. Packed *image.RGBA and *image.NRGBA pictures are
// read in place; other kinds are converted first.
func ToMat(img image.Image) (gocv.Mat, error) {
	var c converter
	m, err := c.toBGR(img)
	if err != nil {
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
