package rtcbot_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// A robot serves the statistics page at /stats/ beside its /connect; a
// browser opens http://robot:8080/stats/?token=... to watch the link.
func ExampleStatsHandler() {
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 640, Height: 480}) // stamps the time code
	defer cam.Close()
	token := rtcbot.RandomToken()
	mux := http.NewServeMux()
	mux.Handle("GET /stats/", rtcbot.StatsHandler(rtcbot.StatsPageSettings{})) // posts its offer to /connect
	mux.Handle("/connect", rtcbot.NewHandler(rtcbot.HandlerSettings{Token: token}, func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{})
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam)
		return conn, nil
	}))
	fmt.Println("open http://localhost:8080/stats/?token=" + token)
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// A Go desktop reads a robot's LinkStats: it opens a StatsChannelLabel
// channel, on which the robot sends them once a second.
func ExampleStatsChannelLabel() {
	robot := httptest.NewServer(rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		return rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	}))
	defer robot.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desktop, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()
	stats, err := desktop.AddDataChannel(rtcbot.StatsChannelLabel, true) // before connecting
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rtcbot.Connect(ctx, desktop, robot.URL, nil); err != nil {
		fmt.Println(err)
		return
	}
	msg, err := stats.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := rtcbot.DecodeMessage[rtcbot.LinkStats](msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("the robot has sent", s.KeyframesSent, "keyframes") // it has no video
	// Output: the robot has sent 0 keyframes
}
