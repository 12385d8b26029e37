package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// readStamps reads n frames from sub and returns their stamps, checking that
// each frame is w x h and carries a valid stamp.
func readStamps(t *testing.T, sub Getter[image.Image], n, w, h int) []timecode.Stamp {
	t.Helper()
	stamps := make([]timecode.Stamp, n)
	for i := range stamps {
		frame := mustGet(t, sub)
		if got := frame.Bounds().Size(); got != image.Pt(w, h) {
			t.Fatalf("frame %d is %v, want %dx%d", i, got, w, h)
		}
		s, err := timecode.Read(frame)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		stamps[i] = s
	}
	return stamps
}

func TestTestPatternCamera(t *testing.T) {
	for _, tc := range []struct {
		settings CameraSettings
		w, h     int
	}{
		{CameraSettings{}, 320, 240},
		{CameraSettings{Width: 640, Height: 480, FPS: 30}, 640, 480},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			cam := NewTestPatternCamera(tc.settings)
			defer cam.Close()
			if s := cam.Settings(); s.Width != tc.w || s.Height != tc.h || s.FPS != 30 {
				t.Fatalf("Settings = %+v, want %dx%d at 30 fps", s, tc.w, tc.h)
			}
			sub := cam.Subscribe()
			const n = 16
			stamps := readStamps(t, sub, n, tc.w, tc.h)
			closedWithin(t, cam.Ready(), "ready")
			for i := 1; i < n; i++ {
				if stamps[i].Seq <= stamps[i-1].Seq {
					t.Fatalf("sequence numbers %d then %d; want increasing", stamps[i-1].Seq, stamps[i].Seq)
				}
				if d := int32(stamps[i].CaptureMillis - stamps[i-1].CaptureMillis); d < 0 {
					t.Fatalf("capture time went back %d ms between frames %d and %d", -d, stamps[i-1].Seq, stamps[i].Seq)
				}
			}
			// The stamps record when each frame was made: at 30 fps frames
			// are 33 ms apart. Allow for scheduling on a loaded machine.
			first, last := stamps[0], stamps[n-1]
			perFrame := float64(last.CaptureMillis-first.CaptureMillis) / float64(last.Seq-first.Seq)
			if perFrame < 25 || perFrame > 50 {
				t.Fatalf("frames %d to %d are %.1f ms apart on average, want about 33 ms (30 fps)",
					first.Seq, last.Seq, perFrame)
			}
			// The capture time is the time of the frame, not of the camera's start.
			if lat := last.Latency(time.Now()); lat < 0 || lat > time.Second {
				t.Fatalf("last frame captured %v ago, want recent", lat)
			}
		})
	}
}

func TestTestPatternCameraPreprocess(t *testing.T) {
	// Preprocess drops odd frames and turns the others grey.
	var calls atomic.Int64
	cam := NewTestPatternCamera(CameraSettings{FPS: 100, Preprocess: func(img image.Image) image.Image {
		calls.Add(1)
		s, err := timecode.Read(img)
		if err != nil || s.Seq%2 == 1 {
			return nil
		}
		gray := image.NewGray(img.Bounds())
		draw.Draw(gray, gray.Rect, img, image.Point{}, draw.Src)
		return gray
	}})
	defer cam.Close()
	sub := cam.Subscribe()
	for range 5 {
		frame := mustGet(t, sub)
		if _, ok := frame.(*image.Gray); !ok {
			t.Fatalf("got a %T, want the *image.Gray Preprocess returns", frame)
		}
		s, err := timecode.Read(frame)
		if err != nil {
			t.Fatal(err)
		}
		if s.Seq%2 != 0 {
			t.Fatalf("got frame %d, which Preprocess dropped", s.Seq)
		}
	}
	if calls.Load() < 9 {
		t.Fatalf("Preprocess ran %d times for 5 even frames, want at least 9", calls.Load())
	}
}

func TestCameraClose(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{FPS: 100})
	sub := cam.Subscribe()
	mustGet(t, sub)
	closed := make(chan struct{})
	cam.OnClose(func() { close(closed) })
	if err := cam.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closedWithin(t, closed, "OnClose")
	// The subscription may still hold the frame published before Close.
	if _, err := sub.Get(testCtx(t)); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v, want a held frame or ErrClosed", err)
	}
	wantClosed(t, sub)
	wantClosed[image.Image](t, cam)
	wantClosed(t, cam.Subscribe())
	if err := cam.Err(); err != nil {
		t.Fatalf("Err after Close = %v, want nil", err)
	}
	if err := cam.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// fakeReader is a FrameReader that produces frames (numbered through their
// size) until it has produced n, then returns err; with err nil it blocks
// until its context ends. It checks that Close comes once, after the last
// read.
type fakeReader struct {
	t       *testing.T
	n       int
	err     error
	read    int
	reading atomic.Bool
	closes  atomic.Int32
}

func (r *fakeReader) ReadFrame(ctx context.Context) (image.Image, error) {
	r.reading.Store(true)
	defer r.reading.Store(false)
	if r.read < r.n {
		r.read++
		return image.NewGray(image.Rect(0, 0, r.read, 1)), nil
	}
	if r.err != nil {
		return nil, r.err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (r *fakeReader) Close() error {
	if r.reading.Load() {
		r.t.Error("reader closed during ReadFrame")
	}
	r.closes.Add(1)
	return nil
}

func TestCameraReaderFails(t *testing.T) {
	boom := errors.New("camera unplugged")
	r := &fakeReader{t: t, n: 3, err: boom}
	cam := NewCameraFromReader(r, CameraSettings{})
	errs := make(chan error, 1)
	cam.OnError(func(err error) { errs <- err })
	closedWithin(t, cam.Done(), "camera closed after the read error")
	if err := recv(t, errs); !errors.Is(err, boom) {
		t.Fatalf("OnError got %v, want %v", err, boom)
	}
	if err := cam.Err(); !errors.Is(err, boom) {
		t.Fatalf("Err = %v, want %v", err, boom)
	}
	if !cam.IsReady() {
		t.Fatal("camera that produced frames is not ready")
	}
	wantClosed(t, cam.Subscribe())
	wantClosed[image.Image](t, cam)
	if err := cam.Close(); err != nil {
		t.Fatalf("Close after failure: %v", err)
	}
	if n := r.closes.Load(); n != 1 {
		t.Fatalf("reader closed %d times, want 1", n)
	}
}

func TestCameraReaderFailsWithSubscriber(t *testing.T) {
	boom := errors.New("camera unplugged")
	gate := make(chan struct{})
	r := &gatedReader{fakeReader: fakeReader{t: t, n: 2, err: boom}, gate: gate}
	cam := NewCameraFromReader(r, CameraSettings{})
	sub := cam.SubscribeWith(NewQueue[image.Image](0))
	close(gate)
	for i := 1; i <= 2; i++ {
		if w := mustGet(t, sub).Bounds().Dx(); w != i {
			t.Fatalf("frame %d has width %d, want %d", i, w, i)
		}
	}
	wantClosed(t, sub)
	if err := cam.Err(); !errors.Is(err, boom) {
		t.Fatalf("Err = %v, want %v", err, boom)
	}
	cam.Close()
}

// gatedReader holds its first read until gate is closed, so a test can
// subscribe before any frame is produced.
type gatedReader struct {
	fakeReader
	gate chan struct{}
}

func (r *gatedReader) ReadFrame(ctx context.Context) (image.Image, error) {
	<-r.gate
	return r.fakeReader.ReadFrame(ctx)
}

func TestCameraReaderEOF(t *testing.T) {
	r := &fakeReader{t: t, n: 1, err: fmt.Errorf("end of file: %w", io.EOF)}
	cam := NewCameraFromReader(r, CameraSettings{})
	closedWithin(t, cam.Done(), "camera closed at the end of its input")
	if err := cam.Err(); err != nil {
		t.Fatalf("Err = %v, want nil: the end of a file is not an error", err)
	}
	cam.Close()
	if n := r.closes.Load(); n != 1 {
		t.Fatalf("reader closed %d times, want 1", n)
	}
}

func TestCameraCloseInterruptsRead(t *testing.T) {
	r := &fakeReader{t: t, n: 1} // one frame, then blocks until Close
	cam := NewCameraFromReader(r, CameraSettings{})
	closedWithin(t, cam.Ready(), "ready")
	done := make(chan error, 1)
	go func() { done <- cam.Close() }()
	if err := recv(t, done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := r.closes.Load(); n != 1 {
		t.Fatalf("reader closed %d times, want 1", n)
	}
	if err := cam.Err(); err != nil {
		t.Fatalf("Err = %v, want nil after Close", err)
	}
}

func TestCameraSettingsDefaults(t *testing.T) {
	got := CameraSettings{Device: 2, Width: -1}.WithDefaults()
	want := CameraSettings{Width: 320, Height: 240, FPS: 30, Device: 2}
	if got.Width != want.Width || got.Height != want.Height || got.FPS != want.FPS || got.Device != want.Device {
		t.Fatalf("WithDefaults = %+v, want %+v", got, want)
	}
	kept := CameraSettings{Width: 640, Height: 480, FPS: 15}.WithDefaults()
	if kept.Width != 640 || kept.Height != 480 || kept.FPS != 15 {
		t.Fatalf("WithDefaults changed set values: %+v", kept)
	}
}

// A Preprocess function may close its own camera: Close returns without
// waiting for Preprocess (which would deadlock), the reader is closed once
// and not during a read, and nothing is published after Close.
func TestCameraPreprocessMayClose(t *testing.T) {
	r := &fakeReader{t: t, n: 100}
	var cam *Camera
	closed := make(chan error, 1)
	var calls atomic.Int32
	cam = NewCameraFromReader(r, CameraSettings{Preprocess: func(img image.Image) image.Image {
		if calls.Add(1) == 3 {
			closed <- cam.Close()
		}
		return img
	}})
	sub := cam.Subscribe()
	defer sub.Close()
	if err := recv(t, closed); err != nil {
		t.Fatalf("Close from Preprocess: %v", err)
	}
	closedWithin(t, cam.Done(), "camera Done")
	// The frames preprocessed before Close may be held; the third, whose
	// Preprocess closed the camera, is not published.
	for {
		frame, err := sub.Get(testCtx(t))
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if w := frame.Bounds().Dx(); w >= 3 {
			t.Fatalf("frame %d published after Close", w)
		}
	}
	if n := r.closes.Load(); n != 1 {
		t.Fatalf("reader closed %d times, want 1", n)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("Preprocess ran %d times, want 3: reading went on after Close", n)
	}
	if err := cam.Close(); err != nil { // again, from outside: a no-op
		t.Fatalf("second Close: %v", err)
	}
}

// A test pattern camera asked for a size too small to carry a stamp does not
// panic: it has reported ErrFrameTooSmall and closed by the time it is
// returned, and every verb behaves as on a closed camera.
func TestTestPatternCameraTooSmall(t *testing.T) {
	for _, s := range []CameraSettings{
		{Width: timecode.MinWidth - 1, Height: 240},
		{Width: 320, Height: timecode.MinHeight - 1},
		{Width: 1, Height: 1, FPS: 5},
	} {
		t.Run(fmt.Sprintf("%dx%d", s.Width, s.Height), func(t *testing.T) {
			cam := NewTestPatternCamera(s)
			if err := cam.Err(); !errors.Is(err, ErrFrameTooSmall) {
				t.Fatalf("Err() = %v, want ErrFrameTooSmall", err)
			}
			closedWithin(t, cam.Done(), "closed")
			var onErr error
			cam.OnError(func(err error) { onErr = err })
			if !errors.Is(onErr, ErrFrameTooSmall) {
				t.Fatalf("OnError got %v, want ErrFrameTooSmall at once", onErr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, err := cam.Subscribe().Get(ctx); !errors.Is(err, ErrClosed) {
				t.Fatalf("Get = %v, want ErrClosed", err)
			}
			if err := cam.Wait(ctx); !errors.Is(err, ErrFrameTooSmall) {
				t.Fatalf("Wait = %v, want ErrFrameTooSmall", err)
			}
			if err := cam.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			if got := cam.Settings(); got.Width != s.Width || got.Height != s.Height || got.FPS == 0 {
				t.Fatalf("Settings = %+v, want the requested size, defaults filled in", got)
			}
		})
	}
	// The minimum itself works.
	cam := NewTestPatternCamera(CameraSettings{Width: timecode.MinWidth, Height: timecode.MinHeight})
	defer cam.Close()
	readStamps(t, cam.Subscribe(), 2, timecode.MinWidth, timecode.MinHeight)
	if err := cam.Err(); err != nil {
		t.Fatalf("Err() = %v at the minimum size", err)
	}
}
