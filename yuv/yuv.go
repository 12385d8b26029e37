package yuv

import (
	"errors"
	"fmt"
	"image"
)

var (
	// ErrFormat is returned for a picture the functions do not take: a
	// *image.YCbCr that is not 4:2:0 or whose bounds start at an odd
	// coordinate, an empty picture, or one whose pixel slices are shorter
	// than its bounds and strides say.
	ErrFormat = errors.New("yuv: unsupported picture")
	// ErrSize is returned when a destination's size is not the source's.
	ErrSize = errors.New("yuv: pictures of different sizes")
)

// Filter is how Scale computes a pixel of the destination, as libyuv's
// FilterMode.
type Filter int

const (
	// FilterNone takes the nearest source pixel: the fastest, and when
	// enlarging by a whole factor it repeats each pixel that many times
	// (OpenCV's INTER_NEAREST).
	FilterNone Filter = iota
	// FilterBilinear interpolates between the four nearest source pixels
	// (cv2.resize's default, INTER_LINEAR): smoother when enlarging, but it
	// aliases when shrinking by more than half.
	FilterBilinear
	// FilterBox averages the source pixels each destination pixel covers:
	// the one for shrinking (OpenCV's INTER_AREA); when enlarging it is
	// FilterBilinear.
	FilterBox
)

// String returns the filter's name: "none", "bilinear" or "box".
func (f Filter) String() string {
	switch f {
	case FilterNone:
		return "none"
	case FilterBilinear:
		return "bilinear"
	case FilterBox:
		return "box"
	}
	return fmt.Sprintf("Filter(%d)", int(f))
}

// Reuse returns buf if it is a 4:2:0 picture of w x h at the origin, and a
// new one otherwise: the destination of a conversion done once a frame.
func Reuse(buf *image.YCbCr, w, h int) *image.YCbCr {
	if buf != nil && buf.SubsampleRatio == image.YCbCrSubsampleRatio420 && buf.Rect == image.Rect(0, 0, w, h) {
		return buf
	}
	return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
}

// FromRGBA converts src into dst, a 4:2:0 picture of the same size (libyuv's
// ABGRToJ420). Alpha is ignored: an RGBA picture is taken as opaque.
func FromRGBA(dst *image.YCbCr, src *image.RGBA) error {
	if src == nil {
		return fmt.Errorf("%w: nil RGBA", ErrFormat)
	}
	return fromPix(dst, src.Pix, src.Stride, src.Rect, src.PixOffset)
}

// FromNRGBA converts src into dst as FromRGBA does; alpha is ignored.
func FromNRGBA(dst *image.YCbCr, src *image.NRGBA) error {
	if src == nil {
		return fmt.Errorf("%w: nil NRGBA", ErrFormat)
	}
	return fromPix(dst, src.Pix, src.Stride, src.Rect, src.PixOffset)
}

func fromPix(dst *image.YCbCr, pix []byte, stride int, r image.Rectangle, offset func(x, y int) int) error {
	if err := check420(dst, true); err != nil {
		return err
	}
	if dst.Rect.Size() != r.Size() {
		return fmt.Errorf("%w: %v into %v", ErrSize, r.Size(), dst.Rect.Size())
	}
	w, h := r.Dx(), r.Dy()
	if r.Empty() || stride < 4*w || !fits(len(pix)-offset(r.Min.X, r.Min.Y), stride, 4*w, h) {
		return fmt.Errorf("%w: %v pixels with stride %d in %d bytes", ErrFormat, r, stride, len(pix))
	}
	fromABGR(dst, pix[offset(r.Min.X, r.Min.Y):], stride, w, h)
	return nil
}

// FromImage converts any picture into dst, a 4:2:0 picture of the same
// size: RGBA and NRGBA as FromRGBA does, a 4:2:0 picture by copying it
// (wherever its bounds start), a YCbCr picture of another subsampling by
// averaging its chroma (4:2:2, what a V4L2 camera's YUYV decodes to, and
// 4:4:4 through libyuv's I422ToI420 and I444ToI420 when their size and
// origin are even), and other kinds pixel by pixel through their
// colour model, in Go.
func FromImage(dst *image.YCbCr, src image.Image) error {
	switch s := src.(type) {
	case *image.RGBA:
		return FromRGBA(dst, s)
	case *image.NRGBA:
		return FromNRGBA(dst, s)
	case nil:
		return fmt.Errorf("%w: nil image", ErrFormat)
	}
	if err := check420(dst, true); err != nil {
		return err
	}
	if dst.Rect.Size() != src.Bounds().Size() {
		return fmt.Errorf("%w: %v into %v", ErrSize, src.Bounds().Size(), dst.Rect.Size())
	}
	if s, ok := src.(*image.YCbCr); ok {
		switch {
		case s.SubsampleRatio == image.YCbCrSubsampleRatio420 && check420(s, false) == nil: // the ratio first: no error made for others
			copy420(dst, s)
		case checkPlanar(s) && from422or444(dst, s):
		default:
			fromYCbCrGo(dst, s)
		}
		return nil
	}
	fromImageGo(dst, src)
	return nil
}

// ToRGBA converts src into dst, an RGBA picture of the same size, opaque
// (libyuv's J420ToABGR).
func ToRGBA(dst *image.RGBA, src *image.YCbCr) error {
	if err := check420(src, false); err != nil {
		return err
	}
	if dst == nil {
		return fmt.Errorf("%w: nil RGBA", ErrFormat)
	}
	if dst.Rect.Size() != src.Rect.Size() {
		return fmt.Errorf("%w: %v into %v", ErrSize, src.Rect.Size(), dst.Rect.Size())
	}
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	off := dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y)
	if dst.Stride < 4*w || !fits(len(dst.Pix)-off, dst.Stride, 4*w, h) {
		return fmt.Errorf("%w: %v pixels with stride %d in %d bytes", ErrFormat, dst.Rect, dst.Stride, len(dst.Pix))
	}
	toABGR(dst.Pix[off:], dst.Stride, src)
	return nil
}

// ToBGR converts src into dst: rows of stride bytes, each starting with the
// picture's width of pixels as bytes B, G, R, the layout of an 8-bit
// 3-channel OpenCV Mat (libyuv's J420ToRGB24).
func ToBGR(dst []byte, stride int, src *image.YCbCr) error {
	if err := check420(src, false); err != nil {
		return err
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if stride < 3*w || !fits(len(dst), stride, 3*w, h) {
		return fmt.Errorf("%w: %dx%d BGR pixels with stride %d in %d bytes", ErrFormat, w, h, stride, len(dst))
	}
	toRGB24(dst, stride, src)
	return nil
}

// Scale scales src to the size of dst and writes it there (libyuv's
// I420Scale), both 4:2:0 pictures of any size.
func Scale(dst, src *image.YCbCr, f Filter) error {
	if err := check420(src, false); err != nil {
		return err
	}
	if err := check420(dst, true); err != nil {
		return err
	}
	if f < FilterNone || f > FilterBox {
		return fmt.Errorf("yuv: unknown %v", f)
	}
	if dst.Rect.Size() == src.Rect.Size() {
		copy420(dst, src)
		return nil
	}
	scale(dst, src, f)
	return nil
}

// ScaleRGBA scales src to a picture of the given size and writes into dst
// the part of that picture within dst's bounds (libyuv's ARGBScaleClip): all
// of it when dst's bounds are the size at the origin, or a band of rows, so
// that a large picture can be made and used a piece at a time. The four
// bytes of a pixel are scaled alike, whatever they mean.
func ScaleRGBA(dst, src *image.RGBA, size image.Point, f Filter) error {
	if src == nil || dst == nil {
		return fmt.Errorf("%w: nil RGBA", ErrFormat)
	}
	if f < FilterNone || f > FilterBox {
		return fmt.Errorf("yuv: unknown %v", f)
	}
	sr, dr := src.Rect, dst.Rect
	so, do := src.PixOffset(sr.Min.X, sr.Min.Y), dst.PixOffset(dr.Min.X, dr.Min.Y)
	switch {
	case sr.Empty() || src.Stride < 4*sr.Dx() || !fits(len(src.Pix)-so, src.Stride, 4*sr.Dx(), sr.Dy()):
		return fmt.Errorf("%w: source %v pixels with stride %d in %d bytes", ErrFormat, sr, src.Stride, len(src.Pix))
	case dr.Empty() || dst.Stride < 4*dr.Dx() || !fits(len(dst.Pix)-do, dst.Stride, 4*dr.Dx(), dr.Dy()):
		return fmt.Errorf("%w: destination %v pixels with stride %d in %d bytes", ErrFormat, dr, dst.Stride, len(dst.Pix))
	case !dr.In(image.Rectangle{Max: size}):
		return fmt.Errorf("%w: %v is not within a %v picture", ErrSize, dr, size)
	}
	scaleARGB(dst.Pix[do:], dst.Stride, dr, src.Pix[so:], src.Stride, sr.Dx(), sr.Dy(), size, f)
	return nil
}

// check420 reports whether m is a non-empty 4:2:0 picture at even
// coordinates whose slices hold what its bounds and strides say.
func check420(m *image.YCbCr, isDst bool) error {
	role := "source"
	if isDst {
		role = "destination"
	}
	switch {
	case m == nil:
		return fmt.Errorf("%w: nil %s", ErrFormat, role)
	case m.SubsampleRatio != image.YCbCrSubsampleRatio420:
		return fmt.Errorf("%w: %s is %v, not 4:2:0", ErrFormat, role, m.SubsampleRatio)
	case m.Rect.Empty():
		return fmt.Errorf("%w: %s is empty", ErrFormat, role)
	case m.Rect.Min.X&1 != 0 || m.Rect.Min.Y&1 != 0:
		return fmt.Errorf("%w: %s's bounds %v start at an odd coordinate", ErrFormat, role, m.Rect)
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	yo, co := m.YOffset(m.Rect.Min.X, m.Rect.Min.Y), m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	if m.YStride < w || m.CStride < cw || yo < 0 || co < 0 ||
		!fits(len(m.Y)-yo, m.YStride, w, h) || !fits(len(m.Cb)-co, m.CStride, cw, ch) || !fits(len(m.Cr)-co, m.CStride, cw, ch) {
		return fmt.Errorf("%w: %s's planes are too short for %v", ErrFormat, role, m.Rect)
	}
	return nil
}

// checkPlanar reports whether m is a non-empty 4:2:2 or 4:4:4 picture of
// even width and height at even coordinates whose slices hold what its
// bounds and strides say, for libyuv to read. (At an odd size libyuv
// rescales the chroma instead of averaging 2x2 blocks.)
func checkPlanar(m *image.YCbCr) bool {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	var cw int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		cw = (w + 1) / 2
	case image.YCbCrSubsampleRatio444:
		cw = w
	default:
		return false
	}
	if m.Rect.Empty() || m.Rect.Min.X&1 != 0 || m.Rect.Min.Y&1 != 0 || w&1 != 0 || h&1 != 0 {
		return false
	}
	yo, co := m.YOffset(m.Rect.Min.X, m.Rect.Min.Y), m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	return m.YStride >= w && m.CStride >= cw && yo >= 0 && co >= 0 &&
		fits(len(m.Y)-yo, m.YStride, w, h) && fits(len(m.Cb)-co, m.CStride, cw, h) && fits(len(m.Cr)-co, m.CStride, cw, h)
}

// fits reports whether n bytes hold rows of width bytes, stride apart.
func fits(n, stride, width, rows int) bool {
	return rows > 0 && n >= (rows-1)*stride+width
}

// planes returns m's planes from its first pixel on; m passed check420.
func planes(m *image.YCbCr) (y, cb, cr []byte) {
	yo, co := m.YOffset(m.Rect.Min.X, m.Rect.Min.Y), m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	return m.Y[yo:], m.Cb[co:], m.Cr[co:]
}

// copy420 copies src into dst, two 4:2:0 pictures of the same size that
// passed check420.
func copy420(dst, src *image.YCbCr) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dy, dcb, dcr := planes(dst)
	sy, scb, scr := planes(src)
	copyPlane(dy, dst.YStride, sy, src.YStride, w, h)
	copyPlane(dcb, dst.CStride, scb, src.CStride, (w+1)/2, (h+1)/2)
	copyPlane(dcr, dst.CStride, scr, src.CStride, (w+1)/2, (h+1)/2)
}

func copyPlane(dst []byte, dstStride int, src []byte, srcStride, w, h int) {
	for y := range h {
		copy(dst[y*dstStride:y*dstStride+w], src[y*srcStride:y*srcStride+w])
	}
}
