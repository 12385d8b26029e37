package rtcbot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rtcbot-go/rtcbot"
)

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
