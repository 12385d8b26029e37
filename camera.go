package rtcbot

import (
	"context"
	"errors"
	"image"
	"io"
	"sync"
)

// CameraSettings configures a camera, with RTCBot's CVCamera defaults. The
// zero value asks for 320x240 frames at 30 fps from camera 0.
type CameraSettings struct {
	// Width and Height are the requested frame size in pixels (default
	// 320x240). A device camera may deliver another size if it cannot
	// produce this one; frames are published at the size they come in.
	Width, Height int
	// FPS is the requested frame rate (default 30).
	FPS int
	// Device is the camera number (RTCBot's cameranumber): 0 is the first
	// camera, /dev/video0 on Linux.
	Device int
	// Preprocess, if set, is applied to every frame on the capture
	// goroutine before it is published, like RTCBot's preprocessframe. It
	// may modify the frame in place or return a new one; returning nil
	// drops the frame. It may close the camera (Close then does not wait
	// for it to return).
	Preprocess func(image.Image) image.Image
}

// WithDefaults returns s with every unset (zero or negative) size and rate
// replaced by its default: 320x240 at 30 fps. Camera backends call it.
func (s CameraSettings) WithDefaults() CameraSettings {
	if s.Width <= 0 {
		s.Width = 320
	}
	if s.Height <= 0 {
		s.Height = 240
	}
	if s.FPS <= 0 {
		s.FPS = 30
	}
	return s
}

// A FrameReader is a camera backend: a source of frames that NewCameraFromReader
// turns into a Camera. Package cv has one for OpenCV cameras and video files;
// NewTestPatternCamera uses a synthetic one.
type FrameReader interface {
	// ReadFrame blocks until the next frame is available and returns it.
	// It should return promptly with ctx's error when ctx ends; a reader
	// that cannot be interrupted delays Camera.Close until its current read
	// returns. io.EOF ends the stream normally (the end of a video file);
	// any other error is reported through the camera's OnError. The
	// returned frame is handed to subscribers, so the reader must not
	// modify it afterwards.
	ReadFrame(ctx context.Context) (image.Image, error)
	// Close releases the device. The camera calls it once, after the last
	// ReadFrame has returned.
	Close() error
}

// Camera is a producer of video frames (image.Image), RTCBot's CVCamera: a
// capture goroutine reads frames from a FrameReader, applies the settings'
// Preprocess function and publishes them. Its subscriptions are latest-only
// (Latest), so a slow reader skips frames instead of falling behind.
//
// Frames are shared by every subscriber: treat them as read-only, and copy
// one before changing it.
//
// The camera becomes ready with its first frame. If the reader fails, the
// error is reported through OnError and the camera closes, so every reader
// gets ErrClosed; a reader that ends with io.EOF closes it without an error.
type Camera struct {
	frameSource
	reader   FrameReader
	settings CameraSettings

	cancel    context.CancelFunc
	exited    chan struct{} // closed when the capture goroutine returns
	closeOnce sync.Once
	closeErr  error

	mu            sync.Mutex
	stopping      bool // Close was called: no ReadFrame after this
	preprocessing bool // the capture goroutine is in Preprocess, not reading
}

// NewCameraFromReader returns a camera that captures from r with the given
// settings (defaults filled in) until it is closed. The camera owns r: it
// closes r when it closes.
func NewCameraFromReader(r FrameReader, s CameraSettings) *Camera {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Camera{
		frameSource: newFrameSource(NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })),
		reader:      r,
		settings:    s.WithDefaults(),
		cancel:      cancel,
		exited:      make(chan struct{}),
	}
	go c.capture(ctx)
	return c
}

// newFailedCamera returns a camera that could not start: it has reported err
// through its error event and is closed, with no capture goroutine.
func newFailedCamera(err error, s CameraSettings) *Camera {
	c := &Camera{
		frameSource: newFrameSource(NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })),
		reader:      nopFrameReader{},
		settings:    s.WithDefaults(),
		cancel:      func() {},
		exited:      make(chan struct{}),
		stopping:    true,
	}
	close(c.exited)
	c.prod.SetError(err)
	c.shutdown()
	return c
}

// nopFrameReader is the reader of a camera that never captures.
type nopFrameReader struct{}

func (nopFrameReader) ReadFrame(ctx context.Context) (image.Image, error) { return nil, io.EOF }
func (nopFrameReader) Close() error                                       { return nil }

// Settings returns the camera's settings, defaults filled in.
func (c *Camera) Settings() CameraSettings { return c.settings }

// capture is the capture goroutine: it reads, preprocesses and publishes
// frames until ctx ends or the reader fails.
func (c *Camera) capture(ctx context.Context) {
	defer close(c.exited)
	for {
		c.mu.Lock()
		c.preprocessing = false
		stopping := c.stopping
		c.mu.Unlock()
		if stopping {
			return
		}
		frame, err := c.reader.ReadFrame(ctx)
		if ctx.Err() != nil {
			return // Close is stopping the camera
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.prod.SetError(err)
			}
			c.shutdown()
			return
		}
		if c.settings.Preprocess != nil {
			c.mu.Lock()
			c.preprocessing = true
			c.mu.Unlock()
			frame = c.settings.Preprocess(frame)
		}
		if frame == nil {
			continue
		}
		c.prod.Publish(frame)
		c.prod.SetReady()
	}
}

// shutdown closes the reader and the producer, once. It runs after the
// capture goroutine has stopped reading (or on it, when the reader fails).
func (c *Camera) shutdown() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.reader.Close()
		c.prod.Close()
	})
	return c.closeErr
}

// Close stops the capture goroutine, waiting for it (and so for a read in
// progress), closes the reader and then the producer: every subscription
// ends with ErrClosed and the close event fires. It returns the reader's
// Close error and is idempotent.
//
// Called while Preprocess runs (by Preprocess itself, say), Close does not
// wait for Preprocess to return: no read is in progress then, and the
// capture goroutine ends once Preprocess returns, publishing nothing more.
func (c *Camera) Close() error {
	c.mu.Lock()
	c.stopping = true
	inPreprocess := c.preprocessing
	c.mu.Unlock()
	c.cancel()
	if !inPreprocess {
		<-c.exited
	}
	return c.shutdown()
}
