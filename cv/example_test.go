package cv_test

import (
	"image"
	"log"
	"os"
	"os/signal"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/cv"
)

// RTCBot's basics: show the camera in a window, four times larger, falling
// back to a headless display on a machine without a screen. (In the
// offloading tutorial the frames come from conn.Video() instead.)
func ExampleNewDisplay() {
	cam, err := cv.NewCamera(rtcbot.CameraSettings{}) // 320x240 at 30 fps from camera 0
	if err != nil {
		log.Print(err, "; using the test pattern")
		cam = rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{})
	}
	defer cam.Close()

	var display interface {
		Put(image.Image)
		Close() error
	}
	if d, err := cv.NewDisplay(cv.DisplaySettings{Name: "camera"}); err == nil {
		display = d
	} else {
		log.Print(err, "; counting frames instead")
		display = rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{})
	}
	defer display.Close()

	frames := cam.SubscribeFunc(func(frame image.Image) {
		size := frame.Bounds().Size()
		big, err := cv.Resize(frame, 4*size.X, 4*size.Y)
		if err != nil {
			log.Print(err)
			return
		}
		display.Put(big)
	})
	defer frames.Close()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
}

// A recorded video plays as a camera, for tests and replays.
func ExampleOpenFile() {
	cam, err := cv.OpenFile("recording.avi", rtcbot.CameraSettings{}) // at the file's own rate
	if err != nil {
		log.Fatal(err)
	}
	defer cam.Close()
	display := rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{SnapshotPath: "last.png"})
	defer display.Close()
	display.PutSubscription(cam)
	<-cam.Done() // the end of the file
}
