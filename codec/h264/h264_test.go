//go:build cgo

package h264_test

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	_ "github.com/rtcbot-go/rtcbot/codec/h264"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// Importing the package is all it takes: a desktop offers to receive
// H.264, and a robot sends it H.264 that it decodes, over loopback (the
// robot's answer fails if the desktop does not take H.264).
func TestImportSendsAndReceivesH264(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const w, h = 320, 240
	robot := newConn(t, rtcbot.ConnectionSettings{LoopbackOnly: true, Video: rtcbot.VideoSettings{Codec: "H264"}})
	desktop := newConn(t, rtcbot.ConnectionSettings{LoopbackOnly: true})
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: w, Height: h, FPS: 30})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	frames := desktop.Video().SubscribeWith(rtcbot.NewQueue[image.Image](100))

	offer, err := desktop.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer.SDP, "H264/90000") {
		t.Fatalf("the desktop does not offer to receive H.264:\n%s", offer.SDP)
	}
	answer, err := robot.GetLocalDescription(ctx, &offer)
	if err != nil {
		t.Fatalf("the robot cannot answer with H.264: %v", err)
	}
	if err := desktop.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
	var last timecode.Stamp
	for i := range 10 {
		img, err := frames.Get(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		stamp, err := timecode.Read(img)
		if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Fatalf("frame %d: %v, time code %v; want the %dx%d test pattern", i, img.Bounds(), err, w, h)
		}
		if i > 0 && stamp.Seq <= last.Seq {
			t.Fatalf("frame %d is the pattern's frame %d, after %d", i, stamp.Seq, last.Seq)
		}
		last = stamp
	}
}

func newConn(t *testing.T, s rtcbot.ConnectionSettings) *rtcbot.Connection {
	t.Helper()
	c, err := rtcbot.NewConnection(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
