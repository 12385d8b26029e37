// Command streaming is RTCBot's video streaming tutorial in Go: the robot
// serves a web page, and every browser that opens it watches the robot's
// camera.
//
//	go run ./examples/streaming      # then open the URL it prints
//
// Only those who know the robot's token may watch. The robot takes it from
// -token or the environment variable RTCBOT_TOKEN, or else makes a random
// one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser.
//
// The page (index.html, embedded in the program) does what RTCBot's
// JavaScript client does: it makes an offer to receive video with the
// "default" data channel, waits for ICE gathering to complete, posts the
// offer to /connect, with the token from its own URL as
// "Authorization: Bearer <token>", and shows the answer's video. /connect is
// rtcbot.NewHandler, which refuses offers without the token (401) or from
// pages of other sites (403), and answers each other offer with a fresh
// Connection, so any number of browsers can watch at once, up to
// rtcbot.DefaultMaxConnections. They all send the same camera, which is
// encoded once however many connections send it.
//
// With no camera it says so and streams the synthetic test pattern. A robot
// on another machine is reached at http://ROBOT:8080/?token=... (no STUN
// server is used, so both must be on one network). The video is always
// encrypted, but the token travels as plainly as the page over http://.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", ":8080", "address to serve the page and /connect on")
	camera := flag.String("camera", "auto", `camera: "auto" (OpenCV camera, else the test pattern), "cv" or "testpattern"`)
	device := flag.Int("device", 0, "camera number")
	width := flag.Int("width", 320, "frame width")
	height := flag.Int("height", 240, "frame height")
	fps := flag.Int("fps", 30, "frames per second")
	loopback := flag.Bool("loopback", false, "use only 127.0.0.1 for connections (a Go client on this machine, tests; not for browsers)")
	token := flag.String("token", "", "the token a viewer needs (default $RTCBOT_TOKEN, else a random one)")
	flag.Parse()
	if *token == "" {
		*token = os.Getenv("RTCBOT_TOKEN")
	}
	if *token == "" {
		*token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}
	cs := rtcbot.CameraSettings{Width: *width, Height: *height, FPS: *fps, Device: *device}
	if err := run(*addr, *token, *camera, cs, rtcbot.ConnectionSettings{LoopbackOnly: *loopback}); err != nil {
		log.Fatal(err)
	}
}

func run(addr, token, camera string, cs rtcbot.CameraSettings, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := exampleutil.OpenCamera(camera, cs)
	if err != nil {
		return err
	}
	defer cam.Close()

	// The open viewers, so that the robot can close them all when it stops.
	var viewers rtcbot.ConnectionSet
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// A fresh connection per offer with the token, every one sending the
	// same camera.
	access := rtcbot.HandlerSettings{Token: token, MaxConnections: rtcbot.DefaultMaxConnections}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam)
		if err := viewers.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		fmt.Printf("New viewer from %s.\n", r.RemoteAddr)
		conn.OnClose(func() { fmt.Printf("Viewer from %s left.\n", r.RemoteAddr) })
		return conn, nil
	}))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// Limits, so that slow or idle clients cannot hold the robot's
	// connections open. Writing an answer waits for ICE gathering, a few
	// seconds at most.
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser. (Press CTRL+C to quit)\n", exampleutil.PageURL(ln.Addr(), token))
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
	return nil
}
