package rtcbot

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// LinkStats's JSON has stable lower camel case names and RTT in
// milliseconds, and decodes back.
func TestStatsLinkStatsJSON(t *testing.T) {
	s := LinkStats{RTT: 12345678 * time.Nanosecond, TargetBitrate: 1_000_000, SentBitrate: 900_000, ResentBitrate: 20_000,
		VideoBytesSent: 5, VideoBytesResent: 1, PeerLoss: 0.25, NACKsReceived: 3, KeyframeRequestsReceived: 2, ResendsDropped: 1,
		KeyframesSent: 4, VideoPacketsReceived: 100, NACKsSent: 6, KeyframeRequestsSent: 7, PacketsRepaired: 8, PacketsGivenUp: 9,
		FramesDecoded: 10, FramesIncomplete: 11, FramesSkipped: 12, FramesRefused: 13}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rttMs":12.346,"targetBitrate":1000000,"sentBitrate":900000,"resentBitrate":20000,"videoBytesSent":5,"videoBytesResent":1,` +
		`"peerLoss":0.25,"nacksReceived":3,"keyframeRequestsReceived":2,"resendsDropped":1,"keyframesSent":4,"videoPacketsReceived":100,` +
		`"nacksSent":6,"keyframeRequestsSent":7,"packetsRepaired":8,"packetsGivenUp":9,"framesDecoded":10,"framesIncomplete":11,` +
		`"framesSkipped":12,"framesRefused":13}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var back LinkStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s.RTT = 12346 * time.Microsecond // to the microsecond
	if back != s {
		t.Fatalf("decoded %+v, want %+v", back, s)
	}
	// As a message: what DecodeMessage makes of the decoded JSON.
	if got, err := DecodeMessage[LinkStats](decodeText(b)); err != nil || got != s {
		t.Fatalf("DecodeMessage: %+v, %v", got, err)
	}
}

// statsSenders counts the goroutines sending a connection's stats.
func statsSenders() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "rtcbot.(*Connection).sendStats(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// A channel the peer opens with StatsChannelLabel brings the connection's
// LinkStats, as JSON, once a second, until it or the connection closes; it
// is the connection's own, not the program's.
func TestStatsChannel(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120})
	t.Cleanup(func() { cam.Close() })
	robot, desktop := newConn(t), newConn(t)
	robot.Video().PutSubscription(cam)
	frames := desktop.Video().Subscribe()
	var (
		mu     sync.Mutex
		labels []string
	)
	robot.OnDataChannel(func(d *DataChannel) {
		mu.Lock()
		labels = append(labels, d.Label())
		mu.Unlock()
	})
	stats, err := desktop.AddDataChannel(StatsChannelLabel, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desktop.AddDataChannel("other", true); err != nil {
		t.Fatal(err)
	}
	got := stats.Subscribe()
	connectPair(t, desktop, robot)
	mustGetWithin(t, frames)

	// The first message at once, with every name.
	first, ok := mustGetWithin(t, got).(map[string]any)
	if !ok {
		t.Fatalf("first message is not a JSON object")
	}
	for _, name := range []string{"rttMs", "targetBitrate", "sentBitrate", "resentBitrate", "peerLoss", "keyframesSent", "nacksReceived", "framesDecoded"} {
		if _, ok := first[name]; !ok {
			t.Errorf("the stats lack %q: %v", name, first)
		}
	}
	// Then one a second, counting the video sent.
	var last LinkStats
	for n := 0; n < 2 || last.VideoBytesSent == 0 || last.KeyframesSent == 0 || last.SentBitrate == 0; n++ {
		start := time.Now()
		if last, err = DecodeMessage[LinkStats](mustGetWithin(t, got)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("a message after %v, want one a second", d)
		}
	}
	t.Logf("robot stats: %v", last)

	// Not the program's: only "other" went to OnDataChannel.
	eventually(t, "the other channel", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(labels) > 0
	})
	mu.Lock()
	if !slices.Equal(labels, []string{"other"}) {
		t.Errorf("OnDataChannel got %q, want only \"other\"", labels)
	}
	mu.Unlock()
	if d := robot.DataChannelByName(StatsChannelLabel); d != nil {
		t.Errorf("DataChannelByName(%q) returned the stats channel", StatsChannelLabel)
	}
	if d := robot.DataChannelByName("other"); d == nil {
		t.Error("DataChannelByName(\"other\") = nil")
	}

	// Closing the channel ends the sending; the connection goes on, and a
	// new one (once connected) brings stats again.
	if k := statsSenders(); k != 1 {
		t.Errorf("%d goroutines send stats, want 1", k)
	}
	stats.Close()
	eventually(t, "the stats sender to end", func() bool { return statsSenders() == 0 })
	again, err := desktop.AddDataChannel(StatsChannelLabel, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeMessage[LinkStats](mustGetWithin(t, again.Subscribe())); err != nil {
		t.Fatal(err)
	}
	robot.Put("still here")
	if m := mustGetWithin(t, desktop.Subscribe()); m != "still here" {
		t.Errorf("desktop got %#v", m)
	}
	// Closing the connection ends it too.
	robot.Close()
	if k := statsSenders(); k != 0 {
		t.Errorf("after Close, %d goroutines send stats", k)
	}
	closedWithin(t, again.Done(), "the desktop's stats channel")
}
