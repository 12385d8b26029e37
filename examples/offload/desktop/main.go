// Command desktop is the desktop side of RTCBot's offloading tutorial, in
// Go: it connects to the robot, shows the robot's video four times larger,
// and streams gamepad events back to the robot as control messages.
//
// Start the robot first, then, with the address it prints:
//
//	go run ./examples/offload/desktop -robot 'http://ROBOT:8080/connect?token=...'
//
// The token may also come from -token or $RTCBOT_TOKEN. The desktop keeps
// its link: when the robot restarts or the network drops, it connects again,
// waiting longer after each failure (up to 5 s), until Ctrl-C or, with
// -attempts, that many failures in a row.
//
// Without a gamepad it drives the robot with a simulated one. It shows the
// video in an OpenCV window when built with -tags opencv (go run -tags
// opencv ./examples/offload/desktop, which needs OpenCV 4: libopencv-dev)
// and there is a screen; otherwise on a headless display (an fps line every
// few seconds and a snapshot file), saying so in one line each. Without the
// tag it links no OpenCV, and uses some 70 MB less memory. It decodes VP8,
// and H.264 when built with the h264 tag (go run -tags h264
// ./examples/offload/desktop), which imports package codec/h264 (h264.go;
// libavcodec, GPL-2.0+ as Debian builds it). With -duration it stops by
// itself and prints a summary; -summary prints it as JSON.
//
// -whep URL watches over WHEP instead, the open standard for watching a
// stream: the robot's own /whep/ (the robot prints it; -token is the bearer
// token), or a media server's WHEP endpoint that the robot publishes to
// with -whip. WHEP carries media only: the desktop then shows the video
// and sends no controls.
//
//	go run ./examples/offload/desktop -whep http://ROBOT:8080/whep/ -token TOKEN
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"log"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
	"github.com/rtcbot-go/rtcbot/timecode"
)

func main() {
	var o options
	flag.StringVar(&o.robot, "robot", "http://localhost:8080/connect", "the robot's /connect address, as the robot prints it")
	flag.StringVar(&o.token, "token", os.Getenv("RTCBOT_TOKEN"), "the robot's token, if -robot has none (default $RTCBOT_TOKEN)")
	flag.StringVar(&o.whep, "whep", "", "watch over WHEP at this address instead (the robot's http://ROBOT:8080/whep/, or a media server's WHEP endpoint): video only, no controls")
	flag.IntVar(&o.attempts, "attempts", 0, "give up after this many failed attempts to connect in a row (0: never)")
	flag.StringVar(&o.display, "display", "auto", `display: "auto" (an OpenCV window in a -tags opencv build with a screen, else headless), "cv" or "headless"`)
	flag.StringVar(&o.snapshot, "snapshot", "desktop-snapshot.png", "where the headless display writes the latest frame")
	flag.StringVar(&o.gamepad, "gamepad", "auto", `gamepad: "auto" (a gamepad device, else simulated), "device" or "simulated"`)
	flag.StringVar(&o.device, "device", "", "the gamepad's device: /dev/input/eventN (evdev) or /dev/input/jsN (joystick mode); empty: the first gamepad found")
	flag.IntVar(&o.events, "events", 0, "with the simulated gamepad: send this many events, then stop (0: no limit)")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.BoolVar(&o.loopback, "loopback", false, "use only 127.0.0.1 for the connection (robot and desktop on one machine)")
	flag.BoolVar(&o.jsonSummary, "summary", false, "print the final summary as one JSON line")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	robot, token, whep, display, snapshot, gamepad, device string
	events, attempts                                       int
	duration                                               time.Duration
	loopback, jsonSummary                                  bool
}

// Summary is what the desktop saw, printed when it stops.
type Summary struct {
	Frames          int     `json:"frames"`
	FPS             float64 `json:"fps"`
	Width           int     `json:"width"`
	Height          int     `json:"height"`
	ControlsSent    int64   `json:"controls_sent"`
	LatencyMedianMS float64 `json:"latency_median_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`
	LatencyReads    int     `json:"latency_reads"`
}

func run(o options) error {
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

	robot, err := withToken(o.robot, o.token)
	if err != nil {
		return err
	}
	// The gamepad stays open across connections.
	g, err := exampleutil.OpenGamepad(o.gamepad, o.device, rtcbot.SimulatedGamepadSettings{Count: o.events})
	if err != nil {
		return err
	}
	defer g.Close()

	var stats frameStats
	var controlsSent atomic.Int64
	var showing sync.WaitGroup
	keep := func(newConn func() (*rtcbot.Connection, error)) error {
		return rtcbot.KeepConnected(ctx, robot, rtcbot.ReconnectSettings{MaxAttempts: o.attempts}, newConn)
	}
	if o.whep != "" {
		fmt.Println("Watching over WHEP: video only, no controls.")
		keep = func(newConn func() (*rtcbot.Connection, error)) error {
			return rtcbot.WatchWHEP(ctx, o.whep, o.token, rtcbot.ReconnectSettings{MaxAttempts: o.attempts}, newConn)
		}
	}
	err = keep(func() (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: o.loopback})
		if err != nil {
			return nil, err
		}
		// Subscribing before the offer asks the robot for its video.
		frames := conn.Video().Subscribe()
		showing.Add(1)
		go func() {
			defer showing.Done()
			for {
				frame, err := frames.Get(ctx)
				if err != nil {
					return
				}
				stats.add(frame, time.Now())
				disp.Put(frame) // the display shows it 4x larger (exampleutil.DesktopScale)
			}
		}()
		conn.OnReady(func() { fmt.Println("Connected to the robot.") })
		if o.whep != "" {
			return conn, nil
		}
		// Send gamepad controls once connected.
		conn.PutSubscription(rtcbot.Map(g, func(e rtcbot.InputEvent) any { return e }))
		controls := conn.DataChannelByName(rtcbot.DefaultChannelLabel)
		conn.OnClose(func() { controlsSent.Add(int64(controls.Stats().MessagesSent)) })
		return conn, nil
	})
	showing.Wait()
	if ctx.Err() == nil { // gave up
		return err
	}

	s := stats.summary()
	s.ControlsSent = controlsSent.Load()
	if o.jsonSummary {
		return json.NewEncoder(os.Stdout).Encode(s)
	}
	fmt.Printf("Received %d frames (%.1f fps, %dx%d), sent %d control messages, median latency %.1f ms (p99 %.1f ms, %d frames read).\n",
		s.Frames, s.FPS, s.Width, s.Height, s.ControlsSent, s.LatencyMedianMS, s.LatencyP99MS, s.LatencyReads)
	return nil
}

// withToken puts token in the robot's URL unless it has one.
func withToken(robot, token string) (string, error) {
	u, err := url.Parse(robot)
	if err != nil {
		return "", fmt.Errorf("-robot: %w", err)
	}
	if q := u.Query(); token != "" && q.Get("token") == "" {
		q.Set("token", token)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// frameStats counts received frames and reads their latency from the time
// code the robot's test pattern stamps into them.
type frameStats struct {
	mu          sync.Mutex
	frames      int
	first, last time.Time
	size        image.Point
	latencies   []time.Duration
}

func (s *frameStats) add(frame image.Image, received time.Time) {
	stamp, err := timecode.Read(frame)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frames == 0 {
		s.first = received
	}
	s.frames++
	s.last = received
	s.size = frame.Bounds().Size()
	if err == nil {
		s.latencies = append(s.latencies, stamp.Latency(received))
	}
}

func (s *frameStats) summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := Summary{Frames: s.frames, Width: s.size.X, Height: s.size.Y, LatencyReads: len(s.latencies)}
	if elapsed := s.last.Sub(s.first).Seconds(); s.frames > 1 && elapsed > 0 {
		sum.FPS = float64(s.frames-1) / elapsed
	}
	if n := len(s.latencies); n > 0 {
		l := slices.Clone(s.latencies)
		slices.Sort(l)
		sum.LatencyMedianMS = float64(l[n/2].Microseconds()) / 1000
		sum.LatencyP99MS = float64(l[n*99/100].Microseconds()) / 1000
	}
	return sum
}
