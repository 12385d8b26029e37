package rtcbot

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
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
	robot.Video().PutSubscription(cam)
	desktop := newConn(t)
	frames := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	mustGet(t, frames)
	eventually(t, "video bytes in a logged line", func() bool {
		return strings.Contains(out.String(), "rtcbot: link") && robot.LinkStats().VideoBytesSent > 0 && !strings.Contains(lastLine(out.String()), "sent 0 kB")
	})
	robot.Close() // stops the logging goroutine (goleak checks)
	got, sent := desktop.LinkStats(), robot.LinkStats().VideoBytesSent
	if got.FramesDecoded == 0 || got.VideoPacketsReceived == 0 {
		t.Errorf("desktop stats %v: no frames or packets counted", got)
	}
	if got.VideoBytesReceived < got.VideoPacketsReceived || got.VideoBytesReceived > sent {
		t.Errorf("desktop received %d bytes in %d packets, robot sent %d bytes", got.VideoBytesReceived, got.VideoPacketsReceived, sent)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// The resend limiter lets retransmissions take resendShare of the estimate
// (after a burst of resendBurst of it) and drops the rest.
func TestResendLimiterHoldsToShare(t *testing.T) {
	const estimate = 800_000 // bits per second: 25 kB/s for resends
	l := &resendLimiter{estimate: func() int { return estimate }}
	at := time.Unix(1000, 0)
	const packet = 1000
	allowed := 0
	for i := range 10_000 { // 10 s, a packet every ms: far more than the share
		if l.allow(packet, at.Add(time.Duration(i)*time.Millisecond)) {
			allowed++
		}
	}
	// 10 s of the share plus the initial burst.
	want := int((resendShare*estimate/8*10 + resendShare*estimate/8*resendBurst.Seconds()) / packet)
	if allowed < want-2 || allowed > want+2 {
		t.Errorf("%d resends of %d bytes allowed in 10 s, want about %d", allowed, packet, want)
	}
	// Unknown estimate: the start bitrate's share.
	l = &resendLimiter{estimate: func() int { return 0 }}
	if !l.allow(packet, at) {
		t.Error("the first resend with no estimate yet was dropped")
	}
}

// A rate meter reports the last full second, and 0 after a silent one.
func TestRateMeter(t *testing.T) {
	var m rateMeter
	at := time.Unix(1000, 0)
	for i := range 100 {
		m.add(1250, at.Add(time.Duration(i)*10*time.Millisecond)) // 125 kB/s
	}
	if got := m.rate(at.Add(time.Second)); got < 990_000 || got > 1_010_000 {
		t.Errorf("rate %d bit/s after a second of 1 Mbit/s", got)
	}
	if got := m.rate(at.Add(3500 * time.Millisecond)); got != 0 {
		t.Errorf("rate %d bit/s after two silent seconds, want 0", got)
	}
}

// The resend limiter passes new packets, and at most two copies of a
// resent packet within a round trip; a request after the round trip gets
// a resend again.
func TestResendLimiterDropsRepeats(t *testing.T) {
	l := &resendLimiter{estimate: func() int { return 10_000_000 }, rtt: func() time.Duration { return 50 * time.Millisecond }}
	var written []uint16
	w := l.BindLocalStream(&interceptor.StreamInfo{MimeType: "video/VP8"}, interceptor.RTPWriterFunc(
		func(h *rtp.Header, _ []byte, _ interceptor.Attributes) (int, error) {
			written = append(written, h.SequenceNumber)
			return 0, nil
		}))
	send := func(seq uint16) {
		if _, err := w.Write(&rtp.Header{SequenceNumber: seq}, make([]byte, 100), nil); err != nil {
			t.Fatal(err)
		}
	}
	for seq := range uint16(10) {
		send(seq)
	}
	for range 5 { // the receiver asks five times within the round trip
		send(3)
	}
	if want := []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3}; !slices.Equal(written, want) {
		t.Errorf("written %v, want %v", written, want)
	}
	if l.dropped.Load() != 3 {
		t.Errorf("%d resends dropped, want 3", l.dropped.Load())
	}
}
