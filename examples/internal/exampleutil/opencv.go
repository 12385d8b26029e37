//go:build opencv

package exampleutil

import "github.com/rtcbot-go/rtcbot/cv"

// With -tags opencv, OpenCamera and OpenWindow offer OpenCV's camera and
// window, and the program links OpenCV.
func init() {
	openCVCamera = cv.NewCamera
	openCVWindow = func(name string, scale int) (Window, error) {
		d, err := cv.NewDisplay(cv.DisplaySettings{Name: name, Scale: scale})
		if err != nil {
			return nil, err // not a nil *cv.Display in a non-nil Window
		}
		return d, nil
	}
}
