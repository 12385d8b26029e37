package rtcbot_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// A robot serves a websocket and a desktop connects to it: JSON messages go
// both ways, as over a data channel. The desktop would connect again if the
// robot restarted.
func ExampleWebsocket() {
	// The robot: http.Handle("/ws", rtcbot.WebsocketHandler(...)) in a real
	// one, with a Token on a shared network.
	robot := httptest.NewServer(rtcbot.WebsocketHandler(rtcbot.WebsocketSettings{}, func(ws *rtcbot.Websocket) {
		for {
			msg, err := ws.Get(context.Background())
			if err != nil {
				return // the desktop went away
			}
			fmt.Println("robot got:", msg)
			ws.Put(map[string]any{"ack": msg})
		}
	}))
	defer robot.Close()

	// The desktop.
	desktop, err := rtcbot.DialWebsocket(robot.URL, rtcbot.WebsocketSettings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()
	desktop.Put(map[string]any{"code": "ABS_Y", "state": -1}) // sent once connected

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := desktop.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("desktop got:", reply)
	// Output:
	// robot got: map[code:ABS_Y state:-1]
	// desktop got: map[ack:map[code:ABS_Y state:-1]]
}
