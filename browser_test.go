package rtcbot

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/rtcbot-go/rtcbot/internal/browsertest"
	"github.com/rtcbot-go/rtcbot/timecode"
)

//go:embed testdata/browser/page.html
var browserTestPage []byte

// browserRobot serves what a robot serves a browser: the test page at /,
// the client at /rtcbot.js and /rtcbot.mjs, the time code reader at
// /timecode.js, and /connect answering each offer with newConn's
// connection.
func browserRobot(t testing.TB, newConn func(r *http.Request) (*Connection, error)) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(browserTestPage)
	})
	mux.Handle("GET /rtcbot.js", JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", JavaScriptHandler())
	mux.HandleFunc("GET /timecode.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(timecode.JavaScript())
	})
	mux.Handle("/connect", Handler(newConn))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// watchVideoScript connects the test page to the robot with rtcbot.js
// (RTCBot's default configuration), shows the robot's video, keeps the
// messages it receives in received, and for every frame shown reads the
// time code, in stamps: its sequence number and its latency from capture
// to the frame's presentation (handed to the compositor) and to when the
// browser expects it on the screen.
const watchVideoScript = `(async () => {
	window.conn = new rtcbot.RTCConnection();
	window.received = [];
	conn.subscribe((m) => received.push(m));
	const video = document.querySelector("video");
	conn.video.subscribe((stream) => (video.srcObject = stream));
	window.stamps = [];
	const reader = new timecode.Reader(video);
	video.requestVideoFrameCallback(function frame(now, meta) {
		const s = reader.read();
		if (s) {
			stamps.push({seq: s.seq,
				presented: timecode.latency(s, performance.timeOrigin + meta.presentationTime),
				displayed: timecode.latency(s, performance.timeOrigin + meta.expectedDisplayTime)});
		}
		video.requestVideoFrameCallback(frame);
	});
	await conn.connect("/connect");
	return true;
})()`

// browserStamp is one entry of watchVideoScript's stamps.
type browserStamp struct {
	Seq       uint32
	Presented float64 // ms from capture to presentation
	Displayed float64 // ms from capture to the expected display time
}

// inboundVideoStatsScript returns the page's inbound-rtp video statistics
// (getStats).
const inboundVideoStatsScript = `(async () => {
	let found = {};
	(await conn.peerConnection.getStats()).forEach((s) => {
		if (s.type === "inbound-rtp" && s.kind === "video") found = s;
	});
	return found;
})()`

// browserVideoStats is what the tests read of the inbound-rtp statistics.
type browserVideoStats struct {
	FramesDecoded            int
	KeyFramesDecoded         int
	JitterBufferDelay        float64 // seconds, summed over emitted frames
	JitterBufferEmittedCount int
	DecoderImplementation    string
	CodecID                  string
}

// openBrowserPage starts a browser and opens the robot's test page in it.
func openBrowserPage(t testing.TB, robot *httptest.Server) context.Context {
	t.Helper()
	tab := browsertest.Start(t).Tab()
	browsertest.Open(t, tab, robot.URL+"/")
	return tab
}

// browserConn returns a newConn for browserRobot that makes a connection
// with settings and setup applied, and sends it on got.
func browserConn(t testing.TB, settings ConnectionSettings, got chan<- *Connection, setup func(*Connection)) func(*http.Request) (*Connection, error) {
	return func(*http.Request) (*Connection, error) {
		c, err := NewConnection(settings)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { c.Close() })
		if setup != nil {
			setup(c)
		}
		got <- c
		return c, nil
	}
}

func TestBrowserVideoAndMessages(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 640, Height: 480, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	conns := make(chan *Connection, 1)
	robot := browserRobot(t, browserConn(t, loopbackSettings(), conns, func(c *Connection) { c.Video().PutSubscription(cam) }))
	tab := openBrowserPage(t, robot)

	browsertest.Eval[bool](t, tab, watchVideoScript)
	robotSide := recv(t, conns)
	msgs := robotSide.Subscribe()
	select {
	case <-robotSide.Ready():
	case <-mediaCtx(t).Done():
		t.Fatal("robot side not ready")
	}

	// Messages both ways: the page's strings as they are, its objects as
	// JSON; the robot's messages as JSON text, which the page sees raw.
	browsertest.Eval[bool](t, tab, `conn.put_nowait("hello"), conn.send({n: 1, s: "two"}), true`)
	if got := mustGetWithin(t, msgs); got != "hello" {
		t.Fatalf("robot got %#v, want \"hello\"", got)
	}
	if got, ok := mustGetWithin(t, msgs).(map[string]any); !ok || got["n"] != 1.0 || got["s"] != "two" {
		t.Fatalf("robot got %#v, want {n: 1, s: two}", got)
	}
	robotSide.Put(map[string]any{"speed": 0.5})
	browsertest.WaitFor(t, tab, `received.length >= 1`, "the robot's message")
	if got := browsertest.Eval[string](t, tab, `received[0]`); got != `{"speed":0.5}` {
		t.Fatalf("page got %q, want the JSON text {\"speed\":0.5}", got)
	}

	// Video: the test pattern at its size, playing, its time code readable.
	browsertest.WaitFor(t, tab, `stamps.length >= 30`, "30 frames with a readable time code")
	dims := browsertest.Eval[[]int](t, tab, `[document.querySelector("video").videoWidth, document.querySelector("video").videoHeight]`)
	if dims[0] != 640 || dims[1] != 480 {
		t.Fatalf("video is %dx%d, want 640x480", dims[0], dims[1])
	}
	t0 := browsertest.Eval[float64](t, tab, `document.querySelector("video").currentTime`)
	browsertest.WaitFor(t, tab, `document.querySelector("video").currentTime > `+strconv.FormatFloat(t0+0.5, 'f', 3, 64), "playback to advance half a second")
	stamps := browsertest.Eval[[]browserStamp](t, tab, `stamps`)
	for i := 1; i < len(stamps); i++ {
		if stamps[i].Seq <= stamps[i-1].Seq {
			t.Fatalf("frame %d has sequence %d after %d: frames out of order", i, stamps[i].Seq, stamps[i-1].Seq)
		}
	}
	for _, s := range stamps {
		if s.Presented < 0 || s.Presented > 1000 {
			t.Fatalf("frame %d: latency %.1f ms, want 0 to 1000", s.Seq, s.Presented)
		}
	}
	t.Logf("%d frames read, last latency %.1f ms", len(stamps), stamps[len(stamps)-1].Presented)

	// The browser honours the zero playout delay the robot asks for by
	// default: it shows frames without holding them in its jitter buffer
	// (without the request Chromium 156 holds each 10-25 ms here).
	st := browsertest.Eval[browserVideoStats](t, tab, inboundVideoStatsScript)
	if st.JitterBufferEmittedCount == 0 {
		t.Fatalf("no frames out of the jitter buffer: %+v", st)
	}
	if held := 1000 * st.JitterBufferDelay / float64(st.JitterBufferEmittedCount); held > 5 {
		t.Fatalf("frames held %.1f ms in the jitter buffer on average, want under 5 (zero playout delay asked)", held)
	}

	// Closing the page's connection closes the robot's.
	browsertest.Eval[bool](t, tab, `conn.close(), true`)
	if err := robotSide.Wait(mediaCtx(t)); mediaCtx(t).Err() != nil || (err != nil && !errors.Is(err, ErrPeerLost)) {
		t.Fatalf("robot side after the page closed: %v", err)
	}
}

// mustGetWithin reads one item from g, waiting as long as media tests do.
func mustGetWithin[T any](t testing.TB, g Getter[T]) T {
	t.Helper()
	v, err := g.Get(mediaCtx(t))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}
