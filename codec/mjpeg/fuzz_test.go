package mjpeg

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"

	"github.com/rtcbot-go/rtcbot/internal/ffmpegtest"
)

// FuzzDecode: whatever the bytes, Decode returns a picture whose planes
// hold its bounds, or an error wrapping ErrCorrupt; never a crash.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 30s ./codec/mjpeg/
func FuzzDecode(f *testing.F) {
	small := ffmpegtest.MJPEG(f, 64, 48, "yuvj422p", 1)[0]
	odd := ffmpegtest.MJPEG(f, 33, 17, "yuvj420p", 1, "-huffman", "default")[0]
	var grey bytes.Buffer
	if err := jpeg.Encode(&grey, image.NewGray(image.Rect(0, 0, 24, 16)), nil); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		small, odd, grey.Bytes(), stripDHT(f, odd),
		small[:len(small)/2], withSize(f, small, 60000, 60000),
		nil, []byte("not a JPEG"), {0xff, 0xd8, 0xff, 0xd9},
	} {
		f.Add(seed)
	}
	d := newDecoder(f)
	d.maxPixels = 1 << 20 // small pictures: more inputs a second
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := d.Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || img != nil {
				t.Fatalf("Decode = %T, %v; want nil and an error wrapping ErrCorrupt", img, err)
			}
			return
		}
		r := img.Bounds()
		if r.Min != (image.Point{}) || r.Empty() || r.Dx()*r.Dy() > d.maxPixels {
			t.Fatalf("decoded %v", r)
		}
		switch m := img.(type) {
		case *image.YCbCr:
			c := image.NewYCbCr(r, m.SubsampleRatio) // the chroma's size
			cw, ch := c.CStride, len(c.Cb)/c.CStride
			if m.YStride < r.Dx() || len(m.Y) < (r.Dy()-1)*m.YStride+r.Dx() ||
				m.CStride < cw || len(m.Cb) < (ch-1)*m.CStride+cw || len(m.Cr) < (ch-1)*m.CStride+cw {
				t.Fatalf("%v %v: planes too small", r, m.SubsampleRatio)
			}
		case *image.Gray:
			if m.Stride < r.Dx() || len(m.Pix) < (r.Dy()-1)*m.Stride+r.Dx() {
				t.Fatalf("%v: plane too small", r)
			}
		}
		img.At(r.Dx()-1, r.Dy()-1)
	})
}
