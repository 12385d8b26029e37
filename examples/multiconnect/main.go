// Command multiconnect is RTCBot's multiple connections tutorial in Go: any
// number of viewers watch one camera at once, and come and go as they like.
//
// As a robot (the default) it serves a viewer page at / and /connect, which
// answers every offer with a fresh Connection sending the shared camera, up
// to -max at once. The camera is encoded once however many viewers there
// are. Each connection is kept in a set until it closes (OnClose), and the
// robot prints how many are open whenever that changes; Ctrl-C closes them
// all.
//
//	go run ./examples/multiconnect      # then open the URL it prints, in several tabs
//
// Only those who know the robot's token may watch. The robot takes it from
// -token or the environment variable RTCBOT_TOKEN, or else makes a random
// one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser, in as many tabs as you like.
//
// The page (index.html, embedded in the program) is RTCBot's: it loads the
// browser client from /rtcbot.js (rtcbot.JavaScriptHandler, also at
// /rtcbot.mjs as an ES module), plays conn.video, and calls
// conn.connect("/connect", {token}) with the token from its own URL, which
// goes as "Authorization: Bearer <token>"; /connect is rtcbot.NewHandler,
// which refuses offers without the token (401) or from pages of other sites
// (403).
//
// With -client it is a viewer instead, written in Go: it connects to a
// robot's /connect, counts the frames it receives for a while, disconnects,
// and does that again, -n times, printing the frames each connection got. It
// exits with an error if any connection received none. It sends the token
// from -token or RTCBOT_TOKEN as the URL's token parameter, as Python
// RTCBot's desktop does, unless the URL has one already; the URL the robot
// printed will do.
//
//	RTCBOT_TOKEN=... go run ./examples/multiconnect -client http://localhost:8080/connect -n 5 -for 2s
//	go run ./examples/multiconnect -client 'http://localhost:8080/?token=...'
//
// The robot's camera is a V4L2 one (package v4l2), so it links no OpenCV;
// built with -tags opencv it is an OpenCV camera instead, RTCBot's
// CVCamera. With no camera the robot says so and streams the synthetic
// test pattern.
// -loopback keeps connections on 127.0.0.1, for a robot and its viewers (Go
// or a browser) on one machine. The video is always encrypted, but the
// token travels as plainly as the page over http://.
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
	"net/url"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

type options struct {
	addr, camera string
	cam          rtcbot.CameraSettings
	token        string
	max          int
	client       string
	n            int
	watch, pause time.Duration
	loopback     bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", ":8080", "robot: address to serve the page and /connect on")
	flag.StringVar(&o.camera, "camera", "auto", `robot: camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv) or "testpattern"`)
	flag.IntVar(&o.cam.Device, "device", 0, "robot: camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "robot: frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "robot: frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "robot: frames per second")
	flag.IntVar(&o.max, "max", rtcbot.DefaultMaxConnections, "robot: the most viewers at once")
	flag.StringVar(&o.token, "token", "", "the token a viewer needs (default $RTCBOT_TOKEN; for a robot, else a random one)")
	flag.StringVar(&o.client, "client", "", "be a viewer of the robot whose /connect (or the page it printed) is at this URL, instead of a robot")
	flag.IntVar(&o.n, "n", 3, "viewer: how many times to connect")
	flag.DurationVar(&o.watch, "for", 3*time.Second, "viewer: how long each connection watches")
	flag.DurationVar(&o.pause, "pause", 500*time.Millisecond, "viewer: pause between connections")
	flag.BoolVar(&o.loopback, "loopback", false, "use only 127.0.0.1 for connections (robot and viewers, Go or a browser, on one machine)")
	flag.Parse()
	if o.token == "" {
		o.token = os.Getenv("RTCBOT_TOKEN")
	}
	settings := rtcbot.ConnectionSettings{LoopbackOnly: o.loopback}
	var err error
	if o.client != "" {
		err = runViewer(o, settings)
	} else {
		err = runRobot(o, settings)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// runRobot serves the camera to every viewer that connects.
func runRobot(o options, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.token == "" {
		o.token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}

	cam, err := exampleutil.OpenCamera(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer cam.Close()

	// The open connections. A connection leaves the set when it closes,
	// however that happens: the viewer left, it was lost, or the robot is
	// stopping.
	var viewers rtcbot.ConnectionSet
	var made atomic.Int64 // connections made so far, to number them
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The browser client the page loads (RTCBot's getRTCBotJS).
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	// A fresh connection for every offer with the token: RTCBot's
	// ConnectionHandler.
	access := rtcbot.HandlerSettings{Token: o.token, MaxConnections: o.max}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam)
		if err := viewers.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		id := made.Add(1)
		fmt.Printf("Connection %d from %s: %d open\n", id, r.RemoteAddr, viewers.Len())
		// This runs after the set has dropped conn, which it does on close too.
		conn.OnClose(func() { fmt.Printf("Connection %d closed: %d open\n", id, viewers.Len()) })
		return conn, nil
	}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser, in as many tabs as you like. (Press CTRL+C to quit)\n", exampleutil.PageURL(ln.Addr(), o.token))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	viewers.Close()
	return nil
}

// runViewer connects to the robot o.n times in turn, watching for o.watch
// each time.
func runViewer(o options, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	connectURL, err := viewerURL(o.client, o.token)
	if err != nil {
		return err
	}
	failed := 0
	for i := 1; i <= o.n; i++ {
		frames, size, err := watch(ctx, connectURL, o.watch, settings)
		if ctx.Err() != nil {
			break // Ctrl-C
		}
		switch {
		case err != nil:
			failed++
			fmt.Printf("Connection %d: %v\n", i, err)
		case frames == 0:
			failed++
			fmt.Printf("Connection %d: no frames in %v\n", i, o.watch)
		default:
			fmt.Printf("Connection %d: %d frames (%dx%d) in %v\n", i, frames, size.X, size.Y, o.watch)
		}
		if i < o.n {
			select {
			case <-time.After(o.pause):
			case <-ctx.Done():
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d connections received no video", failed, o.n)
	}
	return nil
}

// viewerURL is the robot's /connect at raw, with the token in its query
// unless it has one already. The robot's page will do for its /connect.
func viewerURL(raw, token string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("-client %q: want a robot's URL, like http://localhost:8080/connect", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/connect"
	}
	if q := u.Query(); token != "" && !q.Has("token") {
		q.Set("token", token)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// watch makes one connection to the robot at connectURL, counts the frames
// it receives for d, and closes it.
func watch(ctx context.Context, connectURL string, d time.Duration, settings rtcbot.ConnectionSettings) (frames int, size image.Point, err error) {
	conn, err := rtcbot.NewConnection(settings)
	if err != nil {
		return 0, size, err
	}
	defer conn.Close()
	// Subscribing before the offer asks the robot for its video.
	video := conn.Video().Subscribe()
	connect, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := rtcbot.Connect(connect, conn, connectURL, nil); err != nil {
		return 0, size, err
	}
	watching, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		frame, err := video.Get(watching)
		if err != nil {
			if errors.Is(err, rtcbot.ErrClosed) {
				return frames, size, fmt.Errorf("the robot closed the connection after %d frames", frames)
			}
			return frames, size, nil // watched for d
		}
		frames++
		size = frame.Bounds().Size()
	}
}
