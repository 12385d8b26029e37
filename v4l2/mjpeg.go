package v4l2

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/rtcbot-go/rtcbot/codec/mjpeg"
)

// rawFrames is what the MJPEG reader uses of a streaming V4L2 device: its
// memory-mapped frame buffers, taken one at a time. The device is
// webcam.go's; tests fake it.
type rawFrames interface {
	// WaitForFrame waits at most timeout seconds for a frame, and returns
	// errNoFrame if none came.
	WaitForFrame(timeout uint32) error
	// GetFrame takes the next frame: its bytes, in a buffer the device
	// fills again once released, and the buffer's index. It returns
	// errNoFrame if there is none after all.
	GetFrame() (frame []byte, index uint32, err error)
	// ReleaseFrame gives buffer index back to the device.
	ReleaseFrame(index uint32) error
}

// errNoFrame is rawFrames' error when no frame came in time.
var errNoFrame = errors.New("no frame")

const (
	// waitStep is how long the reader waits for a frame at a time, in
	// seconds (the device's unit): Close waits at most that long for a
	// ReadFrame in progress.
	waitStep = 1
	// maxWaits is how many waits without a frame make ReadFrame fail: 5 s,
	// as pion/mediadevices' driver.
	maxWaits = 5
)

// mjpegReader is the FrameReader of an MJPEG mode: it copies each frame out
// of the device's buffer and decodes it with libjpeg-turbo. A frame that
// does not decode (or is empty) is skipped: logged the first time, counted,
// and the total logged when the reader closes.
type mjpegReader struct {
	src      rawFrames
	closeSrc func() error // stops streaming and closes the device
	camera   int          // the camera's number, for messages
	log      *slog.Logger
	maxWaits int

	closing atomic.Bool // Close was called: ReadFrame returns
	mu      sync.Mutex  // held while src or dec is used, and by Close to release them
	closed  bool
	dec     *mjpeg.Decoder
	buf     []byte // the frame, copied out of the device's buffer
	frames  int    // frames read
	skipped int    // frames that did not decode
}

func newMJPEGReader(src rawFrames, closeSrc func() error, camera int) (*mjpegReader, error) {
	dec, err := mjpeg.NewDecoder()
	if err != nil {
		return nil, err
	}
	return &mjpegReader{src: src, closeSrc: closeSrc, camera: camera, log: slog.Default(), maxWaits: maxWaits, dec: dec}, nil
}

// ReadFrame returns the next frame that decodes: an *image.YCbCr (4:2:2
// from most webcams). It waits for the camera a second at a time, checking
// ctx and Close in between, and fails after 5 s without a frame or when the
// device fails; after Close it returns io.EOF.
func (r *mjpegReader) ReadFrame(ctx context.Context) (image.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for waits := 0; ; {
		if r.closed || r.closing.Load() {
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		frame, err := r.next()
		if errors.Is(err, errNoFrame) {
			if waits++; waits >= r.maxWaits {
				return nil, fmt.Errorf("v4l2: camera %d: no frame for %d s", r.camera, waits*waitStep)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("v4l2: camera %d: %w", r.camera, err)
		}
		waits = 0
		r.frames++
		img, err := r.dec.Decode(frame)
		if err != nil {
			if r.skipped++; r.skipped == 1 {
				r.log.Warn("v4l2: skipping camera frames that do not decode", "camera", r.camera, "err", err)
			}
			continue
		}
		return img, nil
	}
}

// next waits for the device's next frame, copies it out of the device's
// buffer and gives the buffer back: the device may fill it again as soon
// as it has it, and unmaps it when it closes.
func (r *mjpegReader) next() ([]byte, error) {
	if err := r.src.WaitForFrame(waitStep); err != nil {
		return nil, err
	}
	b, index, err := r.src.GetFrame()
	if err != nil {
		return nil, err
	}
	r.buf = append(r.buf[:0], b...)
	if err := r.src.ReleaseFrame(index); err != nil {
		return nil, err
	}
	return r.buf, nil
}

// Close stops streaming and closes the device, after waiting for a
// ReadFrame in progress (at most a second, and a decode). It is idempotent.
func (r *mjpegReader) Close() error {
	r.closing.Store(true)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.dec.Close()
	if r.skipped > 0 {
		r.log.Info("v4l2: camera frames skipped", "camera", r.camera, "skipped", r.skipped, "of", r.frames)
	}
	return r.closeSrc()
}
