// Command relay is the relay server of RTCBot's "connecting over 4G"
// tutorial, in Go: robots that cannot be reached (behind a mobile carrier's
// NAT, or a firewall that takes no incoming connection) dial out to it and
// keep a websocket open; desktops and browsers post their offers to it, for
// a robot by name, and it forwards each offer to the robot and the answer
// back. Only the offer and the answer pass through it: the video and the
// controls then flow between the robot and the desktop, peer to peer, or
// through a TURN server when no direct route works (see the README,
// "Across NATs and firewalls").
//
// Run it on a machine with a public address, then the robot anywhere, and
// the desktop anywhere:
//
//	go run ./examples/relay -addr :8080                            # prints its robot token
//	go run ./examples/offload/robot -relay ws://RELAY:8080/robots/rover -relay-token TOKEN
//	go run ./examples/offload/desktop -robot 'http://RELAY:8080/robots/rover/connect?token=ROBOT_TOKEN'
//
// A page at /view/NAME shows the robot's video in a browser and sends the
// keyboard (rtcbot.js's Keyboard), with the robot's token in the page's URL:
// http://RELAY:8080/view/rover?token=ROBOT_TOKEN.
//
// Only robots with the relay's token (-robot-token, or $RTCBOT_RELAY_TOKEN;
// a random one is made and printed without either) may dial in; desktops
// need the robot's own token, which the robot checks: the relay forwards
// their requests as they come. On a public address, serve it over HTTPS
// (-cert and -key, or behind a reverse proxy): tokens pass through it.
package main

import (
	"context"
	_ "embed"
	"errors"
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

//go:embed page.html
var page []byte

func main() {
	addr := flag.String("addr", ":8080", `address to serve on (":8080" is every interface)`)
	token := flag.String("robot-token", os.Getenv("RTCBOT_RELAY_TOKEN"), "token a robot must present to dial in (default $RTCBOT_RELAY_TOKEN; if empty, a random one is made and printed)")
	cert := flag.String("cert", "", "TLS certificate file, to serve HTTPS (with -key)")
	key := flag.String("key", "", "TLS key file (with -cert)")
	flag.Parse()
	if err := run(*addr, *token, *cert, *key); err != nil {
		log.Fatal(err)
	}
}

func run(addr, token, cert, key string) error {
	if (cert == "") != (key == "") {
		return errors.New("-cert and -key go together")
	}
	if token == "" {
		token = rtcbot.RandomToken()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	relay := rtcbot.NewRelay(rtcbot.RelaySettings{RobotToken: token})
	defer relay.Close()
	mux := http.NewServeMux()
	mux.Handle("/robots", relay)
	mux.Handle("/robots/", relay)
	mux.HandleFunc("GET /view/{name}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	scheme, ws := "http", "ws"
	if cert != "" {
		scheme, ws = "https", "wss"
	}
	fmt.Printf("======== Relay on %s://%s ========\n", scheme, ln.Addr())
	fmt.Printf("Robot: go run ./examples/offload/robot -relay %s://%s/robots/NAME -relay-token %s\n", ws, ln.Addr(), token)
	fmt.Printf("Desktop: go run ./examples/offload/desktop -robot '%s://%s/robots/NAME/connect?token=ROBOT_TOKEN'\n", scheme, ln.Addr())
	fmt.Println("(Press CTRL+C to quit)")
	served := make(chan error, 1)
	go func() {
		if cert != "" {
			served <- srv.ServeTLS(ln, cert, key)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	relay.Close() // the robots' websockets: Shutdown leaves them open
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
