package rtcbot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// A robot serves its camera over WHEP, and a desktop watches it with
// ConnectWHEP; any WHEP player could watch instead. Here both run in one
// program, the robot's server on httptest.
func ExampleNewWHEPHandler() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	settings := rtcbot.ConnectionSettings{LoopbackOnly: true} // a real robot leaves it off

	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 320, Height: 240})
	defer cam.Close()
	var viewers rtcbot.ConnectionSet
	defer viewers.Close()
	mux := http.NewServeMux()
	mux.Handle("/whep/", rtcbot.NewWHEPHandler(rtcbot.HandlerSettings{Token: "secret"}, func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam.Subscribe())
		return conn, viewers.Add(conn)
	}))
	robot := httptest.NewServer(mux) // a robot: http.ListenAndServe(":8080", mux)
	defer robot.Close()

	desktop, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close() // ends the session with a DELETE
	video := desktop.Video().Subscribe()
	if err := rtcbot.ConnectWHEP(ctx, desktop, robot.URL+"/whep/", "secret", nil); err != nil {
		fmt.Println(err)
		return
	}
	frame, err := video.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("watching", frame.Bounds().Size())
	// Output: watching (320,240)
}

// A robot keeps its camera published to a media server's WHIP endpoint
// (here LiveKit's, with a join token allowed to publish), republishing
// whenever the server restarts, until ctx ends. Every viewer watches
// through the server, which the robot sends its picture to once.
func ExamplePublishWHIP() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: 640, Height: 480})
	defer cam.Close()
	token := "a LiveKit join token: see package livekit's Token"
	err := rtcbot.PublishWHIP(ctx, "http://livekit.example:7880/whip/v1", token, rtcbot.ReconnectSettings{}, func() (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{})
		if err != nil {
			return nil, err
		}
		conn.Video().PutSubscription(cam.Subscribe())
		return conn, nil
	})
	fmt.Println(err)
}
