package timecode_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// stamps is a set of stamps with edge-case and alternating bit patterns.
var stamps = []timecode.Stamp{
	{Seq: 0, CaptureMillis: 0},
	{Seq: 0xFFFFFFFF, CaptureMillis: 0xFFFFFFFF},
	{Seq: 0xAAAAAAAA, CaptureMillis: 0x55555555},
	{Seq: 0x55555555, CaptureMillis: 0xAAAAAAAA},
	{Seq: 1, CaptureMillis: 0x80000000},
	{Seq: 0x80000001, CaptureMillis: 0x0000FFFF},
	timecode.StampOf(12345, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
}

// newImage returns a w x h image of the given kind filled with random
// content, so that the area outside the stamp is not trivially uniform.
func newImage(t testing.TB, kind string, w, h int, seed uint64) image.Image {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	r := image.Rect(0, 0, w, h)
	var img image.Image
	var planes [][]byte
	switch kind {
	case "ycbcr420":
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		img, planes = m, [][]byte{m.Y, m.Cb, m.Cr}
	case "ycbcr422":
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio422)
		img, planes = m, [][]byte{m.Y, m.Cb, m.Cr}
	case "ycbcr444":
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
		img, planes = m, [][]byte{m.Y, m.Cb, m.Cr}
	case "rgba":
		m := image.NewRGBA(r)
		img, planes = m, [][]byte{m.Pix}
	case "nrgba":
		m := image.NewNRGBA(r)
		img, planes = m, [][]byte{m.Pix}
	default:
		t.Fatalf("unknown image kind %q", kind)
	}
	for _, p := range planes {
		for i := range p {
			p[i] = byte(rng.UintN(256))
		}
	}
	return img
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		kind string
		w, h int
	}{
		{"ycbcr420", 640, 480},
		{"ycbcr420", 320, 240},
		{"ycbcr420", 321, 241},
		{"ycbcr420", 32, 30},
		{"ycbcr420", 33, 31},
		{"ycbcr422", 321, 241},
		{"ycbcr444", 640, 480},
		{"rgba", 640, 480},
		{"rgba", 321, 241},
		{"nrgba", 640, 480},
		{"nrgba", 321, 241},
	}
	for _, c := range cases {
		for i, s := range stamps {
			t.Run(fmt.Sprintf("%s/%dx%d/%d", c.kind, c.w, c.h, i), func(t *testing.T) {
				img := newImage(t, c.kind, c.w, c.h, uint64(i))
				if err := timecode.Write(img, s); err != nil {
					t.Fatalf("Write: %v", err)
				}
				got, err := timecode.Read(img)
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if got != s {
					t.Fatalf("Read = %+v, want %+v", got, s)
				}
			})
		}
	}
}

// TestLayout checks the pixel layout against the fixed format, independently
// of Read: every pixel of the stamp area and the pixels just outside it.
func TestLayout(t *testing.T) {
	s := timecode.Stamp{Seq: 0x80000001, CaptureMillis: 0x0000FFFF}
	// 0x80000001 ^ 0x0000FFFF ^ 0x5A5AA5A5, worked out by hand.
	words := [3]uint32{0x80000001, 0x0000FFFF, 0xDA5A5A5B}
	for _, size := range []image.Point{{650, 490}, {640, 480}, {321, 241}, {33, 31}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			w, h := size.X, size.Y
			cw, ch := w/32, h/30
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			const bg = 77
			for i := range img.Pix {
				img.Pix[i] = bg
			}
			if err := timecode.Write(img, s); err != nil {
				t.Fatal(err)
			}
			for y := range h {
				for x := range w {
					want := color.RGBA{bg, bg, bg, bg}
					if x < 32*cw && y < 3*ch {
						bit := words[y/ch] >> (31 - x/cw) & 1
						v := uint8(255 * bit)
						want = color.RGBA{v, v, v, 255}
					}
					if got := img.RGBAAt(x, y); got != want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

func TestWriteYCbCrNeutralChroma(t *testing.T) {
	for _, kind := range []string{"ycbcr420", "ycbcr422", "ycbcr444"} {
		for _, size := range []image.Point{{640, 480}, {321, 241}} {
			t.Run(fmt.Sprint(kind, size), func(t *testing.T) {
				m := newImage(t, kind, size.X, size.Y, 3).(*image.YCbCr)
				if err := timecode.Write(m, stamps[2]); err != nil {
					t.Fatal(err)
				}
				cw, ch := size.X/32, size.Y/30
				for y := range 3 * ch {
					for x := range 32 * cw {
						c := m.YCbCrAt(x, y)
						if c.Cb != 128 || c.Cr != 128 || (c.Y != 0 && c.Y != 255) {
							t.Fatalf("pixel (%d,%d) = %+v, want Y 0/255 and neutral chroma", x, y, c)
						}
					}
				}
				// The picture below the stamp must be untouched (random
				// chroma is essentially never 128 across a whole row).
				y := 3*ch + 2
				neutral := 0
				for x := range size.X {
					if c := m.YCbCrAt(x, y); c.Cb == 128 && c.Cr == 128 {
						neutral++
					}
				}
				if neutral > size.X/10 {
					t.Fatalf("row %d below the stamp has %d neutral-chroma pixels; Write touched it", y, neutral)
				}
			})
		}
	}
}

// TestCrossFormat converts stamped frames between YCbCr and RGB, as a
// receiver would, and reads the result through a different code path.
func TestCrossFormat(t *testing.T) {
	s := stamps[5]
	for _, size := range []image.Point{{640, 480}, {320, 240}, {321, 241}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			yuv := newImage(t, "ycbcr420", size.X, size.Y, 9).(*image.YCbCr)
			if err := timecode.Write(yuv, s); err != nil {
				t.Fatal(err)
			}
			rgba := image.NewRGBA(yuv.Rect)
			draw.Draw(rgba, rgba.Rect, yuv, image.Point{}, draw.Src)
			// Neutral chroma makes the stamp exactly white and black in RGB.
			if got := rgba.RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
				t.Errorf("top-left stamp pixel converts to %v, want pure white", got)
			}
			if got, err := timecode.Read(rgba); err != nil || got != s {
				t.Errorf("Read(YCbCr->RGBA) = %+v, %v; want %+v", got, err, s)
			}
			gray := image.NewGray(yuv.Rect)
			draw.Draw(gray, gray.Rect, rgba, image.Point{}, draw.Src)
			if got, err := timecode.Read(gray); err != nil || got != s {
				t.Errorf("Read(Gray via At) = %+v, %v; want %+v", got, err, s)
			}

			nrgba := newImage(t, "nrgba", size.X, size.Y, 10).(*image.NRGBA)
			if err := timecode.Write(nrgba, s); err != nil {
				t.Fatal(err)
			}
			back := image.NewYCbCr(nrgba.Rect, image.YCbCrSubsampleRatio444)
			for y := range size.Y {
				for x := range size.X {
					c := nrgba.NRGBAAt(x, y)
					i, j := back.YOffset(x, y), back.COffset(x, y)
					back.Y[i], back.Cb[j], back.Cr[j] = color.RGBToYCbCr(c.R, c.G, c.B)
				}
			}
			if got, err := timecode.Read(back); err != nil || got != s {
				t.Errorf("Read(NRGBA->YCbCr) = %+v, %v; want %+v", got, err, s)
			}
			rgba64 := image.NewRGBA64(nrgba.Rect)
			draw.Draw(rgba64, rgba64.Rect, nrgba, image.Point{}, draw.Src)
			if got, err := timecode.Read(rgba64); err != nil || got != s {
				t.Errorf("Read(RGBA64 via At) = %+v, %v; want %+v", got, err, s)
			}
		})
	}
}

// TestSubImage stamps and reads images whose bounds do not start at the
// origin.
func TestSubImage(t *testing.T) {
	s := stamps[3]
	r := image.Rect(3, 5, 3+321, 5+241)
	for _, kind := range []string{"ycbcr420", "rgba", "nrgba"} {
		t.Run(kind, func(t *testing.T) {
			parent := newImage(t, kind, 400, 300, 4).(interface {
				image.Image
				SubImage(image.Rectangle) image.Image
			})
			sub := parent.SubImage(r)
			if err := timecode.Write(sub, s); err != nil {
				t.Fatal(err)
			}
			if got, err := timecode.Read(sub); err != nil || got != s {
				t.Fatalf("Read(sub) = %+v, %v; want %+v", got, err, s)
			}
			// The parent is not stamped at its own origin.
			if _, err := timecode.Read(parent); !errors.Is(err, timecode.ErrNoStamp) {
				t.Fatalf("Read(parent) err = %v, want ErrNoStamp", err)
			}
			// Pixels left of and above the sub-image are untouched.
			fresh := newImage(t, kind, 400, 300, 4)
			for _, p := range []image.Point{{2, 5}, {3, 4}, {2, 30}, {100, 4}} {
				got, want := parent.At(p.X, p.Y), fresh.At(p.X, p.Y)
				if y, ok := got.(color.YCbCr); ok {
					// A 4:2:0 chroma sample at an odd edge is shared with
					// the pixel outside; only luma is the sub-image's own.
					got, want = color.Gray{y.Y}, color.Gray{want.(color.YCbCr).Y}
				}
				if got != want {
					t.Errorf("pixel %v outside the sub-image changed: %v -> %v", p, want, got)
				}
			}
		})
	}
}

// addNoise adds deterministic uniform noise in [-amp, amp] to every byte.
func addNoise(p []byte, amp int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i, v := range p {
		p[i] = byte(min(max(int(v)+rng.IntN(2*amp+1)-amp, 0), 255))
	}
}

// blur applies a 3x3 box blur to a plane of w x h samples, each channels
// bytes apart (channels = 1 for a luma plane, 4 for RGBA).
func blur(p []byte, w, h, stride, channels int) {
	src := append([]byte(nil), p...)
	for y := range h {
		for x := range w {
			for c := range channels {
				sum, n := 0, 0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						xx, yy := x+dx, y+dy
						if xx < 0 || yy < 0 || xx >= w || yy >= h {
							continue
						}
						sum += int(src[yy*stride+xx*channels+c])
						n++
					}
				}
				p[y*stride+x*channels+c] = byte((sum + n/2) / n)
			}
		}
	}
}

func TestReadNoiseAndBlur(t *testing.T) {
	for _, kind := range []string{"ycbcr420", "rgba"} {
		for _, size := range []image.Point{{640, 480}, {320, 240}, {321, 241}} {
			for _, i := range []int{0, 1, 2, 5} {
				s := stamps[i]
				t.Run(fmt.Sprintf("%s/%v/%d", kind, size, i), func(t *testing.T) {
					img := newImage(t, kind, size.X, size.Y, uint64(i))
					if err := timecode.Write(img, s); err != nil {
						t.Fatal(err)
					}
					switch m := img.(type) {
					case *image.YCbCr:
						blur(m.Y, size.X, size.Y, m.YStride, 1)
						blur(m.Y, size.X, size.Y, m.YStride, 1)
						addNoise(m.Y, 40, uint64(i))
						addNoise(m.Cb, 40, uint64(i)+100)
						addNoise(m.Cr, 40, uint64(i)+200)
					case *image.RGBA:
						blur(m.Pix, size.X, size.Y, m.Stride, 4)
						blur(m.Pix, size.X, size.Y, m.Stride, 4)
						addNoise(m.Pix, 40, uint64(i))
					}
					got, err := timecode.Read(img)
					if err != nil || got != s {
						t.Fatalf("Read after noise and blur = %+v, %v; want %+v", got, err, s)
					}
				})
			}
		}
	}
}

// TestReadCentralHalf checks that only the central half of each cell is
// sampled: inverting everything else (three quarters of each cell's area)
// must not change the reading, and inverting just the central half must.
func TestReadCentralHalf(t *testing.T) {
	for _, size := range []image.Point{{640, 480}, {320, 240}, {321, 241}} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := stamps[2]
			cw, ch := size.X/32, size.Y/30
			// central reports whether offset i within a cell of n pixels
			// is in its central half, with the same rounding as the format
			// description: n/2 pixels starting at (n - n/2)/2.
			central := func(i, n int) bool { l := n / 2; return i >= (n-l)/2 && i < (n-l)/2+l }
			for _, invertCentre := range []bool{false, true} {
				m := newImage(t, "ycbcr420", size.X, size.Y, 5).(*image.YCbCr)
				if err := timecode.Write(m, s); err != nil {
					t.Fatal(err)
				}
				for y := range 3 * ch {
					for x := range 32 * cw {
						inCentre := central(x%cw, cw) && central(y%ch, ch)
						if inCentre == invertCentre {
							m.Y[m.YOffset(x, y)] ^= 0xFF
						}
					}
				}
				got, err := timecode.Read(m)
				if invertCentre {
					if !errors.Is(err, timecode.ErrNoStamp) {
						t.Errorf("centres inverted: Read = %+v, %v; want ErrNoStamp", got, err)
					}
				} else if err != nil || got != s {
					t.Errorf("borders inverted: Read = %+v, %v; want %+v", got, err, s)
				}
			}
		})
	}
}

// TestCorruptCell flips each of the 96 cells in turn; every single-cell
// error must be caught by the check word.
func TestCorruptCell(t *testing.T) {
	const w, h = 320, 240
	cw, ch := w/32, h/30
	s := stamps[6]
	clean := newImage(t, "ycbcr420", w, h, 6).(*image.YCbCr)
	if err := timecode.Write(clean, s); err != nil {
		t.Fatal(err)
	}
	for row := range 3 {
		for bit := range 32 {
			m := *clean
			m.Y = append([]byte(nil), clean.Y...)
			for y := row * ch; y < (row+1)*ch; y++ {
				for x := bit * cw; x < (bit+1)*cw; x++ {
					m.Y[m.YOffset(x, y)] ^= 0xFF
				}
			}
			got, err := timecode.Read(&m)
			if !errors.Is(err, timecode.ErrNoStamp) {
				t.Errorf("cell row %d bit %d flipped: Read = %+v, %v; want ErrNoStamp", row, bit, got, err)
			}
		}
	}
	if got, err := timecode.Read(clean); err != nil || got != s {
		t.Fatalf("clean frame: Read = %+v, %v; want %+v", got, err, s)
	}
}

func TestReadUniform(t *testing.T) {
	for _, v := range []byte{0, 128, 255} {
		for _, kind := range []string{"ycbcr420", "rgba", "gray"} {
			t.Run(fmt.Sprint(kind, v), func(t *testing.T) {
				r := image.Rect(0, 0, 640, 480)
				var img image.Image
				switch kind {
				case "ycbcr420":
					m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
					for i := range m.Y {
						m.Y[i] = v
					}
					img = m
				case "rgba":
					m := image.NewRGBA(r)
					for i := range m.Pix {
						m.Pix[i] = v
					}
					img = m
				case "gray":
					m := image.NewGray(r)
					for i := range m.Pix {
						m.Pix[i] = v
					}
					img = m
				}
				got, err := timecode.Read(img)
				if !errors.Is(err, timecode.ErrNoStamp) {
					t.Fatalf("uniform %d frame: Read = %+v, %v; want ErrNoStamp", v, got, err)
				}
			})
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, size := range []image.Point{{31, 30}, {32, 29}, {0, 0}, {10, 100}} {
		r := image.Rect(0, 0, size.X, size.Y)
		for _, img := range []image.Image{
			image.NewYCbCr(r, image.YCbCrSubsampleRatio420),
			image.NewRGBA(r),
			image.NewNRGBA(r),
		} {
			t.Run(fmt.Sprintf("%T/%v", img, size), func(t *testing.T) {
				if err := timecode.Write(img, stamps[1]); err == nil {
					t.Error("Write succeeded on a too-small image")
				}
				if _, err := timecode.Read(img); !errors.Is(err, timecode.ErrNoStamp) {
					t.Errorf("Read err = %v, want ErrNoStamp", err)
				}
			})
		}
	}
}

func TestWriteUnsupported(t *testing.T) {
	for _, img := range []image.Image{
		image.NewGray(image.Rect(0, 0, 64, 60)),
		image.NewRGBA64(image.Rect(0, 0, 64, 60)),
		nil,
	} {
		if err := timecode.Write(img, stamps[1]); err == nil {
			t.Errorf("Write(%T) succeeded, want an error", img)
		}
	}
	if _, err := timecode.Read(nil); !errors.Is(err, timecode.ErrNoStamp) {
		t.Errorf("Read(nil) err = %v, want ErrNoStamp", err)
	}
}

func TestStampOf(t *testing.T) {
	cases := []struct {
		t    time.Time
		want uint32
	}{
		{time.UnixMilli(0), 0},
		{time.UnixMilli(1<<32 + 5), 5},
		{time.UnixMilli(400<<32 - 1), 0xFFFFFFFF},
		{time.UnixMilli(1_700_000_000_123).Add(999 * time.Microsecond), uint32(1_700_000_000_123 % (1 << 32))},
		{time.UnixMilli(-1), 0xFFFFFFFF},
	}
	for _, c := range cases {
		if got := timecode.StampOf(7, c.t); got != (timecode.Stamp{Seq: 7, CaptureMillis: c.want}) {
			t.Errorf("StampOf(7, %v) = %+v, want CaptureMillis %#x", c.t, got, c.want)
		}
	}
}

func TestLatency(t *testing.T) {
	boundary := time.UnixMilli(400 << 32) // a multiple of 2^32 ms, in 2024
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name              string
		captured, receive time.Time
		want              time.Duration
	}{
		{"same instant", now, now, 0},
		{"typical", now, now.Add(85 * time.Millisecond), 85 * time.Millisecond},
		{"sub-millisecond receive part is dropped", now, now.Add(85*time.Millisecond + 700*time.Microsecond), 85 * time.Millisecond},
		{"wrap", boundary.Add(-10 * time.Millisecond), boundary.Add(25 * time.Millisecond), 35 * time.Millisecond},
		{"wrap exactly", boundary.Add(-time.Millisecond), boundary, time.Millisecond},
		{"receiver clock behind", now, now.Add(-5 * time.Millisecond), -5 * time.Millisecond},
		{"receiver behind across wrap", boundary.Add(3 * time.Millisecond), boundary.Add(-4 * time.Millisecond), -7 * time.Millisecond},
		{"long", now, now.Add(20 * 24 * time.Hour), 20 * 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := timecode.StampOf(1, c.captured)
			if got := s.Latency(c.receive); got != c.want {
				t.Errorf("Latency = %v, want %v (capture word %#x)", got, c.want, s.CaptureMillis)
			}
		})
	}
	// Sanity-check the wrap case really straddles the boundary.
	before := timecode.StampOf(0, boundary.Add(-10*time.Millisecond)).CaptureMillis
	after := timecode.StampOf(0, boundary.Add(25*time.Millisecond)).CaptureMillis
	if before != 0xFFFFFFF6 || after != 25 {
		t.Fatalf("wrap case words = %#x, %#x; want 0xfffffff6, 0x19", before, after)
	}
}

// FuzzRoundTrip checks Write/Read round trips for arbitrary stamps and
// sizes; its seed corpus runs as part of go test.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint32(0), uint32(0), uint16(32), uint16(30))
	f.Add(uint32(0xFFFFFFFF), uint32(0xAAAAAAAA), uint16(641), uint16(479))
	f.Add(uint32(0x12345678), uint32(0x9ABCDEF0), uint16(95), uint16(61))
	f.Fuzz(func(t *testing.T, seq, ms uint32, w, h uint16) {
		W, H := 32+int(w)%700, 30+int(h)%500
		s := timecode.Stamp{Seq: seq, CaptureMillis: ms}
		for _, kind := range []string{"ycbcr420", "rgba"} {
			img := newImage(t, kind, W, H, uint64(seq))
			if err := timecode.Write(img, s); err != nil {
				t.Fatalf("%s %dx%d: Write: %v", kind, W, H, err)
			}
			if got, err := timecode.Read(img); err != nil || got != s {
				t.Fatalf("%s %dx%d: Read = %+v, %v; want %+v", kind, W, H, got, err, s)
			}
		}
	})
}
