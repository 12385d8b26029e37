package yuv

import (
	"image"
	"testing"
)

// The benchmarks run at 640x480 on 8 frames of the moving test pattern,
// made beforehand; "libyuv" is the package's function (Go's in a build
// without cgo), "go" its Go implementation.

const benchFrames = 8

func BenchmarkFromRGBA(b *testing.B) {
	var src [benchFrames]*image.RGBA
	for i, f := range patternFrames(640, 480, benchFrames) {
		src[i] = rgbaOf(f)
	}
	dst := Reuse(nil, 640, 480)
	b.Run("libyuv", func(b *testing.B) {
		b.SetBytes(640 * 480 * 4)
		for i := 0; b.Loop(); i++ {
			if err := FromRGBA(dst, src[i%benchFrames]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		b.SetBytes(640 * 480 * 4)
		for i := 0; b.Loop(); i++ {
			s := src[i%benchFrames]
			fromABGRGo(dst, s.Pix, s.Stride, 640, 480)
		}
	})
}

func BenchmarkToRGBA(b *testing.B) {
	src := patternFrames(640, 480, benchFrames)
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	b.Run("libyuv", func(b *testing.B) {
		b.SetBytes(640 * 480 * 4)
		for i := 0; b.Loop(); i++ {
			if err := ToRGBA(dst, src[i%benchFrames]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		b.SetBytes(640 * 480 * 4)
		for i := 0; b.Loop(); i++ {
			toABGRGo(dst.Pix, dst.Stride, src[i%benchFrames])
		}
	})
}

func BenchmarkToBGR(b *testing.B) {
	src := patternFrames(640, 480, benchFrames)
	dst := make([]byte, 640*480*3)
	b.Run("libyuv", func(b *testing.B) {
		b.SetBytes(640 * 480 * 3)
		for i := 0; b.Loop(); i++ {
			if err := ToBGR(dst, 640*3, src[i%benchFrames]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		b.SetBytes(640 * 480 * 3)
		for i := 0; b.Loop(); i++ {
			toRGB24Go(dst, 640*3, src[i%benchFrames])
		}
	})
}

// BenchmarkScale: halving (what MaintainFramerate does) and a 4x
// enlargement (the offloading tutorial's display), bytes counted at the
// destination.
func BenchmarkScale(b *testing.B) {
	src := patternFrames(640, 480, benchFrames)
	for _, tc := range []struct {
		name string
		w, h int
		f    Filter
	}{
		{"half/box", 320, 240, FilterBox},
		{"4x/none", 2560, 1920, FilterNone},
		{"4x/bilinear", 2560, 1920, FilterBilinear},
	} {
		dst := Reuse(nil, tc.w, tc.h)
		b.Run(tc.name+"/libyuv", func(b *testing.B) {
			b.SetBytes(int64(tc.w * tc.h * 3 / 2))
			for i := 0; b.Loop(); i++ {
				if err := Scale(dst, src[i%benchFrames], tc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/go", func(b *testing.B) {
			b.SetBytes(int64(tc.w * tc.h * 3 / 2))
			for i := 0; b.Loop(); i++ {
				scaleGo(dst, src[i%benchFrames], tc.f)
			}
		})
	}
}

// BenchmarkScaleRGBA enlarges 640x480 RGBA 4 times in bands of 16 rows, as
// a snapshot of the offloading tutorial's display is made.
func BenchmarkScaleRGBA(b *testing.B) {
	var src [benchFrames]*image.RGBA
	for i, f := range patternFrames(640, 480, benchFrames) {
		src[i] = rgbaOf(f)
	}
	size := image.Pt(2560, 1920)
	band := image.NewRGBA(image.Rect(0, 0, 2560, 16))
	for _, f := range []Filter{FilterNone, FilterBilinear} {
		b.Run("4x/"+f.String(), func(b *testing.B) {
			b.SetBytes(2560 * 1920 * 4)
			for i := 0; b.Loop(); i++ {
				for y := 0; y < size.Y; y += 16 {
					band.Rect = image.Rect(0, y, 2560, y+16)
					if err := ScaleRGBA(band, src[i%benchFrames], size, f); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
