// Command streaming is RTCBot's video streaming tutorial in Go: the robot
// serves a web page, and every browser that opens it watches the robot's
// camera; a browser can send its own camera back, which the robot shows.
//
//	go run ./examples/streaming      # then open the URL it prints
//
// Only those who know the robot's token may watch. The robot takes it from
// -token or the environment variable RTCBOT_TOKEN, or else makes a random
// one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser.
//
// The page (index.html, embedded in the program) is RTCBot's: it loads the
// browser client from /rtcbot.js (rtcbot.JavaScriptHandler, with the same
// client as an ES module at /rtcbot.mjs), subscribes a <video> to
// conn.video and calls conn.connect("/connect", {token}) with the token
// from its own URL, which posts the offer with "Authorization: Bearer
// <token>" and applies the answer. /connect is rtcbot.NewHandler, which
// refuses offers without the token (401) or from pages of other sites (403),
// and answers each other offer with a fresh Connection, so any number of
// browsers can watch at once, up to rtcbot.DefaultMaxConnections. They all
// send the same camera, which is encoded once however many connections send
// it.
//
// The second half of the tutorial: with "Send my camera to the robot"
// ticked (the page's URL then ends in &camera=1) the page also sends the
// browser's camera (getUserMedia and conn.video.putSubscription), and the
// robot shows it: conn.Video() is its incoming video, handed to a display
// as RTCBot's display.putSubscription(conn.video.subscribe()). It is off by
// default, as a page that asks for the camera of everyone who only wants to
// watch would surprise them. The display is a headless one that prints the
// frame rate and, with -snapshot, writes the latest frame to a PNG file, or
// in a build with -tags opencv and a screen an OpenCV window; -display
// chooses. The robot says "Receiving the browser's camera from ADDR: WxH."
// when a browser's first frame arrives; the latest browser to send its
// camera has the display. Browsers give a page the camera only on https://
// or from localhost.
//
// Its camera is a V4L2 one (package v4l2), so the robot links no OpenCV;
// built with -tags opencv (go run -tags opencv ./examples/streaming, which
// needs OpenCV 4) it has an OpenCV camera instead, RTCBot's CVCamera, and
// the window. With no camera it says so and streams the synthetic test
// pattern. A robot on another machine is reached at
// http://ROBOT:8080/?token=... (no STUN server is used, so both must be on
// one network). The video is always encrypted, but the token travels as
// plainly as the page over http://.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"image"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

type options struct {
	addr, token, camera string
	cam                 rtcbot.CameraSettings
	display, snapshot   string
	loopback            bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", ":8080", "address to serve the page and /connect on")
	flag.StringVar(&o.camera, "camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv) or "testpattern"`)
	flag.IntVar(&o.cam.Device, "device", 0, "camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "frames per second")
	flag.StringVar(&o.display, "display", "auto", `display for the browser's camera: "auto" (an OpenCV window in a -tags opencv build with a screen, else headless), "cv" (needs -tags opencv) or "headless"`)
	flag.StringVar(&o.snapshot, "snapshot", "", "a PNG file the headless display writes the browser's latest frame to (default none)")
	flag.BoolVar(&o.loopback, "loopback", false, "use only 127.0.0.1 for connections (a Go client or a browser on this machine, tests)")
	flag.StringVar(&o.token, "token", "", "the token a viewer needs (default $RTCBOT_TOKEN, else a random one)")
	flag.Parse()
	if o.display != "auto" && o.display != "cv" && o.display != "headless" {
		log.Fatalf("unknown -display %q (want auto, cv or headless)", o.display)
	}
	if o.token == "" {
		o.token = os.Getenv("RTCBOT_TOKEN")
	}
	if o.token == "" {
		o.token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := exampleutil.OpenCamera(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer cam.Close()
	// Where the browsers' cameras are shown, opened with the first one.
	screen := &browserCameras{kind: o.display, snapshot: o.snapshot}
	defer screen.close()

	settings := rtcbot.ConnectionSettings{LoopbackOnly: o.loopback}
	// The open viewers, so that the robot can close them all when it stops.
	var viewers rtcbot.ConnectionSet
	var readers sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The browser client the page loads (RTCBot's getRTCBotJS).
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	// A fresh connection per offer with the token, every one sending the
	// same camera.
	access := rtcbot.HandlerSettings{Token: o.token, MaxConnections: rtcbot.DefaultMaxConnections}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam)
		// A browser that sends its camera: show it, and say so.
		conn.Video().OnTrack(func(_ string, camera rtcbot.Source[image.Image]) {
			frames := camera.Subscribe()
			readers.Go(func() { reportCamera(r.RemoteAddr, frames) })
			if err := screen.show(camera); err != nil {
				fmt.Printf("Cannot show the browser's camera: %v\n", err)
			}
		})
		if err := viewers.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		fmt.Printf("New viewer from %s.\n", r.RemoteAddr)
		conn.OnClose(func() { fmt.Printf("Viewer from %s left.\n", r.RemoteAddr) })
		return conn, nil
	}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser. (Press CTRL+C to quit)\n", exampleutil.PageURL(ln.Addr(), o.token))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown) // no new viewers; offers being answered finish
	viewers.Close()
	readers.Wait()
	return nil
}

// reportCamera reads a browser's camera until the connection closes, saying
// when its first frame arrives and, at the end, how many came.
func reportCamera(from string, frames rtcbot.Subscription[image.Image]) {
	n := 0
	for {
		frame, err := frames.Get(context.Background())
		if err != nil {
			if n > 0 {
				fmt.Printf("The browser's camera from %s: %d frames.\n", from, n)
			}
			return // rtcbot.ErrClosed: the connection closed
		}
		if n++; n == 1 {
			size := frame.Bounds().Size()
			fmt.Printf("Receiving the browser's camera from %s: %dx%d.\n", from, size.X, size.Y)
		}
	}
}

// browserCameras is the display the browsers' cameras are shown on, opened
// when the first one arrives: the latest browser to send one has it.
type browserCameras struct {
	kind, snapshot string

	mu   sync.Mutex
	disp display
}

// display is what frames are shown on: a window or a headless display.
type display interface {
	PutSubscription(rtcbot.Getter[image.Image])
	Close() error
}

// show shows camera on the display (RTCBot: display.putSubscription), in
// place of what it showed.
func (b *browserCameras) show(camera rtcbot.Source[image.Image]) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.disp == nil {
		d, err := openDisplay(b.kind, b.snapshot)
		if err != nil {
			return err
		}
		b.disp = d
	}
	b.disp.PutSubscription(camera)
	return nil
}

func (b *browserCameras) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.disp != nil {
		if err := b.disp.Close(); err != nil && !errors.Is(err, rtcbot.ErrClosed) {
			fmt.Printf("Display: %v\n", err)
		}
	}
}

// openDisplay opens the display asked for; "auto" falls back to a headless
// display, saying so in one line.
func openDisplay(kind, snapshot string) (display, error) {
	headless := func() display {
		return rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{
			Interval:     3 * time.Second,
			SnapshotPath: snapshot,
			Report: func(s rtcbot.DisplayStats) {
				if s.FPS > 0 {
					fmt.Printf("Display: the browser's camera, %d frames, %.1f fps, %dx%d\n", s.Frames, s.FPS, s.Size.X, s.Size.Y)
				}
			},
		})
	}
	switch kind {
	case "headless":
		return headless(), nil
	case "cv":
		return exampleutil.OpenWindow("browser camera", 1)
	case "auto":
		w, err := exampleutil.OpenWindow("browser camera", 1)
		if err == nil {
			return w, nil
		}
		fmt.Printf("No window (%v): using a headless display for the browser's camera.\n", err)
		return headless(), nil
	}
	return nil, fmt.Errorf("unknown display %q", kind)
}
