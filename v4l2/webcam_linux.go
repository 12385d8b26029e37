package v4l2

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/blackjack/webcam"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/rtcbot-go/rtcbot"
)

// This file is the glue between the MJPEG reader and a real camera,
// through github.com/blackjack/webcam. There is no camera where the tests
// run, so it is only compiled there: keep it small, and the logic in
// mjpeg.go, which the tests feed real frames through a fake device.

// pixFmtMJPEG is V4L2_PIX_FMT_MJPEG, the fourcc 'M', 'J', 'P', 'G'.
const pixFmtMJPEG = webcam.PixelFormat('M' | 'J'<<8 | 'P'<<16 | 'G'<<24)

// openMJPEG opens camera number device (/dev/video<device>) and starts it
// streaming MJPEG frames of mode's size and rate. Tests replace it.
var openMJPEG = func(device int, mode prop.Video) (rtcbot.FrameReader, error) {
	cam, err := webcam.Open(fmt.Sprintf("/dev/video%d", device))
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			cam.Close()
		}
	}()
	// Two buffers, as mediadevices: a frame is at most one frame old.
	if err := cam.SetBufferCount(2); err != nil {
		return nil, err
	}
	f, _, _, err := cam.SetImageFormat(pixFmtMJPEG, uint32(mode.Width), uint32(mode.Height))
	if err != nil {
		return nil, err
	}
	if f != pixFmtMJPEG {
		return nil, fmt.Errorf("the camera set format %#x instead of MJPEG", uint32(f))
	}
	if mode.FrameRate > 0 {
		if err := cam.SetFramerate(mode.FrameRate); err != nil {
			return nil, err
		}
	}
	if err := cam.StartStreaming(); err != nil {
		return nil, err
	}
	r, err := newMJPEGReader(webcamFrames{cam}, cam.Close, device) // Close stops streaming first
	if err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

// webcamFrames is a webcam as the MJPEG reader's rawFrames. It takes a frame
// with GetFrame and ReleaseFrame, not ReadFrame, which gives the buffer
// back to the device before the caller has copied it.
type webcamFrames struct{ *webcam.Webcam }

func (d webcamFrames) WaitForFrame(timeout uint32) error {
	err := d.Webcam.WaitForFrame(timeout)
	if _, ok := err.(*webcam.Timeout); ok {
		return errNoFrame
	}
	return err
}

func (d webcamFrames) GetFrame() ([]byte, uint32, error) {
	b, index, err := d.Webcam.GetFrame()
	if errors.Is(err, syscall.EAGAIN) {
		return nil, 0, errNoFrame
	}
	return b, index, err
}
