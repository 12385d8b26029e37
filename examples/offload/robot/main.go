// Command robot is the robot side of RTCBot's offloading tutorial, in Go: it
// streams its camera to the desktop that connects and prints the control
// messages it receives back.
//
// Run it on the robot, then the desktop command on the desktop with the
// address the robot prints (it carries the robot's token):
//
//	go run ./examples/offload/robot                 # serves http://0.0.0.0:8080/connect
//	go run ./examples/offload/desktop -robot 'http://ROBOT:8080/connect?token=...'
//
// Only a desktop with the token may connect: -token or $RTCBOT_TOKEN sets
// it, and without either the robot makes a random one and prints it. The
// robot serves one desktop at a time and outlives them: when a desktop
// leaves, the next one can connect, the camera open all along; a desktop
// that connects while another is connected takes over (a restarted desktop
// need not wait for its old connection to time out). When no control
// message has come for -watchdog, it says so: the place to stop the motors.
//
// Its camera is a V4L2 one (package v4l2), so the robot links no OpenCV;
// built with -tags opencv (go run -tags opencv ./examples/offload/robot,
// which needs OpenCV 4) it is an OpenCV camera instead, RTCBot's CVCamera.
// With no camera it says so and streams the synthetic test pattern, whose
// frames carry their capture time so the desktop can measure latency.
//
// A robot that cannot be reached (on a mobile network, behind a firewall)
// dials out to a relay server instead (examples/relay) with -relay, and
// desktops reach it through the relay; it still serves -addr too.
//
// It streams VP8 (libvpx, BSD). -codec h264 needs a build with the h264 tag
// (go run -tags h264 ./examples/offload/robot -codec h264), which imports
// package codec/h264 (h264.go): that links libx264 and libavcodec, under the
// GPL, and about 15 MB of shared libraries, which the default build does
// without.
//
// On a Raspberry Pi, -camera pi streams the camera module's H.264 from the
// Pi's hardware encoder (through rpicam-vid; sudo apt install rpicam-apps)
// as it is, encoding nothing itself, and -camera cmd:COMMAND the H.264
// Annex-B stream that COMMAND writes on its standard output (split into
// words as a shell would, run without one). Both send H.264, which needs
// no h264 build of the robot; a Go desktop decodes it when built with the
// tag (go run -tags h264 ./examples/offload/desktop), a Python one or a
// browser as it is:
//
//	go run ./examples/offload/robot -camera pi -width 640 -height 480
//	go run ./examples/offload/robot -camera 'cmd:rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 30 --flush -o -'
//
// -camera pi-raw streams the same camera's raw frames, encoded by rtcbot
// (VP8, or H.264 in an h264 build) at the bitrate each link carries.
//
// Any WHEP player (a page, GStreamer's whepsrc, the desktop with -whep)
// may watch the robot at /whep/, with the same token as a bearer token:
// video only, no controls. With -whip URL the robot also publishes its
// video to a media server's WHIP endpoint (LiveKit's /whip/v1, MediaMTX,
// a cloud service; -whip-token or $RTCBOT_WHIP_TOKEN is its bearer token),
// again when the server restarts, for viewers to watch through the server:
// the robot sends its picture there once, however many watch.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

type options struct {
	addr, camera, token, codec string
	relay, relayToken          string
	whip, whipToken            string
	cam                        rtcbot.CameraSettings
	watchdog                   time.Duration
	loopback                   bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", ":8080", `address to serve /connect on (":8080" is every interface; "127.0.0.1:8080" this machine only)`)
	flag.StringVar(&o.camera, "camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv), "testpattern", `+
		`"pi" (a Raspberry Pi camera through rpicam-vid: the Pi's hardware H.264, sent as it is), "pi-raw" (its raw frames, encoded here) `+
		`or "cmd:COMMAND" (the H.264 Annex-B stream COMMAND writes on standard output, sent as it is; split into words as a shell would, run without one)`)
	flag.IntVar(&o.cam.Device, "device", 0, "camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "frames per second")
	flag.StringVar(&o.token, "token", os.Getenv("RTCBOT_TOKEN"), "token a desktop must present (default $RTCBOT_TOKEN; if empty, a random one is made and printed)")
	flag.StringVar(&o.codec, "codec", "", `video codec: "vp8" or "h264" (x264, in builds with -tags h264; a Python desktop and browsers decode both, a Go desktop built with -tags h264 too); `+
		`default vp8, or h264 for -camera pi and cmd:, whose H.264 is sent as it is, in any build`)
	flag.DurationVar(&o.watchdog, "watchdog", rtcbot.DefaultWatchdogTimeout, "report the controls lost after this long without a control message")
	flag.StringVar(&o.relay, "relay", "", "also take desktops through a relay server (examples/relay) that this robot dials out to: its robot URL, ws://RELAY:8080/robots/NAME (wss:// over HTTPS), for a robot that cannot be reached (a mobile network)")
	flag.StringVar(&o.relayToken, "relay-token", os.Getenv("RTCBOT_RELAY_TOKEN"), "the relay's robot token (default $RTCBOT_RELAY_TOKEN)")
	flag.StringVar(&o.whip, "whip", "", "also publish the video to this WHIP endpoint of a media server (LiveKit: http://HOST:7880/whip/v1), for viewers watching through it")
	flag.StringVar(&o.whipToken, "whip-token", os.Getenv("RTCBOT_WHIP_TOKEN"), "the WHIP endpoint's bearer token (default $RTCBOT_WHIP_TOKEN; for LiveKit, a join token allowed to publish)")
	flag.BoolVar(&o.loopback, "loopback", false, "use only 127.0.0.1 for the connection (robot and desktop on one machine)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// h264Built is whether this build has H.264 (the h264 tag: h264.go).
var h264Built = false

// encoded reports whether a -camera kind is H.264 encoded elsewhere, sent
// as it is.
func encoded(camera string) bool { return camera == "pi" || strings.HasPrefix(camera, "cmd:") }

func run(o options) error {
	switch {
	case encoded(o.camera) && o.codec != "" && !strings.EqualFold(o.codec, "h264"):
		return fmt.Errorf("-camera %s sends H.264 as it is: -codec %s needs a camera whose frames are encoded here, such as -camera pi-raw", o.camera, o.codec)
	case !encoded(o.camera) && strings.EqualFold(o.codec, "h264") && !h264Built:
		return errors.New("-codec h264 needs a build with H.264 (x264 and libavcodec, GPL): go run -tags h264 ./examples/offload/robot -codec h264")
	}
	if u, err := url.Parse(o.whip); o.whip != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https")) {
		return fmt.Errorf("-whip %q: want the http:// or https:// address of a WHIP endpoint", o.whip)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	video, err := exampleutil.OpenVideo(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer video.Close() // open across desktops
	codec := o.codec
	if c := video.Codec(); c != "" {
		codec = c
	}

	token := o.token
	if token == "" {
		token = rtcbot.RandomToken()
	}
	var desktops rtcbot.ConnectionSet
	var printing sync.WaitGroup
	// One desktop at a time, as in the tutorial; a new one takes over.
	handler := rtcbot.NewHandler(rtcbot.HandlerSettings{Token: token, MaxConnections: 1, ReplaceOnReconnect: true},
		func(r *http.Request) (*rtcbot.Connection, error) {
			conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: o.loopback, Video: rtcbot.VideoSettings{Codec: codec}})
			if err != nil {
				return nil, err
			}
			video.Send(conn)
			// The controls, with a watchdog: the robot hears when they stop.
			controls := rtcbot.NewWatchdog[any](o.watchdog, nil)
			conn.SubscribeWith(controls)
			controls.OnTimeout(func() { fmt.Printf("No control message for %v: stopping the motors.\n", o.watchdog) })
			controls.OnResume(func() { fmt.Println("Controls resumed.") })
			printing.Add(1)
			go func() {
				defer printing.Done()
				for {
					msg, err := controls.Get(context.Background())
					if err != nil {
						return // the connection closed, and every message is printed
					}
					fmt.Println("Control message:", format(msg))
				}
			}()
			if err := desktops.Add(conn); err != nil { // closes conn if the robot is stopping
				return nil, err
			}
			fmt.Printf("Desktop %s connected.\n", r.RemoteAddr)
			conn.OnClose(func() { fmt.Printf("Desktop %s left.\n", r.RemoteAddr) })
			return conn, nil
		})
	// WHEP players only watch: several at once, each one more copy of the
	// video on the robot's uplink (a media server, -whip, sends one).
	players := rtcbot.NewWHEPHandler(rtcbot.HandlerSettings{Token: token, MaxConnections: 4},
		func(r *http.Request) (*rtcbot.Connection, error) {
			conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: o.loopback, Video: rtcbot.VideoSettings{Codec: codec}})
			if err != nil {
				return nil, err
			}
			video.Send(conn)
			if err := desktops.Add(conn); err != nil {
				return nil, err
			}
			fmt.Printf("WHEP player %s watching.\n", r.RemoteAddr)
			conn.OnClose(func() { fmt.Printf("WHEP player %s left.\n", r.RemoteAddr) })
			return conn, nil
		})
	mux := http.NewServeMux()
	mux.Handle("/connect", handler)
	mux.Handle("/whep/", players)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Desktop: go run ./examples/offload/desktop -robot '%s'\n", connectURL(ln.Addr(), token))
	relayed := make(chan error, 1)
	if o.relay != "" {
		desktopURL, err := relayConnectURL(o.relay, token)
		if err != nil {
			return err
		}
		fmt.Printf("Through the relay: go run ./examples/offload/desktop -robot '%s'\n", desktopURL)
		go func() {
			err := rtcbot.ServeRelay(ctx, o.relay, handler, rtcbot.WebsocketSettings{Token: o.relayToken})
			if ctx.Err() == nil {
				relayed <- err // not the robot stopping
			}
		}()
	}
	fmt.Printf("WHEP players: %s with the bearer token %s\n", strings.TrimSuffix(connectURL(ln.Addr(), token), "/connect?token="+token)+"/whep/", token)
	fmt.Println("(Press CTRL+C to quit)")
	if o.whip != "" {
		fmt.Printf("Publishing to %s over WHIP.\n", o.whip)
		go func() {
			// Until the robot stops: it publishes again whenever the
			// server comes back, and logs why it cannot meanwhile.
			rtcbot.PublishWHIP(ctx, o.whip, o.whipToken, rtcbot.ReconnectSettings{}, func() (*rtcbot.Connection, error) {
				conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: o.loopback, Video: rtcbot.VideoSettings{Codec: codec}})
				if err != nil {
					return nil, err
				}
				video.Send(conn)
				conn.OnReady(func() { fmt.Println("Published over WHIP.") })
				return conn, nil
			})
		}()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	case err := <-relayed: // a bad -relay URL
		return fmt.Errorf("-relay: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown) // no new desktops; an offer being answered finishes
	desktops.Close()
	printing.Wait() // every received message is printed
	return nil
}

// relayConnectURL is the address a desktop posts its offer to through the
// relay whose robot URL is relay (ws://RELAY/robots/NAME), with token.
func relayConnectURL(relay, token string) (string, error) {
	u, err := url.Parse(relay)
	if err != nil {
		return "", fmt.Errorf("-relay %q: %w", relay, err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("-relay %q: want a ws:// or wss:// URL, the relay's /robots/NAME", relay)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/connect"
	u.RawQuery = "token=" + url.QueryEscape(token)
	return u.String(), nil
}

// connectURL is the robot's /connect address with its token, for a desktop
// on this machine (on another machine, put the robot's address in).
func connectURL(a net.Addr, token string) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/connect?token=" + token
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/connect?token=" + token
}

// format prints a control message the way the Python tutorial's robot does:
// gamepad events as Python prints RTCBot's event dict.
func format(msg any) string {
	if e, ok := rtcbot.InputEventFromMessage(msg); ok {
		return e.String()
	}
	return fmt.Sprint(msg)
}
