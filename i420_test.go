package rtcbot

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// toI420 passes 4:2:0 pictures through, and converts RGBA and NRGBA on their
// fast path (libyuv) to the samples other kinds get through their color
// model, within 2 of 255, sub-images included.
func TestToI420(t *testing.T) {
	yuv := image.NewYCbCr(image.Rect(0, 0, 8, 6), image.YCbCrSubsampleRatio420)
	if got := toI420(yuv, nil); got != yuv {
		t.Fatal("a 4:2:0 picture was converted, not passed through")
	}

	full := image.NewRGBA(image.Rect(0, 0, 10, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 10; x++ {
			full.SetRGBA(x, y, color.RGBA{uint8(25 * x), uint8(30 * y), uint8(7 * x * y), 255})
		}
	}
	rgba := full.SubImage(image.Rect(1, 1, 9, 7)).(*image.RGBA) // odd origin
	nrgba := image.NewNRGBA(rgba.Bounds())
	rgba64 := image.NewRGBA64(rgba.Bounds()) // no fast path
	for y := rgba.Rect.Min.Y; y < rgba.Rect.Max.Y; y++ {
		for x := rgba.Rect.Min.X; x < rgba.Rect.Max.X; x++ {
			c := rgba.RGBAAt(x, y)
			nrgba.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
			rgba64.Set(x, y, c)
		}
	}
	want := toI420(rgba64, nil)
	if want.Rect != image.Rect(0, 0, 8, 6) || want.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("converted to %v %v, want 8x6 4:2:0 at the origin", want.Rect, want.SubsampleRatio)
	}
	// The top-left sample is the source's top-left pixel.
	c := rgba.RGBAAt(1, 1)
	if y, _, _ := color.RGBToYCbCr(c.R, c.G, c.B); want.Y[0] != y {
		t.Fatalf("Y[0] = %d, want %d", want.Y[0], y)
	}
	close := func(a, b []byte) bool {
		for i := range a {
			if d := int(a[i]) - int(b[i]); d < -2 || d > 2 {
				return false
			}
		}
		return true
	}
	dst := image.NewYCbCr(image.Rect(0, 0, 8, 6), image.YCbCrSubsampleRatio420)
	for name, img := range map[string]image.Image{"RGBA": rgba, "NRGBA": nrgba} {
		got := toI420(img, dst)
		if got != dst {
			t.Errorf("%s: dst of the right size was not reused", name)
		}
		if !close(got.Y, want.Y) || !close(got.Cb, want.Cb) || !close(got.Cr, want.Cr) {
			t.Errorf("%s: fast path differs from the color model's conversion:\n%v %v %v\n%v %v %v", name,
				got.Y, got.Cb, got.Cr, want.Y, want.Cb, want.Cr)
		}
	}
	if got := toI420(rgba, image.NewYCbCr(image.Rect(0, 0, 4, 4), image.YCbCrSubsampleRatio420)); got.Rect.Dx() != 8 || got.Rect.Dy() != 6 {
		t.Errorf("a dst of the wrong size gave %v", got.Rect)
	}

	// A 4:2:0 sub-image at an odd point is copied to one at the origin.
	frame := timecode.NewPattern(64, 48).Frame(3, time.Now())
	odd := frame.SubImage(image.Rect(1, 1, 63, 47)).(*image.YCbCr)
	got := toI420(odd, nil)
	if got == odd || got.Rect != image.Rect(0, 0, 62, 46) || got.Y[0] != odd.YCbCrAt(1, 1).Y {
		t.Errorf("an odd sub-image gave %v, Y[0] %d, want a copy at the origin", got.Rect, got.Y[0])
	}
	if n := testing.AllocsPerRun(5, func() { toI420(rgba, dst) }); n != 0 {
		t.Errorf("toI420 of RGBA into a reused picture: %.0f allocations", n)
	}
}

// BenchmarkToI420 converts 640x480 RGBA frames of the moving test pattern,
// as a camera giving RGBA (cv's) has the encoder do every frame.
func BenchmarkToI420(b *testing.B) {
	p := timecode.NewPattern(640, 480)
	var frames [8]*image.RGBA
	for i := range frames {
		frames[i] = image.NewRGBA(image.Rect(0, 0, 640, 480))
		draw.Draw(frames[i], frames[i].Rect, p.Frame(uint32(i), time.UnixMilli(int64(33*i))), image.Point{}, draw.Src)
	}
	dst := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	b.SetBytes(640 * 480 * 4)
	for i := 0; b.Loop(); i++ {
		dst = toI420(frames[i%len(frames)], dst)
	}
}
