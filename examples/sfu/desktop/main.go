// Command desktop is an operator's desktop in a LiveKit room: it shows the
// video the robot (examples/sfu/robot) publishes there, prints the status
// the robot sends, and with -drive sends controls back. Any number of
// desktops may watch one robot at once: the robot sends its video once, to
// the server, which forwards it to each. See examples/sfu/README.md for
// starting a server and for tokens.
//
// With a development server on this machine (examples/sfu/livekit-dev.yaml)
// and the robot in room "lab" as "robot", the defaults:
//
//	go run ./examples/sfu/desktop -api-key devkey -api-secret secretsecretsecretsecretsecretsecret -drive  # watches and drives
//	go run ./examples/sfu/desktop -api-key devkey -api-secret secretsecretsecretsecretsecretsecret         # only watches
//
// Elsewhere, give it the server's address and a token made where the API
// secret is kept (livekit.Token):
//
//	go run ./examples/sfu/desktop -url wss://livekit.example.com -token "$DESKTOP_TOKEN" -drive
//
// -url defaults to $LIVEKIT_URL, else ws://127.0.0.1:7880; -token to
// $LIVEKIT_TOKEN; -api-key and -api-secret to $LIVEKIT_API_KEY and
// $LIVEKIT_API_SECRET. A token made here is for -identity (default
// desktop-RANDOM) in -room, allowed to subscribe, and to send data only
// with -drive: a desktop that only watches cannot drive. -robot is the
// robot's identity, whose video it shows and to whom it sends controls.
//
// With -drive it sends gamepad events as control messages, as the offload
// desktop does: from a gamepad if there is one, else from a simulated one
// (an event every -interval). It shows the video in an OpenCV window when
// built with -tags opencv and there is a screen; otherwise on a headless
// display (a line with the frame rate and size every few seconds, and the
// latest frame in -snapshot if set). It decodes VP8, and H.264 (the robot's
// -camera pi or cmd:) when built with -tags h264. It stops on Ctrl-C,
// SIGTERM or after -duration, printing what it received and sent.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
	"github.com/rtcbot-go/rtcbot/examples/sfu/internal/lkutil"
	"github.com/rtcbot-go/rtcbot/livekit"
)

type options struct {
	lk                                lkutil.Flags
	robot, display, snapshot, gamepad string
	device                            string
	drive                             bool
	interval, duration                time.Duration
}

func main() {
	var o options
	o.lk.Register("desktop-"+strings.ToLower(rtcbot.RandomToken()[:6]), "the desktop's identity in the room, when its token is made here (default desktop-RANDOM)")
	flag.StringVar(&o.robot, "robot", "robot", "the robot's identity: whose video to show, to whom to send controls")
	flag.BoolVar(&o.drive, "drive", false, "send controls to the robot (else only watch)")
	flag.StringVar(&o.gamepad, "gamepad", "auto", `with -drive: "auto" (a gamepad device, else simulated), "device" or "simulated"`)
	flag.StringVar(&o.device, "device", "", "the gamepad's device: /dev/input/eventN (evdev) or /dev/input/jsN (joystick mode); empty: the first gamepad found")
	flag.DurationVar(&o.interval, "interval", rtcbot.DefaultSimulatedGamepadInterval, "with the simulated gamepad: the time between control messages")
	flag.StringVar(&o.display, "display", "auto", `display: "auto" (an OpenCV window in a -tags opencv build with a screen, else headless), "cv" or "headless"`)
	flag.StringVar(&o.snapshot, "snapshot", "", "where the headless display writes the latest frame (PNG; empty: nowhere)")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	// A watching desktop subscribes only; a driving one sends data too.
	token, err := o.lk.JoinToken(livekit.Grant{NoPublish: true, NoData: !o.drive})
	if err != nil {
		return err
	}
	if o.drive && !lkutil.MayPublishData(token) {
		return errors.New("-drive: this token may not send data (a watching desktop's), so the server would drop every control: make one that may (examples/sfu/token -role driver)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}

	disp, err := exampleutil.OpenDesktopDisplay(o.display, o.snapshot)
	if err != nil {
		return err
	}
	defer disp.Close()
	var g exampleutil.Gamepad
	if o.drive {
		if g, err = exampleutil.OpenGamepad(o.gamepad, o.device, rtcbot.SimulatedGamepadSettings{Interval: o.interval}); err != nil {
			return err
		}
		defer g.Close()
	}

	viewer, err := livekit.JoinViewer(ctx, o.lk.URL, token, livekit.ViewerSettings{Robot: o.robot, Logger: lkutil.Logger()})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while joining
		}
		return lkutil.JoinError(o.lk.URL, err)
	}
	defer viewer.Close()
	role := "watching"
	if o.drive {
		role = "watching and driving"
	}
	fmt.Printf("Desktop %q is in the room at %s, %s %q.\n", viewer.Identity(), o.lk.URL, role, o.robot)
	fmt.Println("(Press CTRL+C to quit)")

	var frames, statuses atomic.Int64
	var size atomic.Value // image.Point
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the video
		defer wg.Done()
		video := viewer.Video().Subscribe()
		for {
			frame, err := video.Get(ctx)
			if err != nil {
				return
			}
			if frames.Add(1) == 1 {
				fmt.Printf("First frame from %s: %dx%d.\n", o.robot, frame.Bounds().Dx(), frame.Bounds().Dy())
			}
			size.Store(frame.Bounds().Size())
			disp.Put(frame)
		}
	}()
	go func() { // the robot's status
		defer wg.Done()
		messages := viewer.SubscribeMessages()
		for {
			msg, err := messages.Get(ctx)
			if err != nil {
				return
			}
			statuses.Add(1)
			text, err := json.Marshal(msg.Value)
			if err != nil {
				text = []byte(fmt.Sprint(msg.Value))
			}
			fmt.Printf("Status from %s: %s\n", msg.From, text)
		}
	}()
	if g != nil {
		viewer.PutSubscription(rtcbot.Map(g, func(e rtcbot.InputEvent) any { return e }))
	}

	select {
	case <-ctx.Done():
	case <-viewer.Done(): // the server removed it, or it could not rejoin
		stop()
		wg.Wait()
		return fmt.Errorf("left the room: %w", viewer.Err())
	}
	wg.Wait()
	viewer.Close()
	s := viewer.Stats()
	sz, _ := size.Load().(image.Point)
	fmt.Printf("Left the room: received %d frames (%dx%d) and %d status messages, sent %d control messages.\n",
		frames.Load(), sz.X, sz.Y, statuses.Load(), s.MessagesSent)
	return nil
}
