package yuv

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// patternFrames returns n frames of the moving test pattern, w x h.
func patternFrames(w, h, n int) []*image.YCbCr {
	p := timecode.NewPattern(w, h)
	frames := make([]*image.YCbCr, n)
	for i := range frames {
		frames[i] = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		if err := p.FrameInto(frames[i], uint32(i), time.UnixMilli(1_700_000_000_000+33*int64(i))); err != nil {
			panic(err)
		}
	}
	return frames
}

// rgbaOf converts m to RGBA with image/color, pixel by pixel.
func rgbaOf(m *image.YCbCr) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy()))
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			c := m.YCbCrAt(m.Rect.Min.X+x, m.Rect.Min.Y+y)
			r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			out.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	return out
}

// noise returns a w x h RGBA picture of random opaque pixels.
func noise(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

// maxDiff returns the largest difference between the samples of the w x h
// planes a and b, and where it is.
func maxDiff(a []byte, aStride int, b []byte, bStride, w, h int) (d, atX, atY int) {
	for y := range h {
		for x := range w {
			v := int(a[y*aStride+x]) - int(b[y*bStride+x])
			if v < 0 {
				v = -v
			}
			if v > d {
				d, atX, atY = v, x, y
			}
		}
	}
	return d, atX, atY
}

// compare420 fails t if a plane of got differs from want by more than tol.
func compare420(t *testing.T, what string, got, want *image.YCbCr, tol int) {
	t.Helper()
	w, h := want.Rect.Dx(), want.Rect.Dy()
	gy, gcb, gcr := planes(got)
	wy, wcb, wcr := planes(want)
	for _, p := range []struct {
		name   string
		g, w   []byte
		gs, ws int
		pw, ph int
	}{
		{"Y", gy, wy, got.YStride, want.YStride, w, h},
		{"Cb", gcb, wcb, got.CStride, want.CStride, (w + 1) / 2, (h + 1) / 2},
		{"Cr", gcr, wcr, got.CStride, want.CStride, (w + 1) / 2, (h + 1) / 2},
	} {
		if d, x, y := maxDiff(p.g, p.gs, p.w, p.ws, p.pw, p.ph); d > tol {
			t.Errorf("%s: %s differs by %d at (%d,%d), want at most %d", what, p.name, d, x, y, tol)
		}
	}
}

// FromRGBA agrees with the Go conversion, and so with image/color: luma
// within 1, chroma (the mean of each 2x2 block) within 2, at even and odd
// sizes, on the test pattern and on noise.
func TestFromRGBA(t *testing.T) {
	for _, sz := range []image.Point{{640, 480}, {321, 241}, {2, 2}, {1, 1}, {33, 2}} {
		var src *image.RGBA
		if sz.X >= 32 && sz.Y >= 30 {
			src = rgbaOf(patternFrames(sz.X, sz.Y, 1)[0])
		} else {
			src = noise(sz.X, sz.Y, uint64(sz.X))
		}
		for name, img := range map[string]*image.RGBA{"pattern or small": src, "noise": noise(sz.X, sz.Y, 7)} {
			got := Reuse(nil, sz.X, sz.Y)
			if err := FromRGBA(got, img); err != nil {
				t.Fatal(err)
			}
			want := Reuse(nil, sz.X, sz.Y)
			fromABGRGo(want, img.Pix, img.Stride, sz.X, sz.Y)
			compare420(t, name+" "+sz.String(), got, want, 2)
			// Luma is image/color's within 1.
			for y := range sz.Y {
				for x := range sz.X {
					c := img.RGBAAt(x, y)
					yy, _, _ := color.RGBToYCbCr(c.R, c.G, c.B)
					if d := int(got.Y[y*got.YStride+x]) - int(yy); d < -1 || d > 1 {
						t.Fatalf("%s %v: Y(%d,%d) = %d, image/color %d", name, sz, x, y, got.Y[y*got.YStride+x], yy)
					}
				}
			}
		}
	}
}

// NRGBA, sub-images at odd points and other kinds of picture (through their
// colour model) convert as RGBA does.
func TestFromImage(t *testing.T) {
	full := noise(11, 9, 3)
	sub := full.SubImage(image.Rect(1, 1, 10, 8)).(*image.RGBA) // odd origin, odd size
	want := Reuse(nil, 9, 7)
	if err := FromRGBA(want, sub); err != nil {
		t.Fatal(err)
	}
	nrgba := image.NewNRGBA(sub.Bounds())
	rgba64 := image.NewRGBA64(sub.Bounds())
	for y := sub.Rect.Min.Y; y < sub.Rect.Max.Y; y++ {
		for x := sub.Rect.Min.X; x < sub.Rect.Max.X; x++ {
			c := sub.RGBAAt(x, y)
			nrgba.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
			rgba64.Set(x, y, c)
		}
	}
	for name, img := range map[string]image.Image{"NRGBA": nrgba, "RGBA64": rgba64} {
		got := Reuse(nil, 9, 7)
		if err := FromImage(got, img); err != nil {
			t.Fatal(err)
		}
		compare420(t, name, got, want, 2)
	}

	// A 4:2:0 picture is copied exactly, also from an odd point.
	frame := patternFrames(64, 48, 1)[0]
	got := Reuse(nil, 64, 48)
	if err := FromImage(got, frame); err != nil {
		t.Fatal(err)
	}
	compare420(t, "4:2:0 copy", got, frame, 0)
	odd := frame.SubImage(image.Rect(1, 1, 63, 47)).(*image.YCbCr)
	got = Reuse(nil, 62, 46)
	if err := FromImage(got, odd); err != nil {
		t.Fatal(err)
	}
	for y := range 46 {
		for x := range 62 {
			if g, w := got.YCbCrAt(x, y).Y, odd.YCbCrAt(x+1, y+1).Y; g != w {
				t.Fatalf("odd origin: Y(%d,%d) = %d, want %d", x, y, g, w)
			}
		}
	}

	// 4:4:4 chroma is averaged over each 2x2 block.
	m444 := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio444)
	copy(m444.Cb, []byte{10, 20, 100, 100, 30, 41, 100, 100})
	copy(m444.Cr, []byte{0, 0, 8, 9, 0, 0, 8, 9})
	got = Reuse(nil, 4, 2)
	if err := FromImage(got, m444); err != nil {
		t.Fatal(err)
	}
	if got.Cb[0] != 25 || got.Cb[1] != 100 || got.Cr[0] != 0 || got.Cr[1] != 9 {
		t.Errorf("4:4:4 chroma averaged to Cb %v Cr %v, want [25 100] [0 9]", got.Cb[:2], got.Cr[:2])
	}
}

// ToRGBA and ToBGR agree with image/color within 2 per channel, at even and
// odd sizes and into a sub-image.
func TestToRGBAAndBGR(t *testing.T) {
	for _, sz := range []image.Point{{640, 480}, {321, 241}, {33, 31}} {
		src := patternFrames(sz.X, sz.Y, 1)[0]
		// Noise in the chroma too: every combination of the three.
		rng := rand.New(rand.NewPCG(9, 9))
		for i := range src.Cb {
			if i%3 == 0 {
				src.Cb[i], src.Cr[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
		}
		want := rgbaOf(src)

		rgba := image.NewRGBA(image.Rect(0, 0, sz.X, sz.Y))
		if err := ToRGBA(rgba, src); err != nil {
			t.Fatal(err)
		}
		if d, x, y := maxDiff(rgba.Pix, rgba.Stride, want.Pix, want.Stride, 4*sz.X, sz.Y); d > 2 {
			t.Errorf("%v: RGBA differs by %d at byte %d of row %d", sz, d, x, y)
		}

		bgr := make([]byte, 3*sz.X*sz.Y)
		if err := ToBGR(bgr, 3*sz.X, src); err != nil {
			t.Fatal(err)
		}
		for y := range sz.Y {
			for x := range sz.X {
				c, p := want.RGBAAt(x, y), bgr[3*(y*sz.X+x):]
				for i, v := range []byte{c.B, c.G, c.R} {
					if d := int(p[i]) - int(v); d < -2 || d > 2 {
						t.Fatalf("%v: BGR(%d,%d) = %v, want %v (B, G, R)", sz, x, y, p[:3], []byte{c.B, c.G, c.R})
					}
				}
			}
		}
	}

	// Into the middle of a larger picture, leaving the rest alone.
	src := patternFrames(64, 48, 1)[0]
	big := image.NewRGBA(image.Rect(0, 0, 70, 50))
	sub := big.SubImage(image.Rect(3, 1, 67, 49)).(*image.RGBA)
	if err := ToRGBA(sub, src); err != nil {
		t.Fatal(err)
	}
	if big.RGBAAt(2, 1) != (color.RGBA{}) || big.RGBAAt(67, 1) != (color.RGBA{}) || big.RGBAAt(3, 1).A != 255 {
		t.Error("ToRGBA into a sub-image wrote outside it or not at its origin")
	}
}

// Box shrinking by 2 and 4 is the exact mean of each block; enlarging by 4
// without filtering repeats each pixel; bilinear enlarging stays between
// the pixels it interpolates; odd sizes scale.
func TestScale(t *testing.T) {
	src := patternFrames(640, 480, 1)[0]
	for _, n := range []int{2, 4} {
		got := Reuse(nil, 640/n, 480/n)
		if err := Scale(got, src, FilterBox); err != nil {
			t.Fatal(err)
		}
		want := Reuse(nil, 640/n, 480/n)
		scaleGo(want, src, FilterBox)
		compare420(t, "box", got, want, 0)
	}

	small := patternFrames(160, 120, 1)[0]
	for _, f := range []Filter{FilterNone, FilterBilinear} {
		got := Reuse(nil, 640, 480)
		if err := Scale(got, small, f); err != nil {
			t.Fatal(err)
		}
		for y := range 480 {
			for x := range 640 {
				g, s := got.YCbCrAt(x, y), small.YCbCrAt(x/4, y/4)
				switch f {
				case FilterNone:
					if g != s {
						t.Fatalf("none: (%d,%d) = %v, want pixel (%d,%d) = %v", x, y, g, x/4, y/4, s)
					}
				case FilterBilinear:
					// Within the range of the 3x3 source pixels around.
					lo, hi := 255, 0
					for sy := max(0, y/4-1); sy <= min(119, y/4+1); sy++ {
						for sx := max(0, x/4-1); sx <= min(159, x/4+1); sx++ {
							v := int(small.YCbCrAt(sx, sy).Y)
							lo, hi = min(lo, v), max(hi, v)
						}
					}
					if v := int(g.Y); v < lo || v > hi {
						t.Fatalf("bilinear: Y(%d,%d) = %d, outside its neighbours' %d..%d", x, y, v, lo, hi)
					}
				}
			}
		}
		want := Reuse(nil, 640, 480)
		scaleGo(want, small, FilterNone)
		if f == FilterNone {
			compare420(t, "none, Go", got, want, 0)
		}
	}

	for _, f := range []Filter{FilterNone, FilterBilinear, FilterBox} {
		got := Reuse(nil, 107, 81)
		if err := Scale(got, src.SubImage(image.Rect(2, 2, 643-4, 479)).(*image.YCbCr), f); err != nil {
			t.Errorf("%v, odd sizes: %v", f, err)
		}
	}
	// The same size is a copy.
	same := Reuse(nil, 640, 480)
	if err := Scale(same, src, FilterBilinear); err != nil {
		t.Fatal(err)
	}
	compare420(t, "same size", same, src, 0)
}

// ScaleRGBA a band at a time makes the picture it makes whole; without
// filtering, enlarging by a whole factor repeats pixels, as the Go version
// does.
func TestScaleRGBA(t *testing.T) {
	src := rgbaOf(patternFrames(160, 120, 1)[0])
	for _, size := range []image.Point{{640, 480}, {333, 251}, {80, 60}} {
		for _, f := range []Filter{FilterNone, FilterBilinear, FilterBox} {
			whole := image.NewRGBA(image.Rectangle{Max: size})
			if err := ScaleRGBA(whole, src, size, f); err != nil {
				t.Fatal(err)
			}
			for y0 := 0; y0 < size.Y; y0 += 16 {
				band := image.NewRGBA(image.Rect(0, y0, size.X, min(y0+16, size.Y)))
				if err := ScaleRGBA(band, src, size, f); err != nil {
					t.Fatal(err)
				}
				o := whole.PixOffset(0, y0)
				if d, x, y := maxDiff(band.Pix, band.Stride, whole.Pix[o:], whole.Stride, 4*size.X, band.Rect.Dy()); d != 0 {
					t.Fatalf("%v %v: the band at row %d differs by %d at byte %d of its row %d", size, f, y0, d, x, y)
				}
			}
		}
	}
	got := image.NewRGBA(image.Rect(0, 0, 640, 480))
	if err := ScaleRGBA(got, src, got.Rect.Size(), FilterNone); err != nil {
		t.Fatal(err)
	}
	want := image.NewRGBA(got.Rect)
	scaleARGBGo(want.Pix, want.Stride, want.Rect, src.Pix, src.Stride, 160, 120, want.Rect.Size())
	for y := range 480 {
		for x := range 640 {
			if got.RGBAAt(x, y) != src.RGBAAt(x/4, y/4) || want.RGBAAt(x, y) != src.RGBAAt(x/4, y/4) {
				t.Fatalf("4x, none: (%d,%d) is %v (Go %v), want pixel (%d,%d) %v", x, y, got.RGBAAt(x, y), want.RGBAAt(x, y), x/4, y/4, src.RGBAAt(x/4, y/4))
			}
		}
	}
	for name, err := range map[string]error{
		"outside":   ScaleRGBA(image.NewRGBA(image.Rect(0, 470, 640, 490)), src, image.Pt(640, 480), FilterNone),
		"empty":     ScaleRGBA(image.NewRGBA(image.Rect(0, 0, 0, 0)), src, image.Pt(640, 480), FilterNone),
		"nil":       ScaleRGBA(got, nil, image.Pt(640, 480), FilterNone),
		"short src": ScaleRGBA(got, &image.RGBA{Pix: src.Pix[:100], Stride: src.Stride, Rect: src.Rect}, image.Pt(640, 480), FilterNone),
		"filter":    ScaleRGBA(got, src, image.Pt(640, 480), Filter(-1)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Wrong pictures are errors, not crashes.
func TestErrors(t *testing.T) {
	ok := Reuse(nil, 8, 6)
	rgba := image.NewRGBA(image.Rect(0, 0, 8, 6))
	odd := Reuse(nil, 9, 7).SubImage(image.Rect(1, 0, 9, 6)).(*image.YCbCr)
	m422 := image.NewYCbCr(image.Rect(0, 0, 8, 6), image.YCbCrSubsampleRatio422)
	short := Reuse(nil, 8, 6)
	short.Cr = short.Cr[:5]
	for name, err := range map[string]error{
		"nil dst":              FromRGBA(nil, rgba),
		"nil src":              FromRGBA(ok, nil),
		"nil image":            FromImage(ok, nil),
		"size":                 FromRGBA(Reuse(nil, 8, 4), rgba),
		"4:2:2 dst":            FromRGBA(m422, rgba),
		"odd dst":              FromRGBA(odd, rgba),
		"short dst":            FromRGBA(short, rgba),
		"short RGBA":           FromRGBA(ok, &image.RGBA{Pix: rgba.Pix[:10], Stride: 32, Rect: rgba.Rect}),
		"empty":                FromRGBA(Reuse(nil, 0, 0), image.NewRGBA(image.Rect(0, 0, 0, 0))),
		"ToRGBA odd":           ToRGBA(rgba, odd),
		"ToRGBA size":          ToRGBA(image.NewRGBA(image.Rect(0, 0, 4, 4)), ok),
		"ToBGR short":          ToBGR(make([]byte, 3*8*6-1), 24, ok),
		"ToBGR stride":         ToBGR(make([]byte, 1000), 20, ok),
		"Scale 4:2:2":          Scale(ok, m422, FilterBox),
		"Scale short":          Scale(short, ok, FilterBox),
		"Scale unknown filter": Scale(Reuse(nil, 4, 4), ok, Filter(7)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "Scale unknown filter" && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrSize) {
			t.Errorf("%s: %v, want ErrFormat or ErrSize", name, err)
		}
	}
	if r := Reuse(ok, 8, 6); r != ok {
		t.Error("Reuse replaced a picture of the right size")
	}
	if r := Reuse(ok, 8, 4); r == ok || r.Rect != image.Rect(0, 0, 8, 4) {
		t.Errorf("Reuse of a picture of the wrong size gave %v", r.Rect)
	}
}

// Nothing allocates.
func TestNoAllocs(t *testing.T) {
	src := patternFrames(320, 240, 1)[0]
	rgba := rgbaOf(src)
	dst := Reuse(nil, 320, 240)
	big := Reuse(nil, 1280, 960)
	out := image.NewRGBA(src.Rect)
	bgr := make([]byte, 3*320*240)
	for name, f := range map[string]func(){
		"FromRGBA":  func() { _ = FromRGBA(dst, rgba) },
		"FromImage": func() { _ = FromImage(dst, src) },
		"ToRGBA":    func() { _ = ToRGBA(out, src) },
		"ToBGR":     func() { _ = ToBGR(bgr, 3*320, src) },
		"Scale":     func() { _ = Scale(big, src, FilterNone) },
		"ScaleRGBA": func() { _ = ScaleRGBA(out, rgba, image.Pt(320, 240), FilterBilinear) },
	} {
		if n := testing.AllocsPerRun(10, f); n != 0 {
			t.Errorf("%s: %.0f allocations a call", name, n)
		}
	}
}

// TestFromImage422And444 checks libyuv's 4:2:2 and 4:4:4 to 4:2:0 (what a
// V4L2 camera's YUYV decodes to) against the Go conversion, within 1 a
// sample, at even and odd sizes, and that an odd origin still converts.
func TestFromImage422And444(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444} {
		for _, size := range []image.Point{{64, 48}, {33, 17}} {
			src := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), ratio)
			seed := uint32(7)
			for _, p := range [][]byte{src.Y, src.Cb, src.Cr} {
				for i := range p {
					seed = seed*1664525 + 1013904223
					p[i] = byte(seed >> 24)
				}
			}
			want := Reuse(nil, size.X, size.Y)
			fromYCbCrGo(want, src)
			got := Reuse(nil, size.X, size.Y)
			if err := FromImage(got, src); err != nil {
				t.Fatal(err)
			}
			compare420(t, fmt.Sprintf("%v %v", ratio, size), got, want, 1)
			odd := src.SubImage(image.Rect(1, 1, size.X, size.Y)).(*image.YCbCr)
			got = Reuse(nil, size.X-1, size.Y-1)
			if err := FromImage(got, odd); err != nil {
				t.Fatal(err)
			}
			if g, w := got.YCbCrAt(0, 0).Y, odd.YCbCrAt(1, 1).Y; g != w {
				t.Errorf("%v odd origin: Y(0,0) = %d, want %d", ratio, g, w)
			}
		}
	}
}

// BenchmarkFrom422 converts a 640x480 4:2:2 picture, a YUYV camera's
// frame, to the encoders' 4:2:0.
func BenchmarkFrom422(b *testing.B) {
	src := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio422)
	dst := Reuse(nil, 640, 480)
	b.ReportAllocs()
	for b.Loop() {
		if err := FromImage(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
