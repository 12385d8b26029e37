package mjpeg

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// goDecode decodes b with image/jpeg alone, the reference.
func goDecode(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("image/jpeg: %v", err)
	}
	return img
}

// goTestdata returns the JPEG file name of Go's image/testdata (in GOROOT's
// sources), which has JPEGs at every subsampling image/jpeg decodes.
func goTestdata(t *testing.T, name string) []byte {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "src", "image", "testdata", name))
	if err != nil {
		t.Fatalf("Go's image test data (GOROOT/src/image/testdata, part of every Go installation): %v", err)
	}
	return b
}

// diff accumulates the differences between the samples of two pictures.
type diff struct {
	sum, n, max int
}

// planes adds the differences of the w x h planes a and b.
func (d *diff) planes(a []byte, aStride int, b []byte, bStride, w, h int) {
	for y := range h {
		for x := range w {
			v := int(a[y*aStride+x]) - int(b[y*bStride+x])
			v = max(v, -v)
			d.sum += v
			d.n++
			d.max = max(d.max, v)
		}
	}
}

func (d *diff) mean() float64 { return float64(d.sum) / float64(d.n) }

// compare returns the differences between got and want, two pictures of the
// same kind and size, over their Y, Cb and Cr (or grey) samples.
func compare(t *testing.T, got, want image.Image) diff {
	t.Helper()
	var d diff
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	w, h := want.Bounds().Dx(), want.Bounds().Dy()
	switch want := want.(type) {
	case *image.YCbCr:
		got, ok := got.(*image.YCbCr)
		if !ok {
			t.Fatalf("decoded a %T, want %T", got, want)
		}
		if got.SubsampleRatio != want.SubsampleRatio {
			t.Fatalf("subsampling %v, want %v", got.SubsampleRatio, want.SubsampleRatio)
		}
		c := image.NewYCbCr(want.Rect, want.SubsampleRatio) // the chroma's size
		cw, ch := c.CStride, len(c.Cb)/c.CStride
		d.planes(got.Y, got.YStride, want.Y, want.YStride, w, h)
		d.planes(got.Cb, got.CStride, want.Cb, want.CStride, cw, ch)
		d.planes(got.Cr, got.CStride, want.Cr, want.CStride, cw, ch)
	case *image.Gray:
		got, ok := got.(*image.Gray)
		if !ok {
			t.Fatalf("decoded a %T, want %T", got, want)
		}
		d.planes(got.Pix, got.Stride, want.Pix, want.Stride, w, h)
	default:
		t.Fatalf("cannot compare a %T", want)
	}
	return d
}

// segments calls f with the marker and the whole segment (marker included)
// of each segment of JPEG b before its first scan, and returns the offset of
// that scan's SOS marker.
func segments(t testing.TB, b []byte, f func(marker byte, seg []byte)) int {
	t.Helper()
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		t.Fatal("not a JPEG")
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		if b[i+1] == 0xda {
			return i
		}
		n := 2 + (int(b[i+2])<<8 | int(b[i+3]))
		f(b[i+1], b[i:i+n])
		i += n
	}
	t.Fatal("no scan")
	return 0
}

// stripDHT returns a copy of JPEG b without the DHT segments before its
// first scan, as a webcam sends it.
func stripDHT(t testing.TB, b []byte) []byte {
	t.Helper()
	out := []byte{0xff, 0xd8}
	sos := segments(t, b, func(marker byte, seg []byte) {
		if marker != 0xc4 {
			out = append(out, seg...)
		}
	})
	return append(out, b[sos:]...)
}

// withSize returns a copy of JPEG b whose SOF0 header declares w x h.
func withSize(t testing.TB, b []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(b)
	found := false
	segments(t, out, func(marker byte, seg []byte) {
		if marker == 0xc0 {
			seg[5], seg[6], seg[7], seg[8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
			found = true
		}
	})
	if !found {
		t.Fatal("no SOF0")
	}
	return out
}
