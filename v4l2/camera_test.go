package v4l2

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/driver/camera"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// fakeCamera is a mediadevices camera adapter that offers modes and
// produces n test pattern frames, then fails.
type fakeCamera struct {
	modes    []prop.Media
	n        int
	recorded prop.Video
	closes   atomic.Int32
}

var errUnplugged = errors.New("unplugged")

func (f *fakeCamera) Open() error              { return nil }
func (f *fakeCamera) Close() error             { f.closes.Add(1); return nil }
func (f *fakeCamera) Properties() []prop.Media { return f.modes }

func (f *fakeCamera) VideoRecord(p prop.Media) (video.Reader, error) {
	f.recorded = p.Video
	pattern := timecode.NewPattern(p.Width, p.Height)
	var seq uint32
	return video.ReaderFunc(func() (image.Image, func(), error) {
		if int(seq) == f.n {
			return nil, func() {}, errUnplugged
		}
		seq++
		return pattern.Frame(seq-1, time.Now()), func() {}, nil
	}), nil
}

// register makes f camera number 61 for the test.
func register(t *testing.T, f *fakeCamera) {
	t.Helper()
	label := "fake" + camera.LabelSeparator + "video61"
	m := driver.GetManager()
	m.Register(f, driver.Info{Label: label, DeviceType: driver.Camera})
	t.Cleanup(func() {
		for _, d := range m.Query(driver.FilterVideoRecorder()) {
			if d.Info().Label == label {
				m.Delete(d.ID())
			}
		}
	})
}

func mode(w, h int, fps float32, f frame.Format) prop.Media {
	return prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: fps, FrameFormat: f}}
}

func TestNewCamera(t *testing.T) {
	fake := &fakeCamera{n: 5, modes: []prop.Media{
		mode(640, 480, 30, frame.FormatMJPEG),
		mode(640, 480, 30, frame.FormatYUYV),
		mode(320, 240, 15, frame.FormatYUYV),
		mode(1280, 720, 30, frame.FormatYUYV),
	}}
	register(t, fake)
	cam, err := NewCamera(rtcbot.CameraSettings{Device: 61, Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if fake.recorded != mode(640, 480, 30, frame.FormatYUYV).Video {
		t.Fatalf("recording with %+v, want 640x480 YUYV at 30 fps", fake.recorded)
	}
	if s := cam.Settings(); s.Width != 640 || s.Height != 480 || s.FPS != 30 {
		t.Fatalf("Settings = %+v", s)
	}
	select {
	case <-cam.Done(): // the fake fails after its frames
	case <-time.After(5 * time.Second):
		t.Fatal("camera did not close when its reader failed")
	}
	if err := cam.Err(); !errors.Is(err, errUnplugged) {
		t.Fatalf("Err = %v, want %v", err, errUnplugged)
	}
	if n := fake.closes.Load(); n != 1 {
		t.Fatalf("driver closed %d times, want 1", n)
	}
}

func TestNewCameraFrames(t *testing.T) {
	fake := &fakeCamera{n: 1 << 30, modes: []prop.Media{mode(320, 240, 0, frame.FormatI420)}}
	register(t, fake)
	cam, err := NewCamera(rtcbot.CameraSettings{Device: 61, FPS: 25})
	if err != nil {
		t.Fatal(err)
	}
	sub := cam.Subscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var last int64 = -1
	for range 5 {
		f, err := sub.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := timecode.Read(f)
		if err != nil || int64(s.Seq) <= last || f.Bounds().Size() != image.Pt(320, 240) {
			t.Fatalf("frame %v: stamp %+v, %v after frame %d", f.Bounds(), s, err, last)
		}
		last = int64(s.Seq)
	}
	if cam.Settings().FPS != 25 || fake.recorded.FrameRate != 25 {
		t.Fatalf("a mode without a rate should get the requested 25 fps: %+v", fake.recorded)
	}
	cam.Close()
	if _, err := sub.Get(ctx); err != nil && !errors.Is(err, rtcbot.ErrClosed) {
		t.Fatal(err)
	}
	if n := fake.closes.Load(); n != 1 {
		t.Fatalf("driver closed %d times, want 1", n)
	}
}

func TestChoose(t *testing.T) {
	modes := []prop.Media{
		mode(1280, 720, 30, frame.FormatMJPEG),
		mode(640, 480, 30, frame.FormatMJPEG),
		mode(640, 480, 15, frame.FormatYUYV),
		mode(320, 240, 30, frame.FormatYUYV),
		mode(320, 240, 30, frame.FormatZ16), // depth: not a picture
	}
	for _, tc := range []struct {
		w, h, fps int
		want      prop.Video
	}{
		{320, 240, 30, modes[3].Video},
		{640, 480, 30, modes[1].Video}, // the rate matters more than the format
		{640, 480, 15, modes[2].Video},
		{1920, 1080, 30, modes[0].Video},
	} {
		got, ok := choose(modes, rtcbot.CameraSettings{Width: tc.w, Height: tc.h, FPS: tc.fps})
		if !ok || got != tc.want {
			t.Errorf("choose for %dx%d at %d = %+v, %v; want %+v", tc.w, tc.h, tc.fps, got, ok, tc.want)
		}
	}
	if _, ok := choose(modes[4:], rtcbot.CameraSettings{}.WithDefaults()); ok {
		t.Error("choose picked an undecodable mode")
	}
}

func TestNewCameraMissing(t *testing.T) {
	_, err := NewCamera(rtcbot.CameraSettings{Device: 62})
	if err == nil || !strings.Contains(err.Error(), "no camera 62") {
		t.Fatalf("NewCamera of a missing camera: %v", err)
	}
}
