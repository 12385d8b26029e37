package cv

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/timecode"
	"gocv.io/x/gocv"
)

// waitTime bounds every wait in these tests.
const waitTime = 10 * time.Second

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// captureTime is the capture time stamped into test frame number seq.
func captureTime(seq uint32) time.Time { return epoch.Add(time.Duration(seq) * 40 * time.Millisecond) }

// writeVideo writes n w x h test pattern frames, numbered from 0, to an MJPG
// AVI file at 30 fps and returns its path.
func writeVideo(t *testing.T, n, w, h int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pattern.avi")
	vw, err := gocv.VideoWriterFile(path, "MJPG", 30, w, h, true)
	if err != nil {
		t.Fatal(err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		t.Fatal("OpenCV cannot write MJPG AVI files")
	}
	p := timecode.NewPattern(w, h)
	for i := range n {
		m, err := ToMat(p.Frame(uint32(i), captureTime(uint32(i))))
		if err != nil {
			t.Fatal(err)
		}
		err = vw.Write(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestOpenFile(t *testing.T) {
	const n, w, h = 12, 320, 240
	path := writeVideo(t, n, w, h)

	// Preprocess sees every frame the camera captures, in order.
	seen := make(chan uint32, n)
	cam, err := OpenFile(path, rtcbot.CameraSettings{FPS: 100, Preprocess: func(img image.Image) image.Image {
		if s, err := timecode.Read(img); err == nil {
			seen <- s.Seq
		}
		return img
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if s := cam.Settings(); s.Width != w || s.Height != h || s.FPS != 100 {
		t.Fatalf("Settings = %dx%d at %d fps, want %dx%d at 100", s.Width, s.Height, s.FPS, w, h)
	}
	sub := cam.Subscribe()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	var last int64 = -1
	got := 0
	for {
		frame, err := sub.Get(ctx)
		if errors.Is(err, rtcbot.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := frame.(*image.RGBA); !ok || frame.Bounds() != image.Rect(0, 0, w, h) {
			t.Fatalf("frame is a %T of %v, want a %dx%d *image.RGBA", frame, frame.Bounds(), w, h)
		}
		s, err := timecode.Read(frame)
		if err != nil {
			t.Fatalf("frame after %d: %v", last, err)
		}
		if int64(s.Seq) <= last || s != timecode.StampOf(s.Seq, captureTime(s.Seq)) {
			t.Fatalf("frame after %d has stamp %+v, want a later frame of the file", last, s)
		}
		last = int64(s.Seq)
		got++
	}
	if got == 0 || last != n-1 {
		t.Fatalf("read %d frames ending with %d, want frames up to %d", got, last, n-1)
	}
	if err := cam.Err(); err != nil {
		t.Fatalf("Err = %v at the end of the file, want nil", err)
	}
	close(seen)
	want := uint32(0)
	for seq := range seen {
		if seq != want {
			t.Fatalf("Preprocess saw frame %d, want %d", seq, want)
		}
		want++
	}
	if want != n {
		t.Fatalf("Preprocess saw %d frames with a stamp, want %d", want, n)
	}
}

func TestOpenFilePacing(t *testing.T) {
	const n = 10
	path := writeVideo(t, n, 64, 60)
	start := time.Now()
	cam, err := OpenFile(path, rtcbot.CameraSettings{}) // the file's own rate: 30 fps
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if fps := cam.Settings().FPS; fps != 30 {
		t.Fatalf("FPS = %d, want the file's 30", fps)
	}
	select {
	case <-cam.Done():
	case <-time.After(waitTime):
		t.Fatal("camera did not close at the end of the file")
	}
	// n frames at 30 fps take (n-1)/30 s from the first to the last.
	if d, min := time.Since(start), (n-1)*time.Second/30*8/10; d < min {
		t.Fatalf("played %d frames in %v, want at least %v at 30 fps", n, d, min)
	}
}

func TestOpenFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.avi")
	if cam, err := OpenFile(path, rtcbot.CameraSettings{}); err == nil {
		cam.Close()
		t.Fatal("OpenFile of a missing file succeeded")
	} else if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file", err)
	}
}

func TestNewCameraMissing(t *testing.T) {
	start := time.Now()
	cam, err := NewCamera(rtcbot.CameraSettings{Device: 63})
	if err == nil {
		cam.Close()
		t.Skip("this machine has a camera 63")
	}
	if !strings.Contains(err.Error(), "camera 63") {
		t.Fatalf("error %q does not name the camera", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("NewCamera took %v to fail", d)
	}
}

// quadrants returns a w x h picture whose quadrants are red, green, blue and
// white, left to right and top to bottom.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	colors := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	for i, c := range colors {
		x, y := (i%2)*w/2, (i/2)*h/2
		draw.Draw(img, image.Rect(x, y, x+w/2, y+h/2), image.NewUniform(c), image.Point{}, draw.Src)
	}
	return img
}

// rgbaOf converts img to RGBA with the standard library.
func rgbaOf(img image.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(out, out.Rect, img, img.Bounds().Min, draw.Src)
	return out
}

// wantClose checks that got and want have the same size and pixels, within
// tol per channel.
func wantClose(t *testing.T, what string, got, want *image.RGBA, tol uint8) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("%s: picture is %v, want %v", what, got.Rect, want.Rect)
	}
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			g, w := got.RGBAAt(x, y), want.RGBAAt(x, y)
			if absDiff(g.R, w.R) > tol || absDiff(g.G, w.G) > tol || absDiff(g.B, w.B) > tol || g.A != w.A {
				t.Fatalf("%s: pixel (%d,%d) is %v, want %v", what, x, y, g, w)
			}
		}
	}
}

func TestConversions(t *testing.T) {
	q := quadrants(64, 60)
	parent := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	draw.Draw(parent, image.Rect(10, 20, 74, 80), q, image.Point{}, draw.Src)
	nrgba := image.NewNRGBA(q.Rect)
	draw.Draw(nrgba, nrgba.Rect, q, image.Point{}, draw.Src)
	pattern := timecode.NewPattern(320, 240).Frame(5, epoch)

	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"RGBA", q},
		{"NRGBA", nrgba},
		{"sub-image", parent.SubImage(image.Rect(10, 20, 74, 80))},
		{"YCbCr", pattern},
		{"Gray", image.NewGray(image.Rect(0, 0, 33, 31))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ToMat(tc.img)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			b := tc.img.Bounds()
			if m.Type() != gocv.MatTypeCV8UC3 || m.Cols() != b.Dx() || m.Rows() != b.Dy() {
				t.Fatalf("ToMat made a %dx%d %v Mat, want %dx%d BGR", m.Cols(), m.Rows(), m.Type(), b.Dx(), b.Dy())
			}
			// OpenCV's order is blue, green, red. libyuv converts 4:2:0
			// frames within 2 of image/color.
			tol := uint8(0)
			if _, ok := tc.img.(*image.YCbCr); ok {
				tol = 2
			}
			c := color.RGBAModel.Convert(tc.img.At(b.Min.X, b.Min.Y)).(color.RGBA)
			if v := m.GetVecbAt(0, 0); absDiff(v[0], c.B) > tol || absDiff(v[1], c.G) > tol || absDiff(v[2], c.R) > tol {
				t.Fatalf("Mat pixel (0,0) is BGR %v, want %v", v, c)
			}
			back, err := FromMat(m)
			if err != nil {
				t.Fatal(err)
			}
			wantClose(t, "FromMat(ToMat(img))", back, rgbaOf(tc.img), tol)
		})
	}

	if s, err := timecode.Read(must(FromMat(must(ToMat(pattern))))); err != nil || s.Seq != 5 {
		t.Fatalf("stamp after a round trip = %+v, %v; want frame 5", s, err)
	}

	gray := gocv.NewMatWithSize(4, 6, gocv.MatTypeCV8UC1)
	defer gray.Close()
	gray.SetUCharAt(1, 2, 200)
	g, err := FromMat(gray)
	if err != nil {
		t.Fatal(err)
	}
	if p := g.RGBAAt(2, 1); p != (color.RGBA{200, 200, 200, 255}) || g.RGBAAt(0, 0) != (color.RGBA{0, 0, 0, 255}) {
		t.Fatalf("grey Mat converted to %v and %v", p, g.RGBAAt(0, 0))
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := FromMat(empty); err == nil {
		t.Fatal("FromMat of an empty Mat succeeded")
	}
	if _, err := ToMat(image.NewRGBA(image.Rectangle{})); err == nil {
		t.Fatal("ToMat of an empty image succeeded")
	}
}

// A display's converter enlarges: 4:2:0 frames through libyuv into a Mat it
// reuses, other kinds through OpenCV; the stamp reads back and solid areas
// keep their colour.
func TestConverterScale(t *testing.T) {
	var c converter
	defer c.Close()
	frame := timecode.NewPattern(320, 240).Frame(9, epoch)
	m := must(c.toBGR(frame, 4))
	if m.Type() != gocv.MatTypeCV8UC3 || m.Cols() != 1280 || m.Rows() != 960 {
		t.Fatalf("4x: a %dx%d %v Mat, want 1280x960 BGR", m.Cols(), m.Rows(), m.Type())
	}
	if s, err := timecode.Read(must(FromMat(m))); err != nil || s.Seq != 9 {
		t.Fatalf("stamp 4x larger = %+v, %v; want frame 9", s, err)
	}
	if again := must(c.toBGR(timecode.NewPattern(320, 240).Frame(10, epoch), 4)); again.Ptr() != m.Ptr() {
		t.Error("the Mat was not reused for a frame of the same size")
	}
	one := must(c.toBGR(frame, 1))
	if one.Cols() != 320 || one.Rows() != 240 {
		t.Fatalf("1x: a %dx%d Mat, want 320x240", one.Cols(), one.Rows())
	}

	q := quadrants(40, 30)
	big := must(FromMat(must(c.toBGR(q, 4))))
	if big.Rect != image.Rect(0, 0, 160, 120) {
		t.Fatalf("RGBA 4x: %v, want 160x120", big.Rect)
	}
	for _, p := range []image.Point{{40, 30}, {120, 30}, {40, 90}, {120, 90}} {
		if got, want := big.RGBAAt(p.X, p.Y), q.RGBAAt(p.X/4, p.Y/4); got != want {
			t.Fatalf("RGBA 4x: pixel %v is %v, want %v", p, got, want)
		}
	}
}

// must returns v, panicking on error (for chained conversions in tests).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestResize(t *testing.T) {
	q := quadrants(40, 30)
	big, err := Resize(q, 160, 120)
	if err != nil {
		t.Fatal(err)
	}
	if big.Rect != image.Rect(0, 0, 160, 120) {
		t.Fatalf("Resize made %v, want 160x120", big.Rect)
	}
	for _, p := range []image.Point{{40, 30}, {120, 30}, {40, 90}, {120, 90}} {
		if got, want := big.RGBAAt(p.X, p.Y), q.RGBAAt(p.X/4, p.Y/4); got != want {
			t.Fatalf("resized pixel %v is %v, want %v", p, got, want)
		}
	}
	frame := timecode.NewPattern(320, 240).Frame(9, epoch)
	for _, size := range []image.Point{{1280, 960}, {160, 120}} {
		r, err := Resize(frame, size.X, size.Y)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := timecode.Read(r); err != nil || s.Seq != 9 {
			t.Fatalf("stamp at %v = %+v, %v; want frame 9", size, s, err)
		}
	}
	if _, err := Resize(q, 0, 10); err == nil {
		t.Fatal("Resize to zero width succeeded")
	}
}

func BenchmarkFromMat640x480(b *testing.B) {
	m := must(ToMat(timecode.NewPattern(640, 480).Frame(0, epoch)))
	defer m.Close()
	for b.Loop() {
		must(FromMat(m))
	}
}

func BenchmarkToMat640x480(b *testing.B) {
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"YCbCr", timecode.NewPattern(640, 480).Frame(0, epoch)},
		{"RGBA", rgbaOf(timecode.NewPattern(640, 480).Frame(0, epoch))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var c converter
			defer c.Close()
			for b.Loop() {
				must(c.toBGR(tc.img, 1))
			}
		})
	}
}

// BenchmarkDisplayConvert640x480 is what a Display does with each received
// frame of the moving test pattern before showing it: pixel for pixel, and
// 4 times larger (Scale 4, RTCBot's offloading tutorial).
func BenchmarkDisplayConvert640x480(b *testing.B) {
	p := timecode.NewPattern(640, 480)
	var frames [8]*image.YCbCr
	for i := range frames {
		frames[i] = p.Frame(uint32(i), epoch.Add(time.Duration(i)*33*time.Millisecond))
	}
	for _, scale := range []int{1, 4} {
		b.Run(fmt.Sprintf("scale%d", scale), func(b *testing.B) {
			var c converter
			defer c.Close()
			for i := 0; b.Loop(); i++ {
				must(c.toBGR(frames[i%len(frames)], scale))
			}
		})
	}
}

func BenchmarkResize320x240To4x(b *testing.B) {
	frame := timecode.NewPattern(320, 240).Frame(0, epoch)
	for b.Loop() {
		must(Resize(frame, 1280, 960))
	}
}
