// Package v4l2 opens cameras through Video4Linux2 without OpenCV, using the
// camera driver of pion/mediadevices (pure Go underneath, cgo only for the
// kernel's header constants). It suits a Raspberry Pi or any Linux robot
// where installing OpenCV is too heavy; package cv is the OpenCV
// alternative.
//
// Raw YUV modes are read through mediadevices. MJPEG modes, what USB
// cameras send at 1280x720 and 30 fps (USB 2 carries only about 10 fps of
// raw YUV at that size), are read from the device with
// github.com/blackjack/webcam and decoded by libjpeg-turbo (package
// codec/mjpeg) straight to YCbCr, several times faster than mediadevices'
// image/jpeg. A frame that does not decode is skipped (and logged once
// with log/slog), not the end of the camera.
//
// Built without cgo, the driver registers no camera and NewCamera reports
// that none is there.
package v4l2

import (
	"context"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/driver/camera" // registers the V4L2 cameras
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/rtcbot-go/rtcbot"
)

// NewCamera opens camera number s.Device (/dev/video<Device>) and returns a
// camera producing its frames. Of the modes the camera offers, it picks the
// one closest to s.Width x s.Height at s.FPS (RTCBot's defaults, 320x240 at
// 30 fps, when unset), preferring raw YUV formats to MJPEG at equal size;
// the returned camera's Settings report the mode chosen. Frames are
// *image.YCbCr in every mode: in MJPEG modes at the JPEG's subsampling
// (4:2:2 from most cameras), decoded by libjpeg-turbo (an *image.Gray from
// a camera sending greyscale JPEGs).
func NewCamera(s rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	s = s.WithDefaults()
	d := find(s.Device)
	if d == nil {
		return nil, fmt.Errorf("v4l2: no camera %d (no /dev/video%d, or a build without cgo)", s.Device, s.Device)
	}
	rec, ok := d.(driver.VideoRecorder)
	if !ok {
		return nil, fmt.Errorf("v4l2: camera %d cannot record video", s.Device)
	}
	if err := d.Open(); err != nil {
		return nil, fmt.Errorf("v4l2: camera %d: %w", s.Device, err)
	}
	mode, ok := choose(d.Properties(), s)
	if !ok {
		d.Close()
		return nil, fmt.Errorf("v4l2: camera %d offers no video mode this driver can decode", s.Device)
	}
	var fr rtcbot.FrameReader
	if mode.FrameFormat == frame.FormatMJPEG {
		// The device's own frames, for libjpeg-turbo: mediadevices only
		// chose the mode.
		d.Close()
		r, err := openMJPEG(s.Device, mode)
		if err != nil {
			return nil, fmt.Errorf("v4l2: camera %d, %dx%d %s: %w", s.Device, mode.Width, mode.Height, mode.FrameFormat, err)
		}
		fr = r
	} else {
		r, err := rec.VideoRecord(prop.Media{Video: mode})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("v4l2: camera %d, %dx%d %s: %w", s.Device, mode.Width, mode.Height, mode.FrameFormat, err)
		}
		fr = &reader{r: r, d: d}
	}
	s.Width, s.Height = mode.Width, mode.Height
	if mode.FrameRate > 0 {
		s.FPS = int(math.Round(float64(mode.FrameRate)))
	}
	return rtcbot.NewCameraFromReader(fr, s), nil
}

// find returns the driver of /dev/video<device>: the last part of its label.
func find(device int) driver.Driver {
	want := fmt.Sprintf("video%d", device)
	for _, d := range driver.GetManager().Query(driver.FilterVideoRecorder()) {
		parts := strings.Split(d.Info().Label, camera.LabelSeparator)
		if parts[len(parts)-1] == want {
			return d
		}
	}
	return nil
}

// formatCost ranks the frame formats the driver decodes: raw YUV first.
var formatCost = map[frame.Format]int{
	frame.FormatI420:  0,
	frame.FormatNV12:  1,
	frame.FormatNV21:  1,
	frame.FormatYUYV:  2,
	frame.FormatUYVY:  2,
	frame.FormatMJPEG: 3,
}

// choose returns the mode closest to the settings' size, then rate, then
// with the cheapest format. A mode without a rate gets the requested one.
func choose(modes []prop.Media, s rtcbot.CameraSettings) (prop.Video, bool) {
	var best prop.Video
	bestCost := math.Inf(1)
	for _, m := range modes {
		v := m.Video
		fc, ok := formatCost[v.FrameFormat]
		if !ok || v.Width <= 0 || v.Height <= 0 {
			continue
		}
		if v.FrameRate <= 0 {
			v.FrameRate = float32(s.FPS)
		}
		size := math.Abs(float64(v.Width*v.Height-s.Width*s.Height)) + math.Abs(float64(v.Width-s.Width))
		cost := size*1000 + math.Abs(float64(v.FrameRate)-float64(s.FPS))*10 + float64(fc)
		if cost < bestCost {
			best, bestCost = v, cost
		}
	}
	return best, !math.IsInf(bestCost, 1)
}

// reader is the FrameReader of YUV modes, over a mediadevices video reader.
type reader struct {
	r video.Reader
	d driver.Driver
}

// ReadFrame returns the next frame. It cannot be interrupted: the driver
// waits at most one frame (or its read timeout, 5 s) for the camera.
func (r *reader) ReadFrame(context.Context) (image.Image, error) {
	// The frame's release function is not called: the driver then never
	// reuses a frame's memory, and subscribers may keep frames.
	img, _, err := r.r.Read()
	if err != nil {
		return nil, fmt.Errorf("v4l2: %w", err)
	}
	return img, nil
}

func (r *reader) Close() error { return r.d.Close() }
