package rtcbot

import (
	"context"
	"fmt"
	"image"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// NewTestPatternCamera returns a synthetic camera for machines without one,
// and for measuring latency: it produces timecode.Pattern frames (moving
// colour bars and a bouncing box) of the requested size at the requested rate,
// frame number N stamped with sequence number N and its capture time, so a
// receiver can read both back with timecode.Read. Settings.Device is ignored.
//
// A size below 32x30 (timecode.MinWidth x timecode.MinHeight) is too small
// to carry a stamp. Like a device camera whose capture fails, the camera then
// reports an error wrapping ErrFrameTooSmall through Err and OnError and
// closes; unlike one, it has done so by the time NewTestPatternCamera
// returns, so Err can be checked at once:
//
//	cam := rtcbot.NewTestPatternCamera(settings)
//	if err := cam.Err(); err != nil {
//		return err // errors.Is(err, rtcbot.ErrFrameTooSmall)
//	}
//
// Its subscriptions then end with ErrClosed straight away.
//
// The first frame is produced at once and the rest on a steady ticker; if the
// capture goroutine falls behind (a slow Preprocess), ticks are skipped rather
// than queued, and the sequence numbers stay consecutive.
//
// Frames are 4:2:0 *image.YCbCr, the encoders' input format. Each frame is
// newly allocated, because subscribers may keep a published frame for as long
// as they like (an encoder or a display reads it while the next one is
// captured); at 640x480 that is 450 KiB per frame, which the garbage collector
// recycles.
func NewTestPatternCamera(s CameraSettings) *Camera {
	s = s.WithDefaults()
	if s.Width < timecode.MinWidth || s.Height < timecode.MinHeight {
		return newFailedCamera(fmt.Errorf("%w: NewTestPatternCamera: %dx%d is below the %dx%d a timecode stamp needs",
			ErrFrameTooSmall, s.Width, s.Height, timecode.MinWidth, timecode.MinHeight), s)
	}
	return NewCameraFromReader(&testPatternReader{
		pattern:  timecode.NewPattern(s.Width, s.Height),
		size:     image.Rect(0, 0, s.Width, s.Height),
		interval: time.Second / time.Duration(s.FPS),
	}, s)
}

// testPatternReader is the FrameReader of the test pattern camera. Only the
// camera's capture goroutine uses it.
type testPatternReader struct {
	pattern  *timecode.Pattern
	size     image.Rectangle
	interval time.Duration
	ticker   *time.Ticker // made by the first read
	seq      uint32
}

func (r *testPatternReader) ReadFrame(ctx context.Context) (image.Image, error) {
	if r.ticker == nil {
		r.ticker = time.NewTicker(r.interval)
	} else {
		select {
		case <-r.ticker.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	frame := image.NewYCbCr(r.size, image.YCbCrSubsampleRatio420)
	if err := r.pattern.FrameInto(frame, r.seq, time.Now()); err != nil {
		return nil, err // unreachable: the frame is made to fit
	}
	r.seq++
	return frame, nil
}

func (r *testPatternReader) Close() error {
	if r.ticker != nil {
		r.ticker.Stop()
	}
	return nil
}
