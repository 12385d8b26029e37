package rtcbot

import (
	"image"
	"image/color"
	"testing"
)

// toI420 passes 4:2:0 pictures through, and converts RGBA and NRGBA on their
// fast path to the same samples as other kinds through their color model,
// sub-images included.
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
	dst := image.NewYCbCr(image.Rect(0, 0, 8, 6), image.YCbCrSubsampleRatio420)
	for name, img := range map[string]image.Image{"RGBA": rgba, "NRGBA": nrgba} {
		got := toI420(img, dst)
		if got != dst {
			t.Errorf("%s: dst of the right size was not reused", name)
		}
		if string(got.Y) != string(want.Y) || string(got.Cb) != string(want.Cb) || string(got.Cr) != string(want.Cr) {
			t.Errorf("%s: fast path differs from the color model's conversion", name)
		}
	}
	if got := toI420(rgba, image.NewYCbCr(image.Rect(0, 0, 4, 4), image.YCbCrSubsampleRatio420)); got.Rect.Dx() != 8 || got.Rect.Dy() != 6 {
		t.Errorf("a dst of the wrong size gave %v", got.Rect)
	}
}
