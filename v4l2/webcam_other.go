//go:build !linux

package v4l2

import (
	"errors"

	"github.com/pion/mediadevices/pkg/prop"
	"github.com/rtcbot-go/rtcbot"
)

// openMJPEG fails: github.com/blackjack/webcam, which reads the frames, is
// for Linux only (and no camera is found elsewhere).
var openMJPEG = func(device int, mode prop.Video) (rtcbot.FrameReader, error) {
	return nil, errors.New("MJPEG capture needs Linux")
}
