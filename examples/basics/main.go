// Command basics is RTCBot's basics tutorial in Go: producers, consumers and
// subscriptions, shown with a camera and a display.
//
//	go run ./examples/basics                  # until Ctrl-C
//	go run ./examples/basics -duration 10s    # or stop by itself
//
// It wires three things to one camera:
//
//   - The display shows the camera: display.PutSubscription(cam), RTCBot's
//     display.putSubscription(camera). The camera is a producer, the display a
//     consumer; the display subscribes to the camera for us.
//   - A second subscription, cam.Subscribe(), is read in a loop that prints
//     the frames' size once a second: every subscription sees every frame.
//   - A goroutine turns the camera's frames to grayscale and publishes them on
//     a producer of its own (rtcbot.NewProducer), a processed stream. Every
//     few seconds (-switch) the display is switched between the camera and
//     the grayscale stream with another PutSubscription, which replaces the
//     display's input mid-stream without stopping the display.
//
// In a build with -tags opencv, which needs OpenCV 4, the camera and the
// window are RTCBot's OpenCV ones (CVCamera, CVDisplay):
//
//	go run -tags opencv ./examples/basics
//
// Without the tag the program links no OpenCV: its camera is a V4L2 one
// (package v4l2) and its display a headless one (an fps line every few
// seconds and a snapshot file). With no camera it says so and uses the
// synthetic test pattern, and with no screen the headless display. -camera
// and -display choose explicitly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

type options struct {
	camera, display, snapshot string
	cam                       rtcbot.CameraSettings
	every, duration           time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.camera, "camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv) or "testpattern"`)
	flag.IntVar(&o.cam.Device, "device", 0, "camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "frames per second")
	flag.StringVar(&o.display, "display", "auto", `display: "auto" (an OpenCV window in a -tags opencv build with a screen, else headless), "cv" (needs -tags opencv) or "headless"`)
	flag.StringVar(&o.snapshot, "snapshot", "basics-snapshot.png", "where the headless display writes the latest frame")
	flag.DurationVar(&o.every, "switch", 3*time.Second, "switch the display between the camera and the grayscale stream this often")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()
	if o.every <= 0 {
		log.Fatal("-switch must be positive")
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}

	cam, err := exampleutil.OpenCamera(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer cam.Close()
	cam.OnReady(func() { fmt.Println("Camera ready.") })

	disp, err := openDisplay(o.display, o.snapshot)
	if err != nil {
		return err
	}
	defer disp.Close()

	// 1. The camera feeds the display. Handing the display a producer
	// subscribes for us (RTCBot: display.putSubscription(camera)).
	disp.PutSubscription(cam)
	fmt.Println("Display: showing the camera.")

	var wg sync.WaitGroup

	// 2. A second, independent subscription, read in a loop (RTCBot:
	// frameSubscription = camera.subscribe(); await frameSubscription.get()).
	// Video subscriptions hold only the newest frame, so a slow reader skips
	// frames rather than falling behind.
	// The readers below run until their subscription ends, which is how
	// they learn to stop.
	sizes := cam.Subscribe()
	wg.Go(func() { printSizes(sizes) })

	// 3. A processed stream: a producer of our own, fed from a third
	// subscription to the camera. Its subscriptions are latest-only, like
	// the camera's.
	gray := rtcbot.NewProducer(func() rtcbot.Subscription[image.Image] { return rtcbot.NewLatest[image.Image]() })
	defer gray.Close()
	frames := cam.Subscribe()
	wg.Go(func() {
		defer gray.Close() // the camera closed, or we are stopping: so does the stream
		for {
			frame, err := frames.Get(context.Background())
			if err != nil {
				return // rtcbot.ErrClosed: the subscription ended
			}
			if gray.Subscribers() == 0 {
				continue // nobody is watching: skip the work
			}
			gray.Publish(grayscale(frame))
			gray.SetReady()
		}
	})

	// Switch the display's input every few seconds. Each PutSubscription
	// replaces the previous input (and closes the subscription the display
	// made for it), without stopping the display.
	ticker := time.NewTicker(o.every)
	defer ticker.Stop()
	showingGray := false
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-cam.Done():
			stop() // the camera stopped (a video file ended, the device failed)
		case <-ticker.C:
			showingGray = !showingGray
			if showingGray {
				disp.PutSubscription(gray)
				fmt.Println("Display: showing the grayscale stream.")
			} else {
				disp.PutSubscription(cam)
				fmt.Println("Display: showing the camera.")
			}
		}
	}

	// Shut down. Unsubscribing ends a subscription: its reader gets
	// rtcbot.ErrClosed and stops. (Closing the camera would end every one.)
	cam.Unsubscribe(sizes)
	cam.Unsubscribe(frames)
	wg.Wait()
	if err := cam.Err(); err != nil {
		fmt.Println("Camera failed:", err)
	}
	fmt.Println("Stopped.")
	return nil
}

// printSizes reads frames from sub until it ends, printing the size of about
// one frame a second.
func printSizes(sub rtcbot.Subscription[image.Image]) {
	n := 0
	var last time.Time
	for {
		frame, err := sub.Get(context.Background())
		if err != nil {
			if errors.Is(err, rtcbot.ErrClosed) {
				fmt.Printf("Frame reader: subscription ended after %d frames.\n", n)
			}
			return
		}
		n++
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			size := frame.Bounds().Size()
			fmt.Printf("Frame reader: frame %d is %dx%d (%T)\n", n, size.X, size.Y, frame)
		}
	}
}

// grayscale returns a gray copy of frame. Frames are shared by every
// subscriber, so it makes a new picture rather than changing frame.
func grayscale(frame image.Image) image.Image {
	b := frame.Bounds()
	g := image.NewGray(b)
	if f, ok := frame.(*image.YCbCr); ok {
		// The test pattern's frames: the Y plane is the gray picture.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			copy(g.Pix[g.PixOffset(b.Min.X, y):][:b.Dx()], f.Y[f.YOffset(b.Min.X, y):])
		}
		return g
	}
	draw.Draw(g, b, frame, b.Min, draw.Src)
	return g
}

// display is what frames are shown on: a window or a headless display.
type display interface {
	PutSubscription(rtcbot.Getter[image.Image])
	Close() error
}

// openDisplay opens the display asked for; "auto" falls back to a headless
// display, saying so in one line.
func openDisplay(kind, snapshot string) (display, error) {
	headless := func() display {
		return rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{
			Interval:     3 * time.Second,
			SnapshotPath: snapshot,
			Report: func(s rtcbot.DisplayStats) {
				if s.Frames > 0 {
					fmt.Printf("Display: %d frames, %.1f fps, last %dx%d\n", s.Frames, s.FPS, s.Size.X, s.Size.Y)
				}
			},
		})
	}
	switch kind {
	case "headless":
		return headless(), nil
	case "cv":
		return exampleutil.OpenWindow("basics", 1)
	case "auto":
		w, err := exampleutil.OpenWindow("basics", 1)
		if err == nil {
			return w, nil
		}
		fmt.Printf("No window (%v): using a headless display, snapshots in %s.\n", err, snapshot)
		return headless(), nil
	}
	return nil, fmt.Errorf("unknown display %q", kind)
}
