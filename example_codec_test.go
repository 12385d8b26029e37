//go:build cgo

package rtcbot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/codec/vp8"
)

// A program plugs in its own encoder by registering it before it makes
// connections; a hardware H.264 encoder or OpenH264 would be registered
// for "H264" the same way. Here a robot whose small computer is busy with
// other work gets libvpx on one thread whatever the picture size (above
// 640x480 it would take two, which help only when each gets a core).
func ExampleRegisterVideoEncoder() {
	var made atomic.Int64
	rtcbot.RegisterVideoEncoder("VP8", func(s rtcbot.VideoEncoderSettings) (rtcbot.VideoEncoder, error) {
		made.Add(1)
		enc, err := vp8.NewEncoder(vp8.EncoderSettings{
			Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate,
			Threads: 1,
		})
		if err != nil {
			return nil, err
		}
		return enc, nil // *vp8.Encoder is also a BitrateSetter
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	settings := rtcbot.ConnectionSettings{LoopbackOnly: true}
	robot, _ := rtcbot.NewConnection(settings)
	desktop, _ := rtcbot.NewConnection(settings)
	defer robot.Close()
	defer desktop.Close()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 320, Height: 240})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	frames := desktop.Video().Subscribe()

	offer, _ := desktop.GetLocalDescription(ctx, nil)
	answer, _ := robot.GetLocalDescription(ctx, &offer)
	desktop.SetRemoteDescription(answer)
	frame, err := frames.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("received:", frame.Bounds().Size())
	fmt.Println("encoders made:", made.Load())
	// Output:
	// received: (320,240)
	// encoders made: 1
}
