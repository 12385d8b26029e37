package timecode

import (
	"errors"
	"fmt"
	"image"
	"time"
)

const (
	// cols is the number of cells (bits) per stamp row.
	cols = 32
	// cellRowsDiv is the number of cell rows the picture height is divided into.
	cellRowsDiv = 30
	// stampRows is the number of cell rows that carry the stamp.
	stampRows = 3
	// checkMagic is XORed into the check word so that an all-black (or
	// all-white) frame is never a valid stamp.
	checkMagic = 0x5A5AA5A5
)

// MinWidth and MinHeight are the smallest picture that carries a stamp:
// one pixel per cell. [NewPattern] panics below them, and [Write] and
// [Read] return an error.
const (
	MinWidth  = cols
	MinHeight = cellRowsDiv
)

// ErrNoStamp is returned (wrapped with detail) by [Read] when a frame does
// not carry a valid stamp: the check word does not match, or the image is
// too small to hold one. Test for it with errors.Is.
var ErrNoStamp = errors.New("timecode: no valid stamp in frame")

// Stamp is what a frame carries: its sequence number and its capture time.
type Stamp struct {
	// Seq is the frame sequence number, starting at 0 and wrapping at 2^32.
	Seq uint32
	// CaptureMillis is the capture time in milliseconds since the Unix
	// epoch, modulo 2^32.
	CaptureMillis uint32
}

// StampOf returns the stamp for frame number seq captured at time t.
func StampOf(seq uint32, t time.Time) Stamp {
	return Stamp{Seq: seq, CaptureMillis: uint32(t.UnixMilli())}
}

// Latency returns the receive time minus the capture time, in whole
// milliseconds. The difference of the two millisecond clocks is taken modulo
// 2^32 and interpreted as a signed int32, so the result is correct across
// the 2^32 ms wrap-around; it is negative if received is before the capture
// time (for example when the receiver's clock runs behind the sender's).
func (s Stamp) Latency(received time.Time) time.Duration {
	d := int32(uint32(received.UnixMilli()) - s.CaptureMillis)
	return time.Duration(d) * time.Millisecond
}

// check returns the check word for the stamp.
func (s Stamp) check() uint32 {
	return s.Seq ^ s.CaptureMillis ^ checkMagic
}

// words returns the three words of the stamp, top row first.
func (s Stamp) words() [stampRows]uint32 {
	return [stampRows]uint32{s.Seq, s.CaptureMillis, s.check()}
}

// geometry is the cell layout of a picture.
type geometry struct {
	cw, ch int // cell width and height in pixels
}

// geometryOf returns the cell layout for a w x h picture, or false if the
// picture is too small to carry a stamp.
func geometryOf(w, h int) (geometry, bool) {
	g := geometry{cw: w / cols, ch: h / cellRowsDiv}
	return g, g.cw > 0 && g.ch > 0
}

// sampleSpan returns the start offset and length of the central half of a
// cell that is n pixels long (at least one pixel).
func sampleSpan(n int) (start, length int) {
	length = max(n/2, 1)
	return (n - length) / 2, length
}

func tooSmall(r image.Rectangle) error {
	return fmt.Errorf("image %dx%d is smaller than the %dx%d minimum", r.Dx(), r.Dy(), cols, cellRowsDiv)
}

// Write draws the stamp s into the top three cell rows of img.
//
// It supports *image.YCbCr (luma 255 or 0; the chroma samples covering the
// stamp area are set to the neutral 128), *image.RGBA and *image.NRGBA
// (colour channels 255 or 0, alpha 255). In a subsampled *image.YCbCr the
// chroma samples shared between stamp pixels and their neighbours (at the
// stamp's right and bottom edges, or outside the bounds of a sub-image that
// starts at odd coordinates) are neutralised too. Other image types, and
// images narrower than 32 or shorter than 30 pixels, return an error.
func Write(img image.Image, s Stamp) error {
	if img == nil {
		return errors.New("timecode: Write: nil image")
	}
	r := img.Bounds()
	g, ok := geometryOf(r.Dx(), r.Dy())
	if !ok {
		return fmt.Errorf("timecode: Write: %w", tooSmall(r))
	}
	switch m := img.(type) {
	case *image.YCbCr:
		writeYCbCr(m, g, s)
	case *image.RGBA:
		writePix(m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, g, s)
	case *image.NRGBA:
		writePix(m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, g, s)
	default:
		return fmt.Errorf("timecode: Write: unsupported image type %T", img)
	}
	return nil
}

func writeYCbCr(m *image.YCbCr, g geometry, s Stamp) {
	r := m.Rect
	words := s.words()
	width := cols * g.cw
	for row, word := range words {
		for y := row * g.ch; y < (row+1)*g.ch; y++ {
			line := m.Y[m.YOffset(r.Min.X, r.Min.Y+y):]
			for bit := range cols {
				v := byte(0)
				if word&(1<<(cols-1-bit)) != 0 {
					v = 255
				}
				fill(line[bit*g.cw:(bit+1)*g.cw], v)
			}
		}
	}
	// Neutral chroma for every chroma sample that covers a stamp pixel. For
	// any subsampling ratio the chroma samples of one luma row segment are
	// contiguous, from the sample of its first pixel to that of its last.
	for y := r.Min.Y; y < r.Min.Y+stampRows*g.ch; y++ {
		c0 := m.COffset(r.Min.X, y)
		c1 := m.COffset(r.Min.X+width-1, y) + 1
		fill(m.Cb[c0:c1], 128)
		fill(m.Cr[c0:c1], 128)
	}
}

// writePix writes the stamp into 4-byte-per-pixel RGBA or NRGBA pixel data
// whose first byte is the picture's top-left pixel.
func writePix(pix []byte, stride int, g geometry, s Stamp) {
	words := s.words()
	for row, word := range words {
		for y := row * g.ch; y < (row+1)*g.ch; y++ {
			line := pix[y*stride:]
			for bit := range cols {
				v := byte(0)
				if word&(1<<(cols-1-bit)) != 0 {
					v = 255
				}
				cell := line[4*bit*g.cw : 4*(bit+1)*g.cw]
				for i := 0; i < len(cell); i += 4 {
					cell[i], cell[i+1], cell[i+2], cell[i+3] = v, v, v, 255
				}
			}
		}
	}
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// Read reads the stamp back from img.
//
// Each cell's central half (in both directions) is averaged — over the luma
// plane for *image.YCbCr, over the R, G and B channels otherwise — and the
// mean is thresholded at 128. *image.YCbCr, *image.RGBA and *image.NRGBA are
// read directly from their pixel data; other image types are read through
// At. Read returns an error wrapping [ErrNoStamp] when the check word does
// not match or the image is too small to hold a stamp.
func Read(img image.Image) (Stamp, error) {
	if img == nil {
		return Stamp{}, fmt.Errorf("%w: nil image", ErrNoStamp)
	}
	r := img.Bounds()
	g, ok := geometryOf(r.Dx(), r.Dy())
	if !ok {
		return Stamp{}, fmt.Errorf("%w: %w", ErrNoStamp, tooSmall(r))
	}
	xs, nx := sampleSpan(g.cw)
	ys, ny := sampleSpan(g.ch)

	// cellSum returns the sum of the sampled values of the cell whose
	// central half starts at (x0, y0), and the number of values summed.
	var cellSum func(x0, y0 int) (sum, n int)
	switch m := img.(type) {
	case *image.YCbCr:
		cellSum = func(x0, y0 int) (int, int) {
			return sumPlane(m.Y[m.YOffset(x0, y0):], m.YStride, nx, ny), nx * ny
		}
	case *image.RGBA:
		cellSum = func(x0, y0 int) (int, int) {
			return sumRGB(m.Pix[m.PixOffset(x0, y0):], m.Stride, nx, ny), 3 * nx * ny
		}
	case *image.NRGBA:
		cellSum = func(x0, y0 int) (int, int) {
			return sumRGB(m.Pix[m.PixOffset(x0, y0):], m.Stride, nx, ny), 3 * nx * ny
		}
	default:
		cellSum = func(x0, y0 int) (int, int) {
			return sumAt(img, x0, y0, nx, ny), 3 * nx * ny
		}
	}

	var words [stampRows]uint32
	for row := range words {
		y0 := r.Min.Y + row*g.ch + ys
		var word uint32
		for bit := range cols {
			sum, n := cellSum(r.Min.X+bit*g.cw+xs, y0)
			word <<= 1
			if sum >= 128*n { // mean >= 128
				word |= 1
			}
		}
		words[row] = word
	}
	s := Stamp{Seq: words[0], CaptureMillis: words[1]}
	if want := s.check(); words[2] != want {
		return Stamp{}, fmt.Errorf("%w: check word %#08x, want %#08x (seq word %#08x, time word %#08x)",
			ErrNoStamp, words[2], want, words[0], words[1])
	}
	return s, nil
}

// sumPlane sums an nx x ny block of a one-byte-per-sample plane.
func sumPlane(p []byte, stride, nx, ny int) int {
	sum := 0
	for y := range ny {
		for _, v := range p[y*stride : y*stride+nx] {
			sum += int(v)
		}
	}
	return sum
}

// sumRGB sums the first three channels of an nx x ny block of
// four-byte-per-pixel data.
func sumRGB(p []byte, stride, nx, ny int) int {
	sum := 0
	for y := range ny {
		line := p[y*stride : y*stride+4*nx]
		for i := 0; i < len(line); i += 4 {
			sum += int(line[i]) + int(line[i+1]) + int(line[i+2])
		}
	}
	return sum
}

// sumAt sums the 8-bit R, G and B values of an nx x ny block via At.
func sumAt(img image.Image, x0, y0, nx, ny int) int {
	sum := 0
	for y := y0; y < y0+ny; y++ {
		for x := x0; x < x0+nx; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			sum += int(r>>8) + int(g>>8) + int(b>>8)
		}
	}
	return sum
}
