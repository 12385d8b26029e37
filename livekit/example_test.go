package livekit_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/livekit"
)

// Tokens are made where the API secret is kept, and handed to the robot
// and to each operator.
func ExampleToken() {
	token, err := livekit.Token("devkey", "secretsecretsecretsecretsecretsecret", livekit.Grant{
		Room:     "lab",
		Identity: "robot",
		ValidFor: 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	parsed, err := auth.ParseAPIToken(token)
	if err != nil {
		log.Fatal(err)
	}
	_, grants, err := parsed.Verify("secretsecretsecretsecretsecretsecret")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(grants.Identity, grants.Video.Room, *grants.Video.CanPublish)
	// Output: robot lab true
}

// A robot joins the room, publishes its camera and stops its motors when
// the operators' controls stop.
func ExampleJoinRobot() {
	ctx := context.Background()
	token := "..." // from livekit.Token, made on the operator's machine
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 640, Height: 480})
	defer cam.Close()

	robot, err := livekit.JoinRobot(ctx, "wss://robots.example.com", token, livekit.RobotSettings{})
	if err != nil {
		log.Fatal(err) // errors.Is(err, livekit.ErrUnauthorized) for a bad token
	}
	defer robot.Close()
	if err := robot.PublishVideo(ctx, cam); err != nil {
		log.Fatal(err)
	}
	controls := rtcbot.NewWatchdog[any](250*time.Millisecond, nil)
	robot.SubscribeWith(controls)
	controls.OnTimeout(func() { fmt.Println("stop the motors") })
	for msg, err := controls.Get(ctx); err == nil; msg, err = controls.Get(ctx) {
		e, _ := rtcbot.InputEventFromMessage(msg)
		fmt.Println("control:", e)
	}
}

// The operator's desktop shows the robot's video and sends controls.
func ExampleJoinViewer() {
	ctx := context.Background()
	token := "..."
	viewer, err := livekit.JoinViewer(ctx, "wss://robots.example.com", token, livekit.ViewerSettings{Robot: "robot"})
	if err != nil {
		log.Fatal(err)
	}
	defer viewer.Close()
	frames := viewer.Video().Subscribe()
	go func() {
		for frame, err := frames.Get(ctx); err == nil; frame, err = frames.Get(ctx) {
			fmt.Println("frame", frame.Bounds())
		}
	}()
	viewer.Put(map[string]any{"code": "ABS_X", "state": 12000, "event": "Absolute"})
}
