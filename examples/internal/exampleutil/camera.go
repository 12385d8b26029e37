package exampleutil

import (
	"errors"
	"fmt"
	"image"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/v4l2"
)

// ErrNoOpenCV is the error of OpenCamera("cv") and OpenWindow in a build
// without the opencv build tag.
var ErrNoOpenCV = errors.New("this program is built without OpenCV: build it with the opencv tag " +
	"(go build -tags opencv, or go run -tags opencv), which needs OpenCV 4 (libopencv-dev on Debian)")

// The OpenCV camera and window, set by opencv.go in a build with -tags
// opencv, nil otherwise.
var (
	openCVCamera func(rtcbot.CameraSettings) (*rtcbot.Camera, error)
	openCVWindow func(name string, scale int) (Window, error)
)

// OpenCamera opens the camera a -camera flag asks for, with settings cs:
//
//   - "v4l2": a Linux camera through V4L2, without OpenCV (v4l2.NewCamera);
//   - "cv": an OpenCV camera (cv.NewCamera), in a build with -tags opencv
//     only: without the tag it is an error wrapping ErrNoOpenCV;
//   - "testpattern": the synthetic camera (rtcbot.NewTestPatternCamera);
//   - "auto": the OpenCV camera in a build with -tags opencv, else the V4L2
//     one; if it does not open, the test pattern, saying so in one line on
//     standard output.
//
// Any other kind is an error, as is a test pattern too small to carry its
// stamp (an error wrapping rtcbot.ErrFrameTooSmall).
func OpenCamera(kind string, cs rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	switch kind {
	case "testpattern":
		return testPattern(cs)
	case "v4l2":
		return v4l2.NewCamera(cs)
	case "cv":
		if openCVCamera == nil {
			return nil, fmt.Errorf("-camera cv: %w", ErrNoOpenCV)
		}
		return openCVCamera(cs)
	case "auto":
		open := v4l2.NewCamera
		if openCVCamera != nil {
			open = openCVCamera
		}
		cam, err := open(cs)
		if err == nil {
			return cam, nil
		}
		fmt.Printf("No camera (%v): using the test pattern instead.\n", err)
		return testPattern(cs)
	}
	return nil, fmt.Errorf("unknown camera %q (want auto, v4l2, cv or testpattern)", kind)
}

// testPattern is rtcbot.NewTestPatternCamera with its size error returned.
func testPattern(cs rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	cam := rtcbot.NewTestPatternCamera(cs)
	if err := cam.Err(); err != nil {
		return nil, err
	}
	return cam, nil
}

// Window is a window showing the frames it consumes: a *cv.Display, RTCBot's
// CVDisplay.
type Window interface {
	PutSubscription(rtcbot.Getter[image.Image])
	Put(image.Image)
	Close() error
}

// OpenWindow opens an OpenCV window titled name (cv.NewDisplay) that shows
// frames scale times larger (1: as they are), in a build with -tags opencv;
// without the tag it returns ErrNoOpenCV. With no screen it fails, and a
// program can show its frames on an rtcbot.HeadlessDisplay instead.
func OpenWindow(name string, scale int) (Window, error) {
	if openCVWindow == nil {
		return nil, ErrNoOpenCV
	}
	return openCVWindow(name, scale)
}
