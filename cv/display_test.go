package cv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

func TestNewDisplayWithoutScreen(t *testing.T) {
	t.Setenv("QT_QPA_PLATFORM", "")
	for _, display := range []string{"", ":4093"} { // unset, and no server
		t.Setenv("DISPLAY", display)
		for range 2 { // a failed NewDisplay leaves the name free
			d, err := NewDisplay(DisplaySettings{})
			if err == nil {
				d.Close()
				t.Fatalf("NewDisplay with DISPLAY=%q succeeded", display)
			}
			if !strings.Contains(err.Error(), "no display") {
				t.Fatalf("NewDisplay with DISPLAY=%q: %v; want a no display error", display, err)
			}
		}
	}
	t.Setenv("QT_QPA_PLATFORM", "wayland")
	t.Setenv("WAYLAND_DISPLAY", "")
	if d, err := NewDisplay(DisplaySettings{}); err == nil {
		d.Close()
		t.Fatal("NewDisplay on Wayland without $WAYLAND_DISPLAY succeeded")
	}
}

// xvfbChildEnv marks the test binary run by TestDisplayXvfb.
const xvfbChildEnv = "RTCBOT_CV_XVFB_CHILD"

// TestDisplayXvfb starts an X server of its own and runs
// TestDisplayXvfbChild against it in a child process: OpenCV's GUI state
// (Qt's application, its X connection) is per process, and a failure there
// must not take the other tests down.
func TestDisplayXvfb(t *testing.T) {
	if os.Getenv(xvfbChildEnv) != "" {
		t.Skip("in the child")
	}
	for _, tool := range []string{"Xvfb", "xwd", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install xvfb x11-apps imagemagick)", tool)
		}
	}
	// Xvfb picks a free display number and writes it to -displayfd once it
	// accepts connections.
	ready, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{w}
	var xlog bytes.Buffer
	xvfb.Stderr = &xlog
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { xvfb.Wait(); close(exited) }()
	t.Cleanup(func() {
		xvfb.Process.Kill()
		<-exited
		ready.Close()
	})
	number := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(ready).ReadString('\n')
		number <- strings.TrimSpace(line)
	}()
	var display string
	select {
	case n := <-number:
		if n == "" {
			t.Fatalf("Xvfb did not start: %s", xlog.String())
		}
		display = ":" + n
	case <-time.After(waitTime):
		t.Fatal("Xvfb did not start in time")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTime)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDisplayXvfbChild$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), xvfbChildEnv+"=1", "DISPLAY="+display, "QT_QPA_PLATFORM=xcb")
	out, err := child.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDisplayXvfbChild") {
		t.Fatalf("child on display %s: %v\n%s", display, err, out)
	}
}

// TestDisplayXvfbChild shows frames on the display TestDisplayXvfb started
// and checks them on screen.
func TestDisplayXvfbChild(t *testing.T) {
	if os.Getenv(xvfbChildEnv) == "" {
		t.Skip("run by TestDisplayXvfb")
	}
	d, err := NewDisplay(DisplaySettings{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d2, err := NewDisplay(DisplaySettings{Name: "test"}); err == nil {
		d2.Close()
		t.Fatal("a second window with the same name opened")
	}

	// A frame of solid quadrants: find the red one on screen, which gives
	// the window's position, then check the rest.
	q := quadrants(160, 120)
	d.Put(q)
	var origin image.Point
	poll(t, "the quadrants on screen", func(shot *image.RGBA) error {
		red := colorBounds(shot, color.RGBA{255, 0, 0, 255})
		if red.Size() != image.Pt(80, 60) {
			return fmt.Errorf("red area is %v, want 80x60", red)
		}
		origin = red.Min
		return sameArea(shot, origin, q)
	})
	select {
	case <-d.Ready():
	default:
		t.Fatal("display showed a frame but is not ready")
	}

	// A test pattern frame, twice the size: the window grows, the picture is
	// shown pixel for pixel, and the stamp reads back.
	frame := timecode.NewPattern(320, 240).Frame(77, epoch)
	d.Put(frame)
	poll(t, "the test pattern on screen", func(shot *image.RGBA) error {
		area := shot.SubImage(image.Rectangle{Min: origin, Max: origin.Add(image.Pt(320, 240))})
		if s, err := timecode.Read(area); err != nil || s.Seq != 77 {
			return fmt.Errorf("stamp on screen: %+v, %v", s, err)
		}
		return sameArea(shot, origin, rgbaOf(frame))
	})

	// Closing the display closes the window.
	d.Close()
	poll(t, "the window gone", func(shot *image.RGBA) error {
		if c := shot.RGBAAt(origin.X+160, origin.Y+120); c != (color.RGBA{0, 0, 0, 255}) {
			return fmt.Errorf("screen at the window's centre is %v, want the black root window", c)
		}
		return nil
	})
	if err := d.Err(); err != nil {
		t.Fatalf("display error: %v", err)
	}

	// Scale 2: the quadrants and the test pattern twice as large, the
	// stamp readable on screen.
	scaled, err := NewDisplay(DisplaySettings{Name: "scaled", Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer scaled.Close()
	scaled.Put(q)
	poll(t, "the quadrants twice as large on screen", func(shot *image.RGBA) error {
		// Bilinear interpolation blends the pixels along the edges.
		red := colorBounds(shot, color.RGBA{255, 0, 0, 255})
		if red.Dx() < 158 || red.Dx() > 160 || red.Dy() < 118 || red.Dy() > 120 {
			return fmt.Errorf("red area is %v, want about 160x120", red)
		}
		origin = red.Min
		return nil
	})
	scaled.Put(frame)
	poll(t, "the test pattern twice as large on screen", func(shot *image.RGBA) error {
		area := shot.SubImage(image.Rectangle{Min: origin, Max: origin.Add(image.Pt(640, 480))})
		if s, err := timecode.Read(area); err != nil || s.Seq != 77 {
			return fmt.Errorf("stamp on screen: %+v, %v", s, err)
		}
		return nil
	})
	if err := scaled.Err(); err != nil {
		t.Fatalf("scaled display error: %v", err)
	}
}

// poll takes screenshots until check accepts one, failing after waitTime
// with check's last complaint.
func poll(t *testing.T, what string, check func(shot *image.RGBA) error) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		err := check(screenshot(t))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, waitTime, err)
		}
		time.Sleep(50 * time.Millisecond) // the X server draws in its own time
	}
}

// screenshot captures the whole X screen.
func screenshot(t *testing.T) *image.RGBA {
	t.Helper()
	cmd := exec.Command("sh", "-c", "xwd -root -silent | convert xwd:- png:-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("screenshot: %v: %s", err, stderr.String())
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return rgbaOf(img)
}

// colorBounds returns the bounding box of the pixels of colour c.
func colorBounds(img *image.RGBA, c color.RGBA) image.Rectangle {
	var r image.Rectangle
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// sameArea checks that the part of shot at origin matches want, within a
// small tolerance per channel.
func sameArea(shot *image.RGBA, origin image.Point, want *image.RGBA) error {
	const tolerance = 2
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			g, w := shot.RGBAAt(origin.X+x, origin.Y+y), want.RGBAAt(x, y)
			if absDiff(g.R, w.R) > tolerance || absDiff(g.G, w.G) > tolerance || absDiff(g.B, w.B) > tolerance {
				return fmt.Errorf("screen pixel %v is %v, frame pixel (%d,%d) is %v", origin.Add(image.Pt(x, y)), g, x, y, w)
			}
		}
	}
	return nil
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestCheckDisplayPlatforms(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("QT_QPA_PLATFORM", "offscreen")
	if err := checkDisplay(); err != nil {
		t.Fatalf("offscreen Qt needs no X server, got %v", err)
	}
	t.Setenv("QT_QPA_PLATFORM", "xcb")
	if err := checkDisplay(); err == nil || !strings.Contains(err.Error(), "DISPLAY") {
		t.Fatalf("X11 Qt without $DISPLAY: %v, want an error", err)
	}
	t.Setenv("QT_QPA_PLATFORM", "wayland")
	t.Setenv("WAYLAND_DISPLAY", "wayland-0")
	if err := checkDisplay(); err != nil {
		t.Fatalf("Wayland Qt with $WAYLAND_DISPLAY: %v", err)
	}
}
