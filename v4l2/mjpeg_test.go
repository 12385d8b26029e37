package v4l2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/codec/mjpeg"
	"github.com/rtcbot-go/rtcbot/internal/ffmpegtest"
)

// fakeFrames is a streaming device that serves frames in order from one
// buffer, which it overwrites when the buffer is released, as a camera
// fills it again. Once the frames run out, WaitForFrame returns end, or if
// end is nil waits wait and reports no frame. If start is not nil,
// WaitForFrame first waits for it to be closed.
type fakeFrames struct {
	start  chan struct{}
	mu     sync.Mutex
	frames [][]byte
	end    error
	wait   time.Duration
	buf    []byte
	taken  bool // the buffer is out, not released
	closes atomic.Int32
}

const fakeIndex = 3

func (f *fakeFrames) WaitForFrame(uint32) error {
	if f.start != nil {
		<-f.start
	}
	f.mu.Lock()
	n, end, wait := len(f.frames), f.end, f.wait
	f.mu.Unlock()
	switch {
	case n > 0:
		return nil
	case end != nil:
		return end
	}
	time.Sleep(wait)
	return errNoFrame
}

func (f *fakeFrames) GetFrame() ([]byte, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.taken {
		return nil, 0, errors.New("fake: GetFrame before the last frame was released")
	}
	if len(f.frames) == 0 {
		return nil, 0, errNoFrame
	}
	f.buf = append(f.buf[:0], f.frames[0]...)
	f.frames = f.frames[1:]
	f.taken = true
	return f.buf, fakeIndex, nil
}

func (f *fakeFrames) ReleaseFrame(index uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.taken || index != fakeIndex {
		return fmt.Errorf("fake: release of buffer %d, not taken", index)
	}
	f.taken = false
	for i := range f.buf {
		f.buf[i] = 0xa5 // the camera writing the next frame
	}
	return nil
}

func (f *fakeFrames) Close() error {
	f.closes.Add(1)
	return nil
}

// newFakeReader returns an MJPEG reader over f that logs into log.
func newFakeReader(t *testing.T, f *fakeFrames, log *bytes.Buffer) *mjpegReader {
	t.Helper()
	r, err := newMJPEGReader(f, f.Close, 61)
	if err != nil {
		t.Fatal(err)
	}
	r.log = slog.New(slog.NewTextHandler(log, nil))
	t.Cleanup(func() { r.Close() })
	return r
}

// TestMJPEGReader feeds real ffmpeg frames, with a corrupt and an empty
// one among them, through the reader: every good frame arrives, decoded as
// from its own bytes; the bad ones are skipped and logged once; the
// device's failure ends the reading.
func TestMJPEGReader(t *testing.T) {
	good := ffmpegtest.MJPEG(t, 640, 480, "yuvj422p", 5)
	frames := [][]byte{good[0], good[1], good[2][:len(good[2])/2], {}, good[3], good[4]}
	want := [][]byte{good[0], good[1], good[3], good[4]}
	fake := &fakeFrames{frames: frames, end: errUnplugged}
	var log bytes.Buffer
	r := newFakeReader(t, fake, &log)
	dec, err := mjpeg.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for i, w := range want {
		img, err := r.ReadFrame(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		m, ok := img.(*image.YCbCr)
		if !ok || m.Rect != image.Rect(0, 0, 640, 480) || m.SubsampleRatio != image.YCbCrSubsampleRatio422 {
			t.Fatalf("frame %d: a %T %v, want a 640x480 4:2:2 *image.YCbCr", i, img, img.Bounds())
		}
		ref, err := dec.Decode(w)
		if err != nil {
			t.Fatal(err)
		}
		if r := ref.(*image.YCbCr); !bytes.Equal(m.Y, r.Y) || !bytes.Equal(m.Cb, r.Cb) || !bytes.Equal(m.Cr, r.Cr) {
			t.Fatalf("frame %d is not the frame sent: the buffer was not copied before its release?", i)
		}
	}
	if _, err := r.ReadFrame(context.Background()); !errors.Is(err, errUnplugged) {
		t.Fatalf("ReadFrame after the frames: %v, want %v", err, errUnplugged)
	}
	if r.skipped != 2 || r.frames != len(frames) {
		t.Fatalf("%d frames skipped of %d, want 2 of %d", r.skipped, r.frames, len(frames))
	}
	if n := strings.Count(log.String(), "skipping camera frames that do not decode"); n != 1 {
		t.Fatalf("logged the skipped frames %d times, want once:\n%s", n, log.String())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := fake.closes.Load(); n != 1 {
		t.Fatalf("device closed %d times, want 1", n)
	}
	if !strings.Contains(log.String(), "skipped=2 of=6") {
		t.Fatalf("Close did not log the frames skipped:\n%s", log.String())
	}
	if _, err := r.ReadFrame(context.Background()); err != io.EOF {
		t.Fatalf("ReadFrame after Close: %v, want io.EOF", err)
	}
}

// TestMJPEGReaderTimeout: a camera that sends nothing fails the read after
// maxWaits waits.
func TestMJPEGReaderTimeout(t *testing.T) {
	var log bytes.Buffer
	r := newFakeReader(t, &fakeFrames{}, &log)
	if _, err := r.ReadFrame(context.Background()); err == nil || !strings.Contains(err.Error(), "no frame for 5 s") {
		t.Fatalf("ReadFrame of a silent camera: %v", err)
	}
}

// TestMJPEGReaderClose: Close during a ReadFrame waiting for the camera
// waits for it, and the read ends with io.EOF; cancelling ReadFrame's
// context ends it too.
func TestMJPEGReaderClose(t *testing.T) {
	fake := &fakeFrames{wait: 20 * time.Millisecond}
	var log bytes.Buffer
	r := newFakeReader(t, fake, &log)
	r.maxWaits = 1 << 30

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := r.ReadFrame(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadFrame with its context cancelled: %v", err)
	}

	done := make(chan error)
	go func() {
		_, err := r.ReadFrame(context.Background())
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("ReadFrame during Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFrame still reading after Close")
	}
	if n := fake.closes.Load(); n != 1 {
		t.Fatalf("device closed %d times, want 1", n)
	}
}

// TestNewCameraMJPEG: in an MJPEG mode, NewCamera closes mediadevices'
// driver once it has chosen the mode, records nothing through it, and
// publishes the device's frames decoded: 4:2:2 pictures of the mode's size.
func TestNewCameraMJPEG(t *testing.T) {
	fake := &fakeCamera{modes: []prop.Media{
		mode(640, 480, 30, frame.FormatMJPEG),
		mode(320, 240, 30, frame.FormatYUYV),
	}}
	register(t, fake)
	frames := &fakeFrames{frames: ffmpegtest.MJPEG(t, 640, 480, "yuvj422p", 3), end: errUnplugged, start: make(chan struct{})}
	var opened prop.Video
	defer func(open func(int, prop.Video) (rtcbot.FrameReader, error)) { openMJPEG = open }(openMJPEG)
	openMJPEG = func(device int, m prop.Video) (rtcbot.FrameReader, error) {
		if device != 61 {
			t.Errorf("opened camera %d, want 61", device)
		}
		opened = m
		return newMJPEGReader(frames, frames.Close, device)
	}

	cam, err := NewCamera(rtcbot.CameraSettings{Device: 61, Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if opened != mode(640, 480, 30, frame.FormatMJPEG).Video || fake.recorded != (prop.Video{}) {
		t.Fatalf("opened %+v, recorded %+v through mediadevices; want 640x480 MJPEG at 30 fps opened", opened, fake.recorded)
	}
	if n := fake.closes.Load(); n != 1 {
		t.Fatalf("mediadevices' driver closed %d times, want once, after choosing", n)
	}
	if s := cam.Settings(); s.Width != 640 || s.Height != 480 || s.FPS != 30 {
		t.Fatalf("Settings = %+v", s)
	}
	sub := cam.Subscribe()
	defer sub.Close()
	close(frames.start)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := sub.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := f.(*image.YCbCr); !ok || m.Rect != image.Rect(0, 0, 640, 480) || m.SubsampleRatio != image.YCbCrSubsampleRatio422 {
		t.Fatalf("frame: a %T %v, want a 640x480 4:2:2 *image.YCbCr", f, f.Bounds())
	}
	select {
	case <-cam.Done(): // the fake device fails after its frames
	case <-time.After(5 * time.Second):
		t.Fatal("camera did not close when its device failed")
	}
	if err := cam.Err(); !errors.Is(err, errUnplugged) {
		t.Fatalf("Err = %v, want %v", err, errUnplugged)
	}
	if n := frames.closes.Load(); n != 1 {
		t.Fatalf("device closed %d times, want 1", n)
	}
}
