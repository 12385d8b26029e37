package rtcbot_test

import (
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/rtcbot-go/rtcbot"
)

// A robot on a Raspberry Pi streams its camera module's H.264, encoded by
// the Pi's hardware encoder, to every desktop that connects, without
// encoding anything itself: the connections send H.264 (no encoder, nor
// package codec/h264, needed for that). On Raspberry Pi OS, rpicam-vid
// comes with rpicam-apps (sudo apt install rpicam-apps).
func ExampleNewPiCameraH264() {
	settings := rtcbot.PiCameraSettings{Width: 1280, Height: 720, FPS: 30, Rotation: 180, Bitrate: 2_000_000}
	if line, err := settings.CommandLine(true); err == nil {
		fmt.Println("running:", strings.Join(line, " "))
	}
	cam := rtcbot.NewPiCameraH264(settings) // rtcbot.NewPiCamera(settings) for frames rtcbot encodes
	defer cam.Close()
	cam.OnError(func(err error) { log.Println("camera:", err) }) // rpicam-vid missing, say

	var desktops rtcbot.ConnectionSet
	defer desktops.Close()
	http.Handle("/connect", rtcbot.NewHandler(rtcbot.HandlerSettings{Token: rtcbot.RandomToken(), MaxConnections: 1},
		func(*http.Request) (*rtcbot.Connection, error) {
			conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{Video: rtcbot.VideoSettings{Codec: "H264"}})
			if err != nil {
				return nil, err
			}
			conn.Video().PutEncoded(cam) // sent once, however many connections do
			return conn, desktops.Add(conn)
		}))
	if err := http.ListenAndServe(":8080", nil); err != nil {
		log.Println(err)
	}
}
