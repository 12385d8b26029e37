package rtcbot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// A robot serves RTCBot's POST /connect: for every offer, Handler asks for a
// fresh connection to answer it with, so the robot serves one desktop after
// another. A ConnectionSet keeps the open ones, to close them when the robot
// stops. (On a shared network, use NewHandler with a token.)
func ExampleHandler() {
	var desktops rtcbot.ConnectionSet
	defer desktops.Close()
	controls := make(chan any, 1)

	mux := http.NewServeMux()
	mux.Handle("/connect", rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		// A real robot leaves LoopbackOnly off and listens with
		// http.ListenAndServe(":8080", mux).
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
		if err != nil {
			return nil, err
		}
		conn.SubscribeFunc(func(msg any) { controls <- msg }) // RTCBot: @conn.subscribe
		return conn, desktops.Add(conn)
	}))
	robot := httptest.NewServer(mux)
	defer robot.Close()

	// A desktop connects and sends a control message.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desktop, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()
	if err := rtcbot.Connect(ctx, desktop, robot.URL+"/connect", nil); err != nil {
		fmt.Println(err)
		return
	}
	desktop.Put(map[string]any{"code": "ABS_Y", "state": -1})

	select {
	case msg := <-controls:
		fmt.Println("robot got:", msg)
	case <-ctx.Done():
		fmt.Println("no control message:", ctx.Err())
	}
	fmt.Println("desktops connected:", desktops.Len())
	// Output:
	// robot got: map[code:ABS_Y state:-1]
	// desktops connected: 1
}

// A robot's /connect that only a desktop with the token may use, one
// desktop at a time.
func ExampleNewHandler() {
	token := rtcbot.RandomToken() // or from a flag or the environment
	settings := rtcbot.HandlerSettings{Token: token, MaxConnections: 1, ReplaceOnReconnect: true}
	controls := make(chan any, 1)
	robot := httptest.NewServer(rtcbot.NewHandler(settings, func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
		if err != nil {
			return nil, err
		}
		conn.SubscribeFunc(func(msg any) { controls <- msg })
		return conn, nil
	}))
	defer robot.Close()

	// Without the token, the robot refuses.
	resp, err := http.Post(robot.URL, "application/json", strings.NewReader(`{"sdp": "v=0", "type": "offer"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("without the token:", resp.Status)

	// With it, a desktop connects.
	desktop, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()
	if err := rtcbot.Connect(context.Background(), desktop, robot.URL+"?token="+token, nil); err != nil {
		fmt.Println(err)
		return
	}
	<-desktop.Ready()
	desktop.Put("hello")
	fmt.Println("robot got:", <-controls)
	// Output:
	// without the token: 401 Unauthorized
	// robot got: hello
}

// A desktop connects to a robot's /connect with Connect, which posts the
// offer and applies the answer, and then reads what the robot sends. What
// the desktop wants to receive (here its messages; also video with
// desktop.Video().Subscribe()) is subscribed before Connect makes the offer.
func ExampleConnect() {
	// The robot: it sends its battery level to each desktop that connects.
	var desktops rtcbot.ConnectionSet
	defer desktops.Close()
	robot := httptest.NewServer(rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
		if err != nil {
			return nil, err
		}
		conn.Put(map[string]any{"battery": 0.87}) // sent once the connection opens
		return conn, desktops.Add(conn)
	}))
	defer robot.Close()

	// The desktop.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desktop, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()
	status := desktop.Subscribe()
	// A robot with a token takes it in the URL: .../connect?token=...
	if err := rtcbot.Connect(ctx, desktop, robot.URL, nil); err != nil {
		fmt.Println(err)
		return
	}
	msg, err := status.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	type battery struct {
		Battery float64 `json:"battery"`
	}
	b, err := rtcbot.DecodeMessage[battery](msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("robot's battery: %.0f%%\n", 100*b.Battery)
	// Output:
	// robot's battery: 87%
}
