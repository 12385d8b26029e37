// Package cv connects rtcbot to OpenCV (through gocv): cameras and video
// files as rtcbot.Camera producers, and Display, a window showing the frames
// it consumes, RTCBot's CVCamera and CVDisplay.
//
// It needs cgo and OpenCV 4 (on Debian: apt-get install libopencv-dev), which
// is why it is a package of its own: programs that import only rtcbot build
// without either. Machines without a camera or a screen can use
// rtcbot.NewTestPatternCamera and rtcbot.HeadlessDisplay instead.
//
// Frames are image.Image values: OpenCV's BGR pictures become *image.RGBA,
// converted by OpenCV directly into Go memory; FromMat, ToMat and Resize
// convert for programs that process frames with gocv themselves.
package cv

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"gocv.io/x/gocv"
)

// NewCamera opens camera number s.Device (/dev/video<Device> on Linux) with
// OpenCV, asks it for s.Width x s.Height frames at s.FPS (RTCBot's defaults,
// 320x240 at 30 fps, when unset) and returns a camera producing its frames as
// *image.RGBA. The camera may deliver another size if it cannot produce the
// one asked for; the returned camera's Settings report what it delivers.
//
// NewCamera reads the first frame before it returns, so a camera that is
// missing, busy or broken is an error here rather than later.
func NewCamera(s rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	s = s.WithDefaults()
	if runtime.GOOS == "linux" {
		// OpenCV would log warnings and fail; say plainly what is missing.
		dev := fmt.Sprintf("/dev/video%d", s.Device)
		if _, err := os.Stat(dev); err != nil {
			return nil, fmt.Errorf("cv: no camera %d: %w", s.Device, err)
		}
	}
	vc, err := gocv.OpenVideoCapture(s.Device)
	if err != nil {
		return nil, fmt.Errorf("cv: camera %d: %w", s.Device, err)
	}
	if !vc.IsOpened() {
		vc.Close()
		return nil, fmt.Errorf("cv: camera %d: OpenCV cannot open it", s.Device)
	}
	vc.Set(gocv.VideoCaptureFrameWidth, float64(s.Width))
	vc.Set(gocv.VideoCaptureFrameHeight, float64(s.Height))
	vc.Set(gocv.VideoCaptureFPS, float64(s.FPS))
	r := &reader{vc: vc, bgr: gocv.NewMat(), name: fmt.Sprintf("camera %d", s.Device)}
	if fps := vc.Get(gocv.VideoCaptureFPS); fps >= 1 {
		s.FPS = int(fps + 0.5)
	}
	return start(r, s)
}

// OpenFile opens a video file, an image sequence given as a printf pattern
// such as "frames/%03d.png", or a stream URL, and returns a camera that plays it once
// at s.FPS frames per second (the file's own rate when s.FPS is 0), then
// closes without an error. Frames come at the file's size: s.Width and
// s.Height are ignored. It is meant for tests and for replaying recordings.
func OpenFile(path string, s rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	if !strings.Contains(path, "%") && !strings.Contains(path, "://") {
		// A plain file: OpenCV would log its backends' warnings and fail.
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("cv: %w", err)
		}
	}
	vc, err := gocv.OpenVideoCapture(path)
	if err != nil {
		return nil, fmt.Errorf("cv: %s: %w", path, err)
	}
	if !vc.IsOpened() {
		vc.Close()
		return nil, fmt.Errorf("cv: %s: OpenCV cannot open it", path)
	}
	if s.FPS <= 0 {
		if fps := vc.Get(gocv.VideoCaptureFPS); fps >= 1 {
			s.FPS = int(fps + 0.5)
		}
	}
	s = s.WithDefaults()
	r := &reader{vc: vc, bgr: gocv.NewMat(), name: path, file: true,
		interval: time.Second / time.Duration(s.FPS)}
	return start(r, s)
}

// start reads the first frame of r, fills in its size and starts the camera.
func start(r *reader, s rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	first, err := r.read()
	if errors.Is(err, io.EOF) {
		err = errors.New("no frames")
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("cv: %s: %w", r.name, err)
	}
	r.pending = first
	r.next = time.Now()
	s.Width, s.Height = first.Rect.Dx(), first.Rect.Dy()
	return rtcbot.NewCameraFromReader(r, s), nil
}

// reader is the FrameReader of OpenCV cameras and files. Only the camera's
// capture goroutine uses it.
type reader struct {
	vc       *gocv.VideoCapture
	bgr      gocv.Mat // the frame as OpenCV reads it
	name     string   // for errors
	file     bool     // a file: io.EOF at its end, paced at interval
	interval time.Duration
	next     time.Time   // when the next file frame is due
	timer    *time.Timer // paces file frames
	pending  *image.RGBA // the first frame, read by start
}

// read reads and converts one frame.
func (r *reader) read() (*image.RGBA, error) {
	if !r.vc.Read(&r.bgr) || r.bgr.Empty() {
		if r.file {
			return nil, io.EOF
		}
		return nil, errors.New("read failed (camera unplugged or busy?)")
	}
	return FromMat(r.bgr)
}

func (r *reader) ReadFrame(ctx context.Context) (image.Image, error) {
	if f := r.pending; f != nil {
		r.pending = nil
		return f, nil
	}
	if r.file { // a camera paces itself; a file is paced here
		r.next = r.next.Add(r.interval)
		if now := time.Now(); r.next.Before(now.Add(-time.Second)) {
			r.next = now // far behind: skip ahead rather than rush
		}
		if wait := time.Until(r.next); wait > 0 {
			if r.timer == nil {
				r.timer = time.NewTimer(wait)
			} else {
				r.timer.Reset(wait)
			}
			select {
			case <-r.timer.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	f, err := r.read()
	if errors.Is(err, io.EOF) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cv: %s: %w", r.name, err)
	}
	return f, nil
}

func (r *reader) Close() error {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.bgr.Close()
	return r.vc.Close()
}
