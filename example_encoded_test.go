package rtcbot_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os/exec"

	"github.com/rtcbot-go/rtcbot"
)

// A robot whose camera has a hardware H.264 encoder sends what it encodes
// as it is: one rpicam-vid for every desktop that connects (see also
// PiCamera), restarted if it dies, stopped when the robot closes the
// source. The connections send H.264, and need no encoder of their own.
func ExampleMediaStream_PutEncoded() {
	camera := rtcbot.NewH264Command(rtcbot.CommandSettings{Command: []string{
		"rpicam-vid", "-t", "0", "-n", "--codec", "h264", "--profile", "baseline", "--inline", "--intra", "30", "--flush",
		"--width", "1280", "--height", "720", "--framerate", "30", "-o", "-",
	}}, rtcbot.EncodedStreamSettings{})
	defer camera.Close()
	http.Handle("/connect", rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{Video: rtcbot.VideoSettings{Codec: "H264"}})
		if err != nil {
			return nil, err
		}
		conn.Video().PutEncoded(camera)
		return conn, nil
	}))
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// NewH264Stream splits any H.264 byte stream into the access units a
// connection sends: here ffmpeg's x264 of 60 pictures with a keyframe
// every 30, through a pipe.
func ExampleNewH264Stream() {
	stream, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
		"-frames:v", "60", "-c:v", "libx264", "-g", "30", "-f", "h264", "-").Output()
	if err != nil {
		fmt.Println("ffmpeg:", err) // sudo apt-get install ffmpeg
		return
	}
	r, w := io.Pipe()
	src := rtcbot.NewH264Stream(r, rtcbot.EncodedStreamSettings{})
	frames := src.SubscribeWith(rtcbot.NewQueue[rtcbot.EncodedFrame](100)) // before the stream flows
	go func() {
		w.Write(stream)
		w.Close()
	}()
	n, keyframes := 0, 0
	for {
		f, err := frames.Get(context.Background())
		if err != nil { // rtcbot.ErrClosed at the end of the stream
			break
		}
		n++
		if f.Keyframe {
			keyframes++
		}
	}
	fmt.Println(n, "access units,", keyframes, "keyframes")
	// Output: 60 access units, 2 keyframes
}
