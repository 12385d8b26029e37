package rtcbot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

var testEpoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// stampedFrames returns n test pattern frames of size w x h, numbered 0..n-1.
func stampedFrames(n, w, h int) []image.Image {
	p := timecode.NewPattern(w, h)
	frames := make([]image.Image, n)
	for i := range frames {
		frames[i] = p.Frame(uint32(i), testEpoch.Add(time.Duration(i)*time.Millisecond))
	}
	return frames
}

// decodePNG reads the PNG file at path.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// wantStamp checks that img is w x h and carries frame number seq.
func wantStamp(t *testing.T, img image.Image, seq uint32, w, h int) {
	t.Helper()
	if got := img.Bounds().Size(); got != image.Pt(w, h) {
		t.Fatalf("picture is %v, want %dx%d", got, w, h)
	}
	s, err := timecode.Read(img)
	if err != nil || s.Seq != seq {
		t.Fatalf("picture has stamp %+v, %v; want frame %d", s, err, seq)
	}
}

func TestHeadlessDisplayCountsFrames(t *testing.T) {
	d := NewHeadlessDisplay(HeadlessDisplaySettings{})
	defer d.Close()
	if d.LastFrame() != nil || d.Frames() != 0 {
		t.Fatal("new display has frames")
	}
	const n = 50
	frames := stampedFrames(n, 64, 60)

	// Through a subscription: every frame a queue holds is shown.
	q := NewQueue[image.Image](0)
	for _, f := range frames[:n/2] {
		q.Put(f)
	}
	q.Close()
	d.PutSubscription(q)
	eventually(t, "display counted the queued frames", func() bool { return d.Frames() >= n/2 })
	closedWithin(t, d.Ready(), "ready after the first frame")

	// Directly: Put is latest-only, so wait for each frame to be shown.
	for i, f := range frames[n/2:] {
		d.Put(f)
		want := uint64(n/2 + i + 1)
		eventually(t, fmt.Sprintf("frame %d shown", want), func() bool { return d.Frames() >= want })
	}
	if got := d.Frames(); got != n {
		t.Fatalf("Frames = %d, want %d", got, n)
	}
	if d.LastFrame() != frames[n-1] {
		t.Fatal("LastFrame is not the last frame put")
	}
}

func TestHeadlessDisplayFromCamera(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{FPS: 100})
	d := NewHeadlessDisplay(HeadlessDisplaySettings{})
	defer d.Close()
	d.PutSubscription(cam)
	eventually(t, "10 frames shown", func() bool { return d.Frames() >= 10 })
	cam.Close()
	// The display's subscription ends with the camera; no frame comes after.
	eventually(t, "input stopped", func() bool { return d.Subscription() == nil })
	frames := d.Frames()
	s, err := timecode.Read(d.LastFrame())
	if err != nil {
		t.Fatal(err)
	}
	// The camera's frames are numbered from 0, and a latest-only reader may
	// skip some: the last one shown is numbered at least frames-1.
	if uint64(s.Seq)+1 < frames {
		t.Fatalf("last frame shown is number %d after %d frames", s.Seq, frames)
	}
}

func TestHeadlessDisplaySnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frame.png")
	d := NewHeadlessDisplay(HeadlessDisplaySettings{})
	defer d.Close()
	if err := d.Snapshot(path); !errors.Is(err, ErrNoFrame) {
		t.Fatalf("Snapshot before any frame = %v, want ErrNoFrame", err)
	}
	frames := stampedFrames(2, 320, 240)
	for i, f := range frames {
		d.Put(f)
		eventually(t, "frame shown", func() bool { return d.Frames() == uint64(i+1) })
	}
	if err := d.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	wantStamp(t, decodePNG(t, path), 1, 320, 240)

	rgba := image.NewRGBA(image.Rect(0, 0, 64, 60))
	if err := timecode.Write(rgba, timecode.StampOf(7, testEpoch)); err != nil {
		t.Fatal(err)
	}
	d.Put(rgba)
	eventually(t, "RGBA frame shown", func() bool { return d.Frames() == 3 })
	if err := d.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	wantStamp(t, decodePNG(t, path), 7, 64, 60)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("snapshot directory holds %d files, want only the snapshot", len(entries))
	}
	if err := d.Snapshot(filepath.Join(dir, "missing", "frame.png")); err == nil {
		t.Fatal("Snapshot into a missing directory succeeded")
	}
}

// With Scale, what is looked at is enlarged: the statistics' size,
// LastFrame (a new picture each time) and snapshots, while the frame put in
// is kept untouched.
func TestHeadlessDisplayScale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frame.png")
	d := NewHeadlessDisplay(HeadlessDisplaySettings{Scale: 4})
	defer d.Close()
	frame := stampedFrames(4, 160, 120)[3].(*image.YCbCr)
	before := string(frame.Y) + string(frame.Cb) + string(frame.Cr)
	d.Put(frame)
	eventually(t, "frame shown", func() bool { return d.Frames() == 1 })
	if st := d.Stats(); st.Size != image.Pt(640, 480) {
		t.Fatalf("Stats().Size = %v, want 640x480", st.Size)
	}
	last := d.LastFrame()
	wantStamp(t, last, 3, 640, 480)
	if again := d.LastFrame(); again == last {
		t.Error("LastFrame returned the same enlarged picture twice: the caller does not own it")
	}
	if err := d.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	wantStamp(t, decodePNG(t, path), 3, 640, 480)
	if string(frame.Y)+string(frame.Cb)+string(frame.Cr) != before {
		t.Fatal("the display wrote into the frame put in")
	}

	rgba := image.NewRGBA(image.Rect(0, 0, 64, 60))
	if err := timecode.Write(rgba, timecode.StampOf(7, testEpoch)); err != nil {
		t.Fatal(err)
	}
	d.Put(rgba)
	eventually(t, "RGBA frame shown", func() bool { return d.Frames() == 2 })
	if err := d.Snapshot(path); err != nil {
		t.Fatal(err)
	}
	wantStamp(t, decodePNG(t, path), 7, 256, 240)

	// Snapshots and LastFrame may be called while frames arrive.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 5 {
				if err := d.Snapshot(path); err != nil {
					t.Error(err)
				}
				d.LastFrame()
			}
		})
	}
	for _, f := range stampedFrames(10, 160, 120) {
		d.Put(f)
	}
	wg.Wait()
}

func TestHeadlessDisplayPeriodicSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.png")
	d := NewHeadlessDisplay(HeadlessDisplaySettings{SnapshotPath: path, SnapshotEvery: 10 * time.Millisecond})
	frames := stampedFrames(2, 320, 240)
	d.Put(frames[0])
	eventually(t, "snapshot written", func() bool { _, err := os.Stat(path); return err == nil })
	wantStamp(t, decodePNG(t, path), 0, 320, 240)
	d.Put(frames[1])
	eventually(t, "second frame shown", func() bool { return d.Frames() == 2 })
	// Close writes the last frame, even if no period has passed since.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wantStamp(t, decodePNG(t, path), 1, 320, 240)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestHeadlessDisplayReportsRate(t *testing.T) {
	reports := make(chan DisplayStats, 100)
	var log lockedBuffer
	d := NewHeadlessDisplay(HeadlessDisplaySettings{
		Interval: 200 * time.Millisecond,
		Report: func(s DisplayStats) {
			select {
			case reports <- s:
			default:
			}
		},
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
	})
	defer d.Close()
	cam := NewTestPatternCamera(CameraSettings{FPS: 50})
	d.PutSubscription(cam)

	// Wait for a whole interval of frames: the first report may cover the
	// interval in which the camera started.
	var st DisplayStats
	for seen := 0; seen < 2; {
		st = recv(t, reports)
		if st.FPS > 0 {
			seen++
		}
	}
	if st.FPS < 20 || st.FPS > 80 {
		t.Fatalf("reported %.1f fps from a 50 fps camera", st.FPS)
	}
	if st.Size != image.Pt(320, 240) || st.Frames == 0 {
		t.Fatalf("report %+v, want frames of 320x240", st)
	}
	if !strings.Contains(log.String(), "fps=") || !strings.Contains(log.String(), "width=320") {
		t.Fatalf("log %q has no statistics line", log.String())
	}

	// Once frames stop, an interval with none reports 0 fps.
	cam.Close()
	for st.FPS != 0 {
		st = recv(t, reports)
	}
	if d.FPS() != 0 {
		t.Fatalf("FPS = %.1f after the camera closed, want 0", d.FPS())
	}
	if st.Frames != d.Frames() {
		t.Fatalf("report says %d frames, Frames says %d", st.Frames, d.Frames())
	}
}

func TestCheckDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	if err := CheckDisplay(); err == nil || !strings.Contains(err.Error(), "DISPLAY") {
		t.Fatalf("CheckDisplay with no $DISPLAY = %v, want an error naming it", err)
	}
	t.Setenv("DISPLAY", "nonsense")
	if err := CheckDisplay(); err == nil {
		t.Fatal("CheckDisplay with a malformed $DISPLAY succeeded")
	}

	// A local display: the server listens on a Unix socket (here the Linux
	// abstract one, which needs no file).
	n := 40000 + rand.IntN(10000)
	l, err := net.Listen("unix", fmt.Sprintf("@/tmp/.X11-unix/X%d", n))
	if err != nil {
		t.Skipf("no abstract Unix sockets: %v", err)
	}
	t.Setenv("DISPLAY", fmt.Sprintf(":%d.0", n))
	if err := CheckDisplay(); err != nil {
		t.Fatalf("CheckDisplay with a listening server: %v", err)
	}
	l.Close()
	if err := CheckDisplay(); err == nil {
		t.Fatal("CheckDisplay succeeded with no server listening")
	}

	// A remote display: TCP port 6000 + display number.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	port := tl.Addr().(*net.TCPAddr).Port
	if port < 6000 {
		t.Skipf("port %d is below the X range", port)
	}
	t.Setenv("DISPLAY", fmt.Sprintf("127.0.0.1:%d", port-6000))
	if err := CheckDisplay(); err != nil {
		t.Fatalf("CheckDisplay with a listening TCP server: %v", err)
	}
}

func TestXAddrs(t *testing.T) {
	for _, tc := range []struct {
		display, network string
		addrs            []string
	}{
		{":0", "unix", []string{"/tmp/.X11-unix/X0", "@/tmp/.X11-unix/X0"}},
		{"unix:1.0", "unix", []string{"/tmp/.X11-unix/X1", "@/tmp/.X11-unix/X1"}},
		{"localhost:10.0", "tcp", []string{"localhost:6010"}},
		{"[::1]:2", "tcp", []string{"[::1]:6002"}},
		{"/private/tmp/com.apple.launchd.x/org.xquartz:0", "unix", []string{"/private/tmp/com.apple.launchd.x/org.xquartz:0"}},
	} {
		network, addrs, err := xAddrs(tc.display)
		if err != nil || network != tc.network || fmt.Sprint(addrs) != fmt.Sprint(tc.addrs) {
			t.Errorf("xAddrs(%q) = %s %v, %v; want %s %v", tc.display, network, addrs, err, tc.network, tc.addrs)
		}
	}
	for _, bad := range []string{"", "host", ":x", ":-1"} {
		if _, _, err := xAddrs(bad); err == nil {
			t.Errorf("xAddrs(%q) succeeded", bad)
		}
	}
}
