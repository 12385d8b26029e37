// Command robot is the robot side of RTCBot's offloading tutorial, in Go: it
// streams its camera to whoever connects and prints the control messages it
// receives back.
//
// Run it on the robot, then the desktop command on the desktop:
//
//	go run ./examples/offload/robot                 # serves http://0.0.0.0:8080/connect
//	go run ./examples/offload/desktop -robot http://ROBOT:8080/connect
//
// With no camera it says so and streams the synthetic test pattern, whose
// frames carry their capture time so the desktop can measure latency.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/cv"
)

func main() {
	addr := flag.String("addr", ":8080", "address to serve /connect on")
	camera := flag.String("camera", "auto", `camera: "auto" (OpenCV camera, else the test pattern), "cv" or "testpattern"`)
	device := flag.Int("device", 0, "camera number")
	width := flag.Int("width", 320, "frame width")
	height := flag.Int("height", 240, "frame height")
	fps := flag.Int("fps", 30, "frames per second")
	loopback := flag.Bool("loopback", false, "use only 127.0.0.1 for the connection (robot and desktop on one machine)")
	flag.Parse()
	if err := run(*addr, *camera, rtcbot.CameraSettings{Width: *width, Height: *height, FPS: *fps, Device: *device}, *loopback); err != nil {
		log.Fatal(err)
	}
}

func run(addr, camera string, cs rtcbot.CameraSettings, loopback bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := openCamera(camera, cs)
	if err != nil {
		return err
	}
	defer cam.Close()

	conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: loopback})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Video().PutSubscription(cam); err != nil {
		return err
	}
	controls := conn.SubscribeFunc(func(msg any) {
		fmt.Println("Control message:", format(msg))
	})

	// The robot has one connection, as in the tutorial: the first desktop
	// to connect gets it.
	var once sync.Once
	handler := rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		var c *rtcbot.Connection
		once.Do(func() { c = conn })
		if c == nil {
			return nil, errors.New("the robot is connected to another desktop already")
		}
		return c, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/connect", handler)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("======== Running on http://%s ========\n(Press CTRL+C to quit)\n", ln.Addr())
	go srv.Serve(ln)

	select {
	case <-ctx.Done():
	case <-conn.Done():
		if err := conn.Err(); err != nil {
			log.Printf("connection closed: %v", err)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	conn.Close()
	<-controls.Done() // every received message is printed
	return nil
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

// format prints a control message the way the Python tutorial's robot does:
// gamepad events as Python prints RTCBot's event dict.
func format(msg any) string {
	if e, ok := rtcbot.InputEventFromMessage(msg); ok {
		return e.String()
	}
	return fmt.Sprint(msg)
}
