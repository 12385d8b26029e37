package timecode_test

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

var patternSizes = []image.Point{{640, 480}, {320, 240}, {321, 241}, {33, 31}, {32, 30}, {1280, 720}}

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestPatternCarriesStamp(t *testing.T) {
	for _, size := range patternSizes {
		p := timecode.NewPattern(size.X, size.Y)
		for _, seq := range []uint32{0, 1, 2, 0xAAAAAAAA, 0x55555555, 0xFFFFFFFF} {
			t.Run(fmt.Sprint(size, seq), func(t *testing.T) {
				capture := epoch.Add(time.Duration(seq%1000) * 33 * time.Millisecond)
				f := p.Frame(seq, capture)
				if f.Rect != image.Rect(0, 0, size.X, size.Y) || f.SubsampleRatio != image.YCbCrSubsampleRatio420 {
					t.Fatalf("Frame is %v %v, want %v 4:2:0", f.Rect, f.SubsampleRatio, size)
				}
				if len(f.Cb) != ((size.X+1)/2)*((size.Y+1)/2) {
					t.Fatalf("chroma plane has %d samples, want %d", len(f.Cb), ((size.X+1)/2)*((size.Y+1)/2))
				}
				got, err := timecode.Read(f)
				if want := timecode.StampOf(seq, capture); err != nil || got != want {
					t.Fatalf("Read(Frame) = %+v, %v; want %+v", got, err, want)
				}
			})
		}
	}
}

// TestPatternMoves checks that consecutive frames differ substantially
// outside the stamp area, in luma and in chroma.
func TestPatternMoves(t *testing.T) {
	for _, size := range patternSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p := timecode.NewPattern(size.X, size.Y)
			top := 3 * (size.Y / 30)
			seqs := []uint32{0, 1, 2, 3, 10, 11, 1000, 1001, 0xFFFFFFFE, 0xFFFFFFFF}
			for i := 0; i < len(seqs); i += 2 {
				prev := p.Frame(seqs[i], epoch)
				cur := p.Frame(seqs[i+1], epoch) // same time: only motion may differ
				dy, n := 0, 0
				for y := top; y < size.Y; y++ {
					a := cur.Y[y*cur.YStride : y*cur.YStride+size.X]
					b := prev.Y[y*prev.YStride : y*prev.YStride+size.X]
					for x := range a {
						if a[x] != b[x] {
							dy++
						}
					}
					n += size.X
				}
				dc := 0
				for y := (top + 1) / 2; y < (size.Y+1)/2; y++ {
					a, b := cur.Cb[y*cur.CStride:(y+1)*cur.CStride], prev.Cb[y*prev.CStride:(y+1)*prev.CStride]
					for x := range a {
						if a[x] != b[x] {
							dc++
						}
					}
				}
				if dy < n/10 || dc == 0 {
					t.Fatalf("frame %d vs %d: %d of %d luma and %d chroma samples below the stamp changed; want movement",
						seqs[i+1], seqs[i], dy, n, dc)
				}
			}
		})
	}
}

// TestPatternDeterministic checks that FrameInto overwrites every sample of
// a reused frame: drawing into garbage gives exactly what Frame gives.
func TestPatternDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range patternSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p := timecode.NewPattern(size.X, size.Y)
			dst := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), image.YCbCrSubsampleRatio420)
			for _, seq := range []uint32{0, 17, 1000, 0xFFFFFFFF} {
				for _, plane := range [][]byte{dst.Y, dst.Cb, dst.Cr} {
					for i := range plane {
						plane[i] = byte(rng.UintN(256))
					}
				}
				if err := p.FrameInto(dst, seq, epoch); err != nil {
					t.Fatal(err)
				}
				want := timecode.NewPattern(size.X, size.Y).Frame(seq, epoch)
				if !bytes.Equal(dst.Y, want.Y) || !bytes.Equal(dst.Cb, want.Cb) || !bytes.Equal(dst.Cr, want.Cr) {
					t.Fatalf("seq %d: FrameInto into a dirty frame differs from Frame", seq)
				}
			}
		})
	}
}

// TestPatternSubImage draws into a sub-image at even coordinates and checks
// that the rest of the parent is left alone.
func TestPatternSubImage(t *testing.T) {
	parent := image.NewYCbCr(image.Rect(0, 0, 400, 300), image.YCbCrSubsampleRatio420)
	for i := range parent.Y {
		parent.Y[i] = 1
	}
	r := image.Rect(40, 20, 40+321, 20+241)
	sub := parent.SubImage(r).(*image.YCbCr)
	p := timecode.NewPattern(321, 241)
	if err := p.FrameInto(sub, 9, epoch); err != nil {
		t.Fatal(err)
	}
	want := p.Frame(9, epoch)
	for y := range 241 {
		for x := range 321 {
			if got, w := sub.YCbCrAt(r.Min.X+x, r.Min.Y+y), want.YCbCrAt(x, y); got != w {
				t.Fatalf("sub-image pixel (%d,%d) = %v, want %v", x, y, got, w)
			}
		}
	}
	for y := range 300 {
		for x := range 400 {
			if !(image.Point{x, y}).In(r) && parent.Y[parent.YOffset(x, y)] != 1 {
				t.Fatalf("parent pixel (%d,%d) outside the sub-image was changed", x, y)
			}
		}
	}
}

func TestFrameIntoErrors(t *testing.T) {
	p := timecode.NewPattern(320, 240)
	short := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	short.Y = short.Y[:len(short.Y)-1]
	cases := []struct {
		name string
		dst  *image.YCbCr
	}{
		{"nil", nil},
		{"too narrow", image.NewYCbCr(image.Rect(0, 0, 318, 240), image.YCbCrSubsampleRatio420)},
		{"too wide", image.NewYCbCr(image.Rect(0, 0, 321, 240), image.YCbCrSubsampleRatio420)},
		{"too short", image.NewYCbCr(image.Rect(0, 0, 320, 239), image.YCbCrSubsampleRatio420)},
		{"transposed", image.NewYCbCr(image.Rect(0, 0, 240, 320), image.YCbCrSubsampleRatio420)},
		{"4:4:4", image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio444)},
		{"4:2:2", image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio422)},
		{"odd origin", image.NewYCbCr(image.Rect(1, 0, 321, 240), image.YCbCrSubsampleRatio420)},
		{"short plane", short},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before []byte
			if c.dst != nil {
				before = append(before, c.dst.Y...)
			}
			if err := p.FrameInto(c.dst, 1, epoch); err == nil {
				t.Fatal("FrameInto succeeded, want an error")
			}
			if c.dst != nil && !bytes.Equal(before, c.dst.Y) {
				t.Fatal("FrameInto modified dst although it returned an error")
			}
		})
	}
}

func TestNewPatternTooSmall(t *testing.T) {
	for _, size := range []image.Point{{31, 30}, {32, 29}, {0, 0}, {-1, 100}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewPattern(%d, %d) did not panic", size.X, size.Y)
				}
			}()
			timecode.NewPattern(size.X, size.Y)
		}()
	}
}

func TestFrameIntoNoAllocs(t *testing.T) {
	p := timecode.NewPattern(640, 480)
	dst := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	seq := uint32(0)
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.FrameInto(dst, seq, epoch); err != nil {
			t.Fatal(err)
		}
		seq++
	})
	if allocs != 0 {
		t.Fatalf("FrameInto allocates %v times per call, want 0", allocs)
	}
}

// TestPatternConcurrent uses one Pattern from several goroutines (run with
// -race to check that Pattern is read-only after construction).
func TestPatternConcurrent(t *testing.T) {
	p := timecode.NewPattern(320, 240)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			dst := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
			for i := range 20 {
				seq := uint32(g*100 + i)
				if err := p.FrameInto(dst, seq, epoch); err != nil {
					errs <- err
					return
				}
				if s, err := timecode.Read(dst); err != nil || s.Seq != seq {
					errs <- fmt.Errorf("goroutine %d frame %d: Read = %+v, %v", g, seq, s, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkFrameInto640x480(b *testing.B) {
	p := timecode.NewPattern(640, 480)
	dst := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	b.ReportAllocs()
	seq := uint32(0)
	for b.Loop() {
		if err := p.FrameInto(dst, seq, epoch); err != nil {
			b.Fatal(err)
		}
		seq++
	}
}

func BenchmarkRead640x480(b *testing.B) {
	f := timecode.NewPattern(640, 480).Frame(42, epoch)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := timecode.Read(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadRGBA640x480(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	if err := timecode.Write(img, timecode.StampOf(42, epoch)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := timecode.Read(img); err != nil {
			b.Fatal(err)
		}
	}
}
