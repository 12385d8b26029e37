// Command streaming is RTCBot's video streaming tutorial in Go: the robot
// serves a web page, and every browser that opens it watches the robot's
// camera.
//
//	go run ./examples/streaming      # then open http://localhost:8080/
//
// The page (index.html, embedded in the program) does what RTCBot's
// JavaScript client does: it makes an offer to receive video with the
// "default" data channel, waits for ICE gathering to complete, posts the
// offer to /connect and shows the answer's video. /connect is
// rtcbot.Handler, which answers each offer with a fresh Connection, so any
// number of browsers can watch at once. They all send the same camera, which
// is encoded once however many connections send it.
//
// With no camera it says so and streams the synthetic test pattern. A robot
// on another machine is reached at http://ROBOT:8080/ (no STUN server is
// used, so both must be on one network).
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
	"github.com/rtcbot-go/rtcbot/cv"
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
	flag.Parse()
	cs := rtcbot.CameraSettings{Width: *width, Height: *height, FPS: *fps, Device: *device}
	if err := run(*addr, *camera, cs, rtcbot.ConnectionSettings{LoopbackOnly: *loopback}); err != nil {
		log.Fatal(err)
	}
}

func run(addr, camera string, cs rtcbot.CameraSettings, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := openCamera(camera, cs)
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
	// A fresh connection per offer, every one sending the same camera.
	mux.Handle("/connect", rtcbot.Handler(func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		if err := conn.Video().PutSubscription(cam); err != nil {
			conn.Close()
			return nil, err
		}
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser. (Press CTRL+C to quit)\n", pageURL(ln.Addr()))
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

// pageURL is the address to open in a browser on this machine.
func pageURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// openCamera opens the camera asked for; "auto" falls back to the test
// pattern, saying so in one line.
func openCamera(kind string, cs rtcbot.CameraSettings) (*rtcbot.Camera, error) {
	switch kind {
	case "testpattern":
		return rtcbot.NewTestPatternCamera(cs), nil
	case "cv":
		return cv.NewCamera(cs)
	case "auto":
		cam, err := cv.NewCamera(cs)
		if err == nil {
			return cam, nil
		}
		fmt.Printf("No camera (%v): streaming the test pattern instead.\n", err)
		return rtcbot.NewTestPatternCamera(cs), nil
	}
	return nil, fmt.Errorf("unknown camera %q", kind)
}
