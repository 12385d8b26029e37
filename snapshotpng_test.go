package rtcbot

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
	"github.com/rtcbot-go/rtcbot/yuv"
)

// writePNG writes what image/png reads back: the picture itself, opaque, or
// the picture yuv.ScaleRGBA enlarges, at sizes whose rows do not fill the
// last band, from a sub-image.
func TestWritePNG(t *testing.T) {
	full := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range full.Pix {
		full.Pix[i] = byte(i * 7)
	}
	src := full.SubImage(image.Rect(3, 2, 36, 19)).(*image.RGBA) // 33x17
	for _, scale := range []int{1, 2, 3} {
		var buf bytes.Buffer
		if err := writePNG(&buf, src, scale); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("scale %d: %v", scale, err)
		}
		size := src.Rect.Size().Mul(scale)
		want := image.NewRGBA(image.Rectangle{Max: size})
		if scale == 1 {
			draw.Draw(want, want.Rect, src, src.Rect.Min, draw.Src)
		} else if err := yuv.ScaleRGBA(want, src, size, yuv.FilterBilinear); err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != want.Rect {
			t.Fatalf("scale %d: %v, want %v", scale, img.Bounds(), want.Rect)
		}
		for y := range size.Y {
			for x := range size.X {
				w := want.RGBAAt(x, y)
				w.A = 255
				if g := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); g != w {
					t.Fatalf("scale %d: pixel (%d,%d) is %v, want %v", scale, x, y, g, w)
				}
			}
		}
	}
	if err := writePNG(io.Discard, image.NewRGBA(image.Rectangle{}), 1); err == nil {
		t.Error("an empty picture was written")
	}
	failing := errors.New("disk full")
	if err := writePNG(failWriter{failing}, full, 4); !errors.Is(err, failing) {
		t.Errorf("writing to a failing writer: %v, want its error", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// BenchmarkSnapshot4x writes the snapshot of a 640x480 frame 4 times
// larger, as the offloading desktop's headless display does every 5 s:
// "bands" is writePNG, "image/png" the picture enlarged whole and encoded
// by image/png at BestSpeed, as before.
func BenchmarkSnapshot4x(b *testing.B) {
	frame := timecode.NewPattern(640, 480).Frame(1, time.UnixMilli(0))
	rgba := image.NewRGBA(frame.Rect)
	if err := yuv.ToRGBA(rgba, frame); err != nil {
		b.Fatal(err)
	}
	b.Run("bands", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := writePNG(io.Discard, rgba, 4); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image/png", func(b *testing.B) {
		b.ReportAllocs()
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		for b.Loop() {
			big := image.NewRGBA(image.Rect(0, 0, 2560, 1920))
			if err := yuv.ScaleRGBA(big, rgba, big.Rect.Size(), yuv.FilterBilinear); err != nil {
				b.Fatal(err)
			}
			if err := enc.Encode(io.Discard, big); err != nil {
				b.Fatal(err)
			}
		}
	})
}
