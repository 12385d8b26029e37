//go:build cgo

package vp8

import (
	"image"
	"math"
	"testing"
	"time"
)

// testPicture returns frame n of a moving test sequence of size w x h: a
// textured background panning 2 pixels per frame over a gradient, plus a
// checkered rectangle moving diagonally by several pixels per frame.
func testPicture(w, h, n int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			u := float64(x + 2*n)
			v := 100 + 60*float64(x)/float64(w) + 40*float64(y)/float64(h) +
				30*math.Sin(u/7)*math.Cos(float64(y)/5) + 20*math.Sin((u+float64(y))/3)
			img.Y[y*img.YStride+x] = uint8(v)
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			img.Cb[y*img.CStride+x] = uint8(64 + x*128/cw)
			img.Cr[y*img.CStride+x] = uint8(192 - y*128/ch)
		}
	}
	rw, rh := max(w/5, 1), max(h/5, 1)
	rx := (n * 7) % max(w-rw, 1)
	ry := (n * 5) % max(h-rh, 1)
	for y := ry; y < ry+rh && y < h; y++ {
		for x := rx; x < rx+rw && x < w; x++ {
			v := uint8(220)
			if ((x-rx)/8+(y-ry)/8)%2 == 0 {
				v = 40
			}
			img.Y[y*img.YStride+x] = v
			img.Cb[(y/2)*img.CStride+x/2] = 200
			img.Cr[(y/2)*img.CStride+x/2] = 60
		}
	}
	return img
}

// psnr returns the PSNR in dB between two w x h planes.
func psnr(a []byte, aStride int, b []byte, bStride int, w, h int) float64 {
	var sse float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := float64(a[y*aStride+x]) - float64(b[y*bStride+x])
			sse += d * d
		}
	}
	if sse == 0 {
		return 99
	}
	mse := sse / float64(w*h)
	return 10 * math.Log10(255*255/mse)
}

// psnrY returns the luma PSNR of got against want.
func psnrY(want, got *image.YCbCr) float64 {
	w, h := want.Rect.Dx(), want.Rect.Dy()
	return psnr(want.Y[want.YOffset(want.Rect.Min.X, want.Rect.Min.Y):], want.YStride, got.Y, got.YStride, w, h)
}

// psnrCb returns the Cb PSNR of got against want.
func psnrCb(want, got *image.YCbCr) float64 {
	w, h := (want.Rect.Dx()+1)/2, (want.Rect.Dy()+1)/2
	return psnr(want.Cb[want.COffset(want.Rect.Min.X, want.Rect.Min.Y):], want.CStride, got.Cb, got.CStride, w, h)
}

// ptsOf returns the presentation time of frame n at fps.
func ptsOf(n, fps int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(fps)
}

func newCodecs(t testing.TB, s EncoderSettings) (*Encoder, *Decoder) {
	t.Helper()
	enc, err := NewEncoder(s)
	if err != nil {
		t.Fatalf("NewEncoder(%+v): %v", s, err)
	}
	t.Cleanup(func() { enc.Close() })
	dec, err := NewDecoder()
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	t.Cleanup(func() { dec.Close() })
	return enc, dec
}

// encodeKeyframe returns a real keyframe of a w x h test picture.
func encodeKeyframe(t testing.TB, w, h int) []byte {
	t.Helper()
	enc, err := NewEncoder(EncoderSettings{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	frame, key, err := enc.Encode(testPicture(w, h, 0), 0, false)
	if err != nil || !key || len(frame) == 0 {
		t.Fatalf("encode keyframe: key=%v len=%d err=%v", key, len(frame), err)
	}
	return frame
}
