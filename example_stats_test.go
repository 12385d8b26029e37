package rtcbot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

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
