package rtcbot

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// With StatsInterval, a connection logs its LinkStats until it closes.
func TestLinkStatsLogged(t *testing.T) {
	var out syncBuffer // interop_test.go
	s := loopbackSettings()
	s.StatsInterval = 20 * time.Millisecond
	s.Logger = slog.New(slog.NewTextHandler(&out, nil))
	cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120})
	defer cam.Close()
	robot, err := NewConnection(s)
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	if err := robot.Video().PutSubscription(cam); err != nil {
		t.Fatal(err)
	}
	desktop := newConn(t)
	frames := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	mustGet(t, frames)
	eventually(t, "video bytes in a logged line", func() bool {
		return strings.Contains(out.String(), "rtcbot: link") && robot.LinkStats().VideoBytesSent > 0 && !strings.Contains(lastLine(out.String()), "sent 0 kB")
	})
	robot.Close() // stops the logging goroutine (goleak checks)
	if got := desktop.LinkStats(); got.FramesDecoded == 0 || got.VideoPacketsReceived == 0 {
		t.Errorf("desktop stats %v: no frames or packets counted", got)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}
