// Command probe says what the rtcbot it is built with does with H.264: it
// asks a connection to send H.264, and lists the video codecs a connection
// offers to receive. codec/h264's build test builds it with and without
// that package.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{})
	defer cam.Close()

	sender, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true, Video: rtcbot.VideoSettings{Codec: "H264"}})
	if err != nil {
		log.Fatal(err)
	}
	defer sender.Close()
	sender.Video().PutSubscription(cam)
	_, err = sender.GetLocalDescription(ctx, nil)
	switch {
	case errors.Is(err, rtcbot.ErrCodecNotSupported):
		fmt.Println("send H264: not supported:", err)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("send H264: ok")
	}

	receiver, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	defer receiver.Close()
	receiver.Video().Subscribe()
	offer, err := receiver.GetLocalDescription(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receive:", strings.Join(videoCodecs(offer.SDP), " "))
}

// videoCodecs lists the codecs of an SDP's video sections, without rtx.
func videoCodecs(sdp string) []string {
	var names []string
	video := false
	for line := range strings.Lines(sdp) {
		line = strings.TrimSpace(line)
		if m, ok := strings.CutPrefix(line, "m="); ok {
			video = strings.HasPrefix(m, "video ")
		}
		if rtpmap, ok := strings.CutPrefix(line, "a=rtpmap:"); ok && video {
			_, codec, _ := strings.Cut(rtpmap, " ")
			name, _, _ := strings.Cut(codec, "/")
			if name != "rtx" {
				names = append(names, name)
			}
		}
	}
	return names
}
