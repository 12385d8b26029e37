// Command robot is a robot in a LiveKit room: it publishes its camera to a
// LiveKit server (an SFU), which forwards it to every desktop watching, and
// prints the control messages the driving desktop sends, with the sender's
// identity. Once a second it sends a status message back to everyone in the
// room. See examples/sfu/README.md for starting a server and for tokens.
//
// With a development server on this machine (examples/sfu/livekit-dev.yaml),
// the robot makes its own token from the server's API key and secret:
//
//	go run ./examples/sfu/robot -api-key devkey -api-secret secretsecretsecretsecretsecretsecret
//	go run ./examples/sfu/desktop -api-key devkey -api-secret secretsecretsecretsecretsecretsecret -drive
//	go run ./examples/sfu/desktop -api-key devkey -api-secret secretsecretsecretsecretsecretsecret
//
// Elsewhere, give it the server's address and a token made where the API
// secret is kept (livekit.Token; identity "robot", in its room):
//
//	go run ./examples/sfu/robot -url wss://livekit.example.com -token "$ROBOT_TOKEN"
//
// -url defaults to $LIVEKIT_URL, else ws://127.0.0.1:7880; -token to
// $LIVEKIT_TOKEN; -api-key and -api-secret to $LIVEKIT_API_KEY and
// $LIVEKIT_API_SECRET. -room and -identity say whose token to make (and
// are what the desktops' -room and -robot must name).
//
// -camera is as the offload robot's: "auto" (a V4L2 camera, or the
// synthetic test pattern if none opens), "v4l2", "testpattern", "pi" and
// "cmd:COMMAND" (H.264 encoded elsewhere, sent as it is: the desktops then
// need a -tags h264 build to decode it), "pi-raw", and "cv" in a -tags
// opencv build. -width, -height and -fps set its size and rate.
//
// Several desktops may send controls at once; each message is printed with
// its sender. When none has come for -watchdog (or the robot left the
// room), it says so: the place to stop the motors. It stops on Ctrl-C or
// SIGTERM, leaving the room.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
	"github.com/rtcbot-go/rtcbot/examples/sfu/internal/lkutil"
	"github.com/rtcbot-go/rtcbot/livekit"
)

type options struct {
	lk                  lkutil.Flags
	camera              string
	cam                 rtcbot.CameraSettings
	watchdog, telemetry time.Duration
}

func main() {
	var o options
	o.lk.Register("robot", "the robot's identity in the room, when its token is made here (the desktops' -robot)")
	flag.StringVar(&o.camera, "camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv), "testpattern", `+
		`"pi" (a Raspberry Pi camera's hardware H.264, sent as it is), "pi-raw" (its raw frames, encoded here) or "cmd:COMMAND" (the H.264 Annex-B stream COMMAND writes on standard output)`)
	flag.IntVar(&o.cam.Device, "device", 0, "camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "frames per second")
	flag.DurationVar(&o.watchdog, "watchdog", rtcbot.DefaultWatchdogTimeout, "report the controls lost after this long without a control message")
	flag.DurationVar(&o.telemetry, "telemetry", time.Second, "how often to send a status message to the room (0: never)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	// The robot publishes and sends data (its status); it watches no one.
	token, err := o.lk.JoinToken(livekit.Grant{NoSubscribe: true})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	video, err := exampleutil.OpenVideo(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer video.Close()

	robot, err := livekit.JoinRobot(ctx, o.lk.URL, token, livekit.RobotSettings{
		Video:  rtcbot.VideoSettings{Codec: video.Codec()}, // VP8, or H264 for -camera pi and cmd:
		Logger: lkutil.Logger(),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while joining
		}
		return lkutil.JoinError(o.lk.URL, err)
	}
	defer robot.Close()
	if video.Encoded != nil {
		err = robot.PublishEncoded(ctx, video.Encoded)
	} else {
		err = robot.PublishVideo(ctx, video.Camera)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while publishing
		}
		return err
	}

	// The controls, with a watchdog: the robot hears when they stop. It
	// keeps each message's sender.
	controls := rtcbot.NewWatchdog[livekit.Message](o.watchdog, nil)
	robot.SubscribeMessagesWith(controls)
	controls.OnTimeout(func() { fmt.Printf("No control message for %v: stopping the motors.\n", o.watchdog) })
	controls.OnResume(func() { fmt.Println("Controls resumed.") })
	var printing sync.WaitGroup
	printing.Add(1)
	go func() {
		defer printing.Done()
		for {
			msg, err := controls.Get(context.Background())
			if err != nil {
				return // the robot left the room, and every message is printed
			}
			fmt.Printf("Control message from %s: %s\n", msg.From, format(msg.Value))
		}
	}()

	size := o.cam
	if video.Camera != nil {
		size = video.Camera.Settings() // what the camera opened with
	}
	fmt.Printf("Robot %q is in the room at %s, publishing its camera (%dx%d).\n", robot.Identity(), o.lk.URL, size.Width, size.Height)
	fmt.Println("(Press CTRL+C to quit)")

	var tick <-chan time.Time
	if o.telemetry > 0 {
		t := time.NewTicker(o.telemetry)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			robot.Close()
			printing.Wait()
			fmt.Println("Left the room.")
			return nil
		case <-robot.Done(): // the server removed it, or it could not rejoin
			printing.Wait()
			return fmt.Errorf("left the room: %w", robot.Err())
		case <-tick:
			s := robot.Stats()
			robot.Put(map[string]any{
				"status":            "ok",
				"uptime_s":          int(time.Since(start).Seconds()),
				"frames_sent":       s.FramesSent,
				"controls_received": s.MessagesReceived,
				"bitrate_kbps":      s.TargetBitrate / 1000,
			})
		}
	}
}

// format prints a control message as the offload robot does: gamepad
// events as Python prints RTCBot's event dict.
func format(msg any) string {
	if e, ok := rtcbot.InputEventFromMessage(msg); ok {
		return e.String()
	}
	return fmt.Sprint(msg)
}
