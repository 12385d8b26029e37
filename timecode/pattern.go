package timecode

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"time"
)

// barColors are the colours of the scrolling bars (75% colour bars).
var barColors = [...]color.RGBA{
	{191, 191, 191, 255}, // grey
	{191, 191, 0, 255},   // yellow
	{0, 191, 191, 255},   // cyan
	{0, 191, 0, 255},     // green
	{191, 0, 191, 255},   // magenta
	{191, 0, 0, 255},     // red
	{0, 0, 191, 255},     // blue
	{16, 16, 16, 255},    // near black
}

// boxColor is the colour of the bouncing box (orange).
var boxColor = color.RGBA{255, 128, 0, 255}

// Pattern makes moving synthetic frames of a fixed size: diagonal colour
// bars that scroll by a few pixels per frame and a box that bounces around
// below the stamp area, with the frame's [Stamp] drawn on top. Frames depend
// only on the sequence number and capture time, so the same arguments always
// give the same picture. A Pattern is read-only after construction and safe
// for concurrent use.
type Pattern struct {
	w, h   int // luma size
	cw, ch int // chroma (4:2:0) plane size
	g      geometry

	period int    // bar pattern period in luma pixels (even)
	speed  int    // scroll speed in luma pixels per frame (even)
	luma   []byte // luma of one bar row, period+w long
	cb, cr []byte // chroma of one bar row at 2:1 horizontal subsampling, period/2+cw long

	boxW, boxH, boxTop int // box size and the topmost row it may occupy
	vx, vy             int // box speed in pixels per frame
	boxY, boxCb, boxCr byte
}

// NewPattern returns a Pattern that makes width x height frames. It panics
// if the size is too small to carry a stamp (width < 32 or height < 30).
func NewPattern(width, height int) *Pattern {
	g, ok := geometryOf(width, height)
	if !ok {
		panic(fmt.Sprintf("timecode: NewPattern: %v", tooSmall(image.Rect(0, 0, width, height))))
	}
	p := &Pattern{
		w: width, h: height,
		cw: (width + 1) / 2, ch: (height + 1) / 2,
		g: g,
	}
	barW := max(2, (width/len(barColors))&^1)
	p.period = barW * len(barColors)
	p.speed = 2 * max(1, width/320)

	p.luma = make([]byte, p.period+p.w)
	for j := range p.luma {
		c := barColors[(j/barW)%len(barColors)]
		y, _, _ := color.RGBToYCbCr(c.R, c.G, c.B)
		// A gentle ramp across each bar gives the encoder some texture.
		v := int(y) + (j%barW)*24/barW - 12
		p.luma[j] = byte(min(max(v, 0), 255))
	}
	p.cb = make([]byte, p.period/2+p.cw)
	p.cr = make([]byte, len(p.cb))
	for k := range p.cb {
		c := barColors[(2*k/barW)%len(barColors)]
		_, p.cb[k], p.cr[k] = color.RGBToYCbCr(c.R, c.G, c.B)
	}

	p.boxW = max(2, width/6)
	p.boxH = max(2, height/6)
	p.boxTop = min(stampRows*g.ch, max(0, height-p.boxH))
	p.vx = max(1, width/128)
	p.vy = max(1, height/160)
	p.boxY, p.boxCb, p.boxCr = color.RGBToYCbCr(boxColor.R, boxColor.G, boxColor.B)
	return p
}

// Frame draws frame number seq into a new 4:2:0 *image.YCbCr of the
// pattern's size and stamps it with StampOf(seq, t).
func (p *Pattern) Frame(seq uint32, t time.Time) *image.YCbCr {
	dst := image.NewYCbCr(image.Rect(0, 0, p.w, p.h), image.YCbCrSubsampleRatio420)
	if err := p.FrameInto(dst, seq, t); err != nil {
		panic(err) // unreachable: dst is made to fit
	}
	return dst
}

// FrameInto draws frame number seq into dst, overwriting every pixel, and
// stamps it with StampOf(seq, t). dst must be a 4:2:0 image of the pattern's
// size whose bounds start at even coordinates (image.NewYCbCr with a
// rectangle at the origin does); otherwise FrameInto returns an error and
// leaves dst untouched. It does not allocate, so a capture loop can reuse
// one frame.
func (p *Pattern) FrameInto(dst *image.YCbCr, seq uint32, t time.Time) error {
	if err := p.check(dst); err != nil {
		return err
	}
	shift := int(uint64(seq) * uint64(p.speed) % uint64(p.period))

	// Diagonal bars: row y is the bar row shifted by y, scrolling left by
	// speed pixels per frame. shift and period are even, so the chroma
	// offsets land on whole chroma samples.
	for y := range p.h {
		off := (y + shift) % p.period
		copy(dst.Y[y*dst.YStride:y*dst.YStride+p.w], p.luma[off:off+p.w])
	}
	for cy := range p.ch {
		off := ((2*cy + shift) % p.period) / 2
		row := cy * dst.CStride
		copy(dst.Cb[row:row+p.cw], p.cb[off:off+p.cw])
		copy(dst.Cr[row:row+p.cw], p.cr[off:off+p.cw])
	}

	// Bouncing box.
	bx := bounce(seq, p.vx, p.w-p.boxW)
	by := p.boxTop + bounce(seq, p.vy, p.h-p.boxH-p.boxTop)
	for y := by; y < by+p.boxH; y++ {
		fill(dst.Y[y*dst.YStride+bx:y*dst.YStride+bx+p.boxW], p.boxY)
	}
	cx0, cx1 := bx/2, (bx+p.boxW+1)/2
	for cy := by / 2; cy < (by+p.boxH+1)/2; cy++ {
		row := cy * dst.CStride
		fill(dst.Cb[row+cx0:row+cx1], p.boxCb)
		fill(dst.Cr[row+cx0:row+cx1], p.boxCr)
	}

	writeYCbCr(dst, p.g, StampOf(seq, t))
	return nil
}

// check reports whether dst can hold a frame of the pattern.
func (p *Pattern) check(dst *image.YCbCr) error {
	if dst == nil {
		return errors.New("timecode: FrameInto: nil image")
	}
	if dst.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return fmt.Errorf("timecode: FrameInto: subsample ratio %v, want 4:2:0", dst.SubsampleRatio)
	}
	r := dst.Rect
	if r.Dx() != p.w || r.Dy() != p.h {
		return fmt.Errorf("timecode: FrameInto: image is %dx%d, pattern is %dx%d", r.Dx(), r.Dy(), p.w, p.h)
	}
	if r.Min.X%2 != 0 || r.Min.Y%2 != 0 {
		return fmt.Errorf("timecode: FrameInto: image origin %v is not at even coordinates", r.Min)
	}
	if dst.YStride < p.w || len(dst.Y) < (p.h-1)*dst.YStride+p.w ||
		dst.CStride < p.cw || len(dst.Cb) < (p.ch-1)*dst.CStride+p.cw || len(dst.Cr) < (p.ch-1)*dst.CStride+p.cw {
		return errors.New("timecode: FrameInto: image planes are too small for its bounds")
	}
	return nil
}

// bounce returns the position after seq steps of v pixels of something
// bouncing back and forth between 0 and span.
func bounce(seq uint32, v, span int) int {
	if span <= 0 {
		return 0
	}
	u := int(uint64(seq) * uint64(v) % uint64(2*span))
	if u > span {
		u = 2*span - u
	}
	return u
}
