// Command remotecontrol is RTCBot's remote control tutorial in Go: a browser
// watches the robot's camera and drives the robot with its keyboard or a
// gamepad, over the connection's data channel.
//
//	go run ./examples/remotecontrol      # then open the URL it prints
//
// Only those who know the robot's token may drive it. The robot takes it
// from -token or the environment variable RTCBOT_TOKEN, or else makes a
// random one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser.
//
// The page (index.html, embedded in the program) is RTCBot's: it loads the
// browser client from /rtcbot.js (rtcbot.JavaScriptHandler, also at
// /rtcbot.mjs as an ES module), shows the robot's video, and subscribes the
// connection to an rtcbot.Keyboard and an rtcbot.Gamepad, which send every
// key press and release as {type: "keydown"|"keyup", altKey, shiftKey,
// keyCode, key, ...} and the first gamepad's changes, polled at 10 Hz, as
// {type: "btnN", value: true|false} and {type: "axisN", value: -1..1}. Those
// are the browser's shapes, not the InputEvents of rtcbot's own Gamepad and
// Keyboard. The robot receives them with conn.SubscribeFunc (RTCBot's
// @conn.subscribe), prints each one, turns it into the InputEvent the
// robot's own keyboard or gamepad would give (rtcbot.BrowserInputEvent:
// KEY_W, BTN_SOUTH, ABS_Y, ...), so it takes a Go or Python desktop's
// gamepad as well, and turns those into motor commands as the tutorial
// does: W/S or the up and down arrows drive, A/D or left and
// right turn, and a gamepad's left stick does both. It prints the command
// whenever it changes, and stops the motors when the connection closes.
//
// The page sends the token from its own URL with its offer
// (conn.connect("/connect", {token}), as "Authorization: Bearer <token>").
// /connect is rtcbot.NewHandler, which refuses offers without the token
// (401) or from pages of other sites (403), and gives every other offer a
// fresh connection sending the camera. One driver at a time: with
// MaxConnections 1 and ReplaceOnReconnect, a new offer (a reloaded page, a
// second browser) closes the connection before it, which stops the motors,
// and takes over. The video and the controls are always encrypted, but the
// token travels as plainly as the page over http://.
//
// Its camera is a V4L2 one (package v4l2), so the robot links no OpenCV;
// built with -tags opencv it is an OpenCV camera instead, RTCBot's
// CVCamera. With no camera it says so and streams the synthetic test
// pattern.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", ":8080", "address to serve the page and /connect on")
	camera := flag.String("camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv) or "testpattern"`)
	device := flag.Int("device", 0, "camera number")
	width := flag.Int("width", 320, "frame width")
	height := flag.Int("height", 240, "frame height")
	fps := flag.Int("fps", 30, "frames per second")
	loopback := flag.Bool("loopback", false, "use only 127.0.0.1 for connections (a Go client or a browser on this machine, tests)")
	token := flag.String("token", "", "the token a driver needs (default $RTCBOT_TOKEN, else a random one)")
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

	// The open connections, so that the robot can close them all when it
	// stops, and the drivers, so that it can wait for each to stop its motors.
	var conns rtcbot.ConnectionSet
	var drivers sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The browser client the page loads (RTCBot's getRTCBotJS).
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	// A fresh connection per offer with the token, one driver at a time: a
	// new offer closes the previous connection and takes over.
	access := rtcbot.HandlerSettings{Token: token, MaxConnections: 1, ReplaceOnReconnect: true}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam)
		// RTCBot: @conn.subscribe. The function runs on a goroutine of its
		// own, in order; the callback is done once the connection has closed
		// and every message received has been handled.
		d := &driver{keys: make(map[string]bool)}
		cb := conn.SubscribeFunc(d.handle)
		if err := conns.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		drivers.Go(func() {
			<-cb.Done()
			d.stop(fmt.Sprintf("connection from %s closed", r.RemoteAddr))
		})
		fmt.Printf("New connection from %s.\n", r.RemoteAddr)
		return conn, nil
	}))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
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
	srv.Shutdown(shutdown)
	conns.Close()
	drivers.Wait() // until every message received is handled and the motors stopped
	return nil
}

// The keys that drive (RTCBot's tutorial uses W, A, S and D), by their
// evdev names, as rtcbot.BrowserInputEvent and rtcbot's own Keyboard give
// them.
var (
	forwardKeys, backKeys         = []string{"KEY_W", "KEY_UP"}, []string{"KEY_S", "KEY_DOWN"}
	leftKeys, rightKeys           = []string{"KEY_A", "KEY_LEFT"}, []string{"KEY_D", "KEY_RIGHT"}
	stickRange            float64 = 32768 // ABS_X and ABS_Y, as an Xbox pad reports them
)

// deadZone is how far a stick must move before it drives.
const deadZone = 0.1

// driver turns one connection's controls into motor commands.
type driver struct {
	mu             sync.Mutex
	keys           map[string]bool // held keys, by evdev name
	stickX, stickY float64         // the gamepad's left stick, -1 to 1
	forward, turn  float64         // the command, each from -1 to 1
}

// handle is called with each message received, in order. The page's
// messages are in the browser's shapes; rtcbot.BrowserInputEvent turns
// them into the InputEvents of rtcbot's own Keyboard and Gamepad (and
// passes those through), so the same robot takes a Go or Python desktop's
// gamepad too.
func (d *driver) handle(msg any) {
	text, _ := json.Marshal(msg)
	fmt.Printf("Control message: %s\n", text)
	e, ok := rtcbot.BrowserInputEvent(msg)
	if !ok {
		return // not a control message
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case e.Event == rtcbot.InputKey && strings.HasPrefix(e.Code, "KEY_"):
		d.keys[e.Code] = e.State != 0
	case e.Event == rtcbot.InputKey:
		// Buttons do nothing on this robot; a horn would go here.
		if e.State == 1 {
			fmt.Printf("Button %s pressed.\n", e.Code)
		}
		return
	case e.Event == rtcbot.InputAbsolute && e.Code == "ABS_X":
		d.stickX = max(float64(e.State)/stickRange, -1)
	case e.Event == rtcbot.InputAbsolute && e.Code == "ABS_Y":
		d.stickY = max(float64(e.State)/stickRange, -1)
	default:
		return
	}
	d.update()
}

// update works out the command and prints it if it changed. d.mu is held.
func (d *driver) update() {
	held := func(codes []string) float64 {
		for _, c := range codes {
			if d.keys[c] {
				return 1
			}
		}
		return 0
	}
	forward := held(forwardKeys) - held(backKeys)
	turn := held(rightKeys) - held(leftKeys)
	if math.Abs(d.stickY) > deadZone {
		forward = -d.stickY // a stick pushed forward reads negative
	}
	if math.Abs(d.stickX) > deadZone {
		turn = d.stickX
	}
	if forward == d.forward && turn == d.turn {
		return
	}
	d.forward, d.turn = forward, turn
	fmt.Printf("Drive: forward %+.2f, turn %+.2f\n", forward, turn)
}

// stop stops the motors, saying why, if they were running.
func (d *driver) stop(why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.forward == 0 && d.turn == 0 {
		return
	}
	d.forward, d.turn = 0, 0
	fmt.Printf("Drive: forward %+.2f, turn %+.2f (%s)\n", 0.0, 0.0, why)
}
