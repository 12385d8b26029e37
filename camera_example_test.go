package rtcbot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// The test pattern camera stands in for a real one: its frames carry their
// sequence number and capture time, which any receiver can read back.
func ExampleNewTestPatternCamera() {
	ctx := context.Background()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 640, Height: 480, FPS: 30})
	frames := cam.Subscribe() // latest-only: a slow reader skips frames

	first, _ := frames.Get(ctx)
	second, _ := frames.Get(ctx)
	a, _ := timecode.Read(first)
	b, _ := timecode.Read(second)
	fmt.Println("size:", first.Bounds().Size())
	fmt.Println("newer frame:", b.Seq > a.Seq)

	cam.Close()
	for {
		if _, err := frames.Get(ctx); errors.Is(err, rtcbot.ErrClosed) {
			fmt.Println("camera closed")
			break
		}
	}
	// Output:
	// size: (640,480)
	// newer frame: true
	// camera closed
}

// A robot without a screen shows its frames on a headless display, which
// counts them and writes the latest to a PNG file.
func ExampleHeadlessDisplay() {
	dir, _ := os.MkdirTemp("", "display")
	defer os.RemoveAll(dir)

	// On a desktop (rtcbot.CheckDisplay() == nil) a program would open a
	// window instead, with package cv's NewDisplay.
	display := rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{})
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{})
	display.PutSubscription(cam) // RTCBot: display.putSubscription(camera)

	<-display.Ready() // the first frame arrived
	fmt.Println("frame size:", display.LastFrame().Bounds().Size())
	fmt.Println("snapshot error:", display.Snapshot(filepath.Join(dir, "frame.png")))

	cam.Close()
	display.Close()
	fmt.Println("frames shown:", display.Frames() > 0)
	// Output:
	// frame size: (320,240)
	// snapshot error: <nil>
	// frames shown: true
}
