//go:build cgo

package rtcbot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// A robot sends its camera's video to a desktop, which reads the frames.
// The robot feeds its connection's Video() with the camera; the desktop
// subscribes to its own Video() before making the offer, so the offer asks
// for video. Frames arrive decoded, at the size the camera makes them (a
// link too slow for them would get smaller ones).
func ExampleMediaStream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The test pattern stands in for cv.NewCamera or v4l2.NewCamera.
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 320, Height: 240, FPS: 30})
	defer cam.Close()

	settings := rtcbot.ConnectionSettings{LoopbackOnly: true}
	robot, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer robot.Close()
	desktop, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()

	robot.Video().PutSubscription(cam)    // RTCBot: conn.video.putSubscription(cam)
	frames := desktop.Video().Subscribe() // RTCBot: conn.video.subscribe()

	offer, err := desktop.GetLocalDescription(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := robot.GetLocalDescription(ctx, &offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := desktop.SetRemoteDescription(answer); err != nil {
		fmt.Println(err)
		return
	}

	frame, err := frames.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("desktop got a frame of", frame.Bounds().Size())
	// Output:
	// desktop got a frame of (320,240)
}
