// Command webrtc is RTCBot's WebRTC tutorial in Go: messages both ways
// between a web page and the robot, over the connection's data channel,
// with no video or audio.
//
//	go run ./examples/webrtc      # then open the URL it prints
//
// Only those who know the robot's token may talk to it. The robot takes it
// from -token or the environment variable RTCBOT_TOKEN, or else makes a
// random one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser.
//
// The page (index.html, embedded in the program) is RTCBot's: it loads the
// browser client from /rtcbot.js (rtcbot.JavaScriptHandler, also at
// /rtcbot.mjs as an ES module), connects with conn.connect("/connect",
// {token}), which posts the offer with the token from its own URL as
// "Authorization: Bearer <token>", and sends what is typed in its text box
// with conn.put_nowait. The robot receives each message with
// conn.SubscribeFunc (RTCBot's @conn.subscribe), prints it, and answers with
// conn.Put: {"reply": the text in capitals}. It also sends a message of its
// own every second (-every): {"count": n, "time": "15:04:05"}, its clock.
//
// Messages go as JSON text, as in RTCBot: the page sends a string as it is,
// and the robot decodes what it receives as JSON where it can (typing 42
// sends the number 42), else takes the text; the robot's messages arrive in
// the page as the JSON text it sent, which the page parses. /connect is
// rtcbot.NewHandler, which refuses offers without the token (401) or from
// pages of other sites (403), and answers each other offer with a fresh
// Connection, so several pages can talk to the robot at once. The messages
// are always encrypted, but the token travels as plainly as the page over
// http://.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"log"
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
	every := flag.Duration("every", time.Second, "how often the robot sends its clock")
	loopback := flag.Bool("loopback", false, "use only 127.0.0.1 for connections (a Go client or a browser on this machine, tests)")
	token := flag.String("token", "", "the token a page needs (default $RTCBOT_TOKEN, else a random one)")
	flag.Parse()
	if *every <= 0 {
		log.Fatal("-every must be positive")
	}
	if *token == "" {
		*token = os.Getenv("RTCBOT_TOKEN")
	}
	if *token == "" {
		*token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}
	if err := run(*addr, *token, *every, rtcbot.ConnectionSettings{LoopbackOnly: *loopback}); err != nil {
		log.Fatal(err)
	}
}

// reply is the robot's answer to a message.
type reply struct {
	Reply string `json:"reply"`
}

// clock is the message the robot sends by itself.
type clock struct {
	Count int    `json:"count"`
	Time  string `json:"time"`
}

func run(addr, token string, every time.Duration, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The open connections, so that the robot can close them all when it
	// stops, and the goroutines that send the clock.
	var conns rtcbot.ConnectionSet
	var clocks sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The browser client the page loads (RTCBot's getRTCBotJS).
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	access := rtcbot.HandlerSettings{Token: token}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		from := r.RemoteAddr
		// RTCBot: @conn.subscribe. The function runs on a goroutine of its
		// own, one message after another.
		conn.SubscribeFunc(func(msg any) {
			text := messageText(msg)
			fmt.Printf("Message from %s: %q\n", from, text)
			conn.Put(reply{Reply: strings.ToUpper(text)})
		})
		if err := conns.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		clocks.Go(func() { sendClock(conn, every) })
		fmt.Printf("New connection from %s.\n", from)
		conn.OnClose(func() { fmt.Printf("Connection from %s closed.\n", from) })
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
	clocks.Wait()
	return nil
}

// sendClock sends the robot's clock on conn every period, from when the
// connection is ready until it closes (RTCBot: conn.put_nowait in a loop).
func sendClock(conn *rtcbot.Connection, every time.Duration) {
	select {
	case <-conn.Ready():
	case <-conn.Done():
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		conn.Put(clock{Count: n, Time: time.Now().Format(time.TimeOnly)})
		select {
		case <-tick.C:
		case <-conn.Done():
			return
		}
	}
}

// messageText is a received message as text: a string as it is, anything
// else (text that was valid JSON, decoded) as JSON again.
func messageText(msg any) string {
	if s, ok := msg.(string); ok {
		return s
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Sprint(msg)
	}
	return string(b)
}
