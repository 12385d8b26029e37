package rtcbot

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/rtcbot-go/rtcbot/internal/browsertest"
	"github.com/rtcbot-go/rtcbot/timecode"
)

//go:embed testdata/browser/page.html
var browserTestPage []byte

// browserPage serves the test page at /, the client at /rtcbot.js and
// /rtcbot.mjs and the time code reader at /timecode.js; a test adds what
// its page talks to.
func browserPage() *http.ServeMux {
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
	return mux
}

// browserRobot serves what a robot serves a browser: browserPage, and
// /connect answering each offer with newConn's connection.
func browserRobot(t testing.TB, newConn func(r *http.Request) (*Connection, error)) *httptest.Server {
	t.Helper()
	mux := browserPage()
	mux.Handle("/connect", loopbackOffers(t, Handler(newConn)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// watchVideoScript connects the test page to the robot with rtcbot.js
// (no STUN server), shows the robot's video, keeps the
// messages it receives in received, and for every frame shown reads the
// time code, in stamps: its sequence number and its latency from capture
// to the frame's presentation (handed to the compositor) and to when the
// browser expects it on the screen.
const watchVideoScript = `(async () => {
	window.conn = new rtcbot.RTCConnection(true, {});
	window.received = [];
	conn.subscribe((m) => received.push(m));
	const video = document.querySelector("video");
	conn.video.subscribe((stream) => (video.srcObject = stream));
	window.stamps = [];
	const reader = new timecode.Reader(video);
	video.requestVideoFrameCallback(function frame(now, meta) {
		const s = reader.read();
		// drawImage draws the frame the video shows when it runs, which on a
		// busy machine can be the previous callback's again: count each once.
		if (s && (stamps.length === 0 || stamps[stamps.length - 1].seq !== s.seq)) {
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
	const report = await conn.peerConnection.getStats();
	let found = {};
	report.forEach((s) => {
		if (s.type === "inbound-rtp" && s.kind === "video") found = s;
	});
	const codec = report.get(found.codecId);
	return Object.assign({mimeType: codec ? codec.mimeType : ""}, found);
})()`

// browserVideoStats is what the tests read of the inbound-rtp statistics.
type browserVideoStats struct {
	FramesDecoded            int
	KeyFramesDecoded         int
	JitterBufferDelay        float64 // seconds, summed over emitted frames
	JitterBufferEmittedCount int
	MimeType                 string // of the codec
}

// loopbackOffers passes offers to h with only their 127.0.0.1 candidates,
// so that the robot sends only to 127.0.0.1.
func loopbackOffers(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var offer SessionDescription
		if err := json.NewDecoder(io.LimitReader(r.Body, MaxOfferSize)).Decode(&offer); err != nil {
			http.Error(w, "test robot: "+err.Error(), http.StatusBadRequest)
			return
		}
		var kept int
		if offer.SDP, kept = loopbackOnlySDP(t, offer.SDP); kept == 0 {
			t.Errorf("the browser's offer has no candidate on 127.0.0.1")
		}
		body, _ := json.Marshal(offer)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		h.ServeHTTP(w, r)
	})
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

// TestBrowserH264 checks that the browser plays the robot's H.264 (x264
// through codec/h264, registered for these tests), rather than assuming it.
func TestBrowserH264(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 640, Height: 480, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	settings := loopbackSettings()
	settings.Video.Codec = "H264"
	robot := browserRobot(t, browserConn(t, settings, make(chan *Connection, 1), func(c *Connection) { c.Video().PutSubscription(cam) }))
	tab := openBrowserPage(t, robot)
	browsertest.Eval[bool](t, tab, watchVideoScript)
	browsertest.WaitFor(t, tab, `stamps.length >= 60`, "60 H.264 frames with a readable time code")
	st := browsertest.Eval[browserVideoStats](t, tab, inboundVideoStatsScript)
	if st.MimeType != "video/H264" || st.FramesDecoded < 60 {
		t.Fatalf("browser decoded %d frames of %q, want 60 or more of video/H264", st.FramesDecoded, st.MimeType)
	}
	stamps := browsertest.Eval[[]browserStamp](t, tab, `stamps`)
	for i := 1; i < len(stamps); i++ {
		if stamps[i].Seq <= stamps[i-1].Seq {
			t.Fatalf("frame %d has sequence %d after %d: frames out of order", i, stamps[i].Seq, stamps[i-1].Seq)
		}
	}
}

// TestBrowserH264Passthrough: Chromium plays what ffmpeg's x264 (standing in
// for rpicam-vid) writes and the robot passes through, joining five seconds
// after the stream began: its first picture comes within the intra period
// (a second) and a bit.
func TestBrowserH264Passthrough(t *testing.T) {
	requireFFmpeg(t)
	log, _ := commandLogger(t)
	src := NewH264Command(CommandSettings{Command: ffmpegH264Args(640, 480, 0, 30, true), Logger: log}, EncodedStreamSettings{Logger: log})
	t.Cleanup(func() { src.Close() })
	robot := browserRobot(t, browserConn(t, h264Settings(), make(chan *Connection, 1), func(c *Connection) { c.Video().PutEncoded(src) }))
	deadline := time.Now().Add(20 * time.Second)
	for src.Stats().Frames < 150 { // five seconds of stream before the viewer comes
		if time.Now().After(deadline) {
			t.Fatalf("the source made %d frames in 20 s", src.Stats().Frames)
		}
		time.Sleep(10 * time.Millisecond)
	}
	tab := openBrowserPage(t, robot)
	joined := time.Now()
	browsertest.Eval[bool](t, tab, watchVideoScript)
	browsertest.WaitFor(t, tab, `document.querySelector("video").videoWidth > 0`, "the first picture")
	if waited := time.Since(joined); waited > 4*time.Second {
		t.Errorf("the page waited %v for its first picture; the intra period is 1 s", waited)
	}
	browsertest.WaitFor(t, tab, `document.querySelector("video").getVideoPlaybackQuality().totalVideoFrames >= 30`, "30 frames played")
	dims := browsertest.Eval[[]int](t, tab, `[document.querySelector("video").videoWidth, document.querySelector("video").videoHeight]`)
	st := browsertest.Eval[browserVideoStats](t, tab, inboundVideoStatsScript)
	if dims[0] != 640 || dims[1] != 480 || st.MimeType != "video/H264" || st.FramesDecoded < 30 || st.KeyFramesDecoded < 1 {
		t.Fatalf("video %dx%d, stats %+v; want 640x480 H.264, 30 frames and a keyframe decoded", dims[0], dims[1], st)
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

	// What the browser held frames for is only logged: under -race on two
	// cores it varies too much to test (BenchmarkBrowserLatency's held-ms
	// measures it: under 1 ms with the zero playout delay asked by default,
	// 8-14 ms without).
	st := browsertest.Eval[browserVideoStats](t, tab, inboundVideoStatsScript)
	if st.MimeType != "video/VP8" {
		t.Fatalf("browser received %q, want video/VP8", st.MimeType)
	}
	if st.JitterBufferEmittedCount == 0 {
		t.Fatalf("no frames out of the jitter buffer: %+v", st)
	}
	t.Logf("frames held %.1f ms in the jitter buffer on average", 1000*st.JitterBufferDelay/float64(st.JitterBufferEmittedCount))

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

// TestBrowserMediaBothWays sends the robot's test pattern and a tone to the
// page, and the browser's fake camera and microphone to the robot, on one
// connection: the page hears the tone, the robot gets the camera's frames
// and the microphone's beeps.
func TestBrowserMediaBothWays(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	tone, err := NewToneSource(ToneSettings{Amplitude: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tone.Close() })
	conns := make(chan *Connection, 1)
	robot := browserRobot(t, browserConn(t, loopbackSettings(), conns, func(c *Connection) {
		c.Video().PutSubscription(cam)
		c.Audio().PutSubscription(tone)
	}))
	tab := openBrowserPage(t, robot)
	browsertest.Eval[bool](t, tab, `(async () => {
		window.conn = new rtcbot.RTCConnection(true, {});
		const local = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: true});
		conn.video.putSubscription(local.getVideoTracks()[0]);
		conn.audio.putSubscription(local.getAudioTracks()[0]);
		const video = document.querySelector("video");
		conn.video.subscribe((stream) => (video.srcObject = stream));
		// The loudest 100 ms of the robot's audio, as RMS of full scale.
		window.heardRMS = 0;
		conn.audio.subscribe((stream) => {
			const sink = new Audio();
			sink.muted = true; // Chromium feeds a remote track to Web Audio only while it plays
			sink.srcObject = stream;
			sink.play();
			const ctx = new AudioContext();
			const analyser = ctx.createAnalyser();
			analyser.fftSize = 4096;
			ctx.createMediaStreamSource(stream).connect(analyser);
			const buf = new Float32Array(analyser.fftSize);
			setInterval(() => {
				analyser.getFloatTimeDomainData(buf);
				const rms = Math.sqrt(buf.reduce((s, v) => s + v * v, 0) / buf.length);
				heardRMS = Math.max(heardRMS, rms);
			}, 100);
		});
		await conn.connect("/connect");
		return true;
	})()`)
	robotSide := recv(t, conns)
	frames := robotSide.Video().Subscribe()
	chunks := robotSide.Audio().Subscribe()

	// The browser's fake camera, decoded on the robot.
	ctx := mediaCtx(t)
	for range 10 {
		f, err := frames.Get(ctx)
		if err != nil {
			t.Fatalf("the browser's camera on the robot: %v", err)
		}
		if b := f.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
			t.Fatalf("the browser's camera arrived %dx%d, want 640x480", b.Dx(), b.Dy())
		}
	}
	// The fake microphone beeps about once a second: listen for 3 s.
	var loudest float64
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && loudest < 0.05 {
		c, err := chunks.Get(ctx)
		if err != nil {
			t.Fatalf("the browser's microphone on the robot: %v", err)
		}
		loudest = max(loudest, chunkRMS(c))
	}
	if loudest < 0.05 {
		t.Fatalf("the browser's microphone reached the robot silent: loudest chunk RMS %.4f, want 0.05 or more", loudest)
	}
	// The robot's tone (RMS 0.35), heard in the page.
	browsertest.WaitFor(t, tab, `heardRMS > 0.1`, "the robot's tone in the page")
	browsertest.WaitFor(t, tab, `document.querySelector("video").videoWidth === 320`, "the robot's video")
}

// chunkRMS is the root mean square of a chunk's samples, of full scale.
func chunkRMS(c AudioChunk) float64 {
	var sum float64
	for _, v := range c.Samples {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(c.Samples), 1)))
}

// TestBrowserKeyboard types on the page: rtcbot.js's Keyboard sends every
// press and release to the robot in order, in RTCBot's shape, leaves keys
// typed into a text field alone, and releases held keys when the window
// loses focus.
func TestBrowserKeyboard(t *testing.T) {
	conns := make(chan *Connection, 1)
	robot := browserRobot(t, browserConn(t, loopbackSettings(), conns, nil))
	tab := openBrowserPage(t, robot)
	browsertest.Eval[bool](t, tab, `(async () => {
		window.conn = new rtcbot.RTCConnection(true, {});
		new rtcbot.Keyboard().subscribe(conn);
		await conn.connect("/connect");
		return true;
	})()`)
	robotSide := recv(t, conns)
	msgs := robotSide.Subscribe()
	closedWithin(t, robotSide.Ready(), "robot ready")

	if err := chromedp.Do(tab, chromedp.KeyEvent("wasd")); err != nil {
		t.Fatal(err)
	}
	// Typed into a text field: the page's, not the robot's.
	if err := chromedp.Do(tab, chromedp.SendKeys("#text", "xyz"), chromedp.Blur("#text")); err != nil {
		t.Fatal(err)
	}
	// A key held down when the window loses focus is released.
	if _, err := chromedp.Call(tab, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "q", Code: "KeyQ", WindowsVirtualKeyCode: 81, Text: "q"}); err != nil {
		t.Fatal(err)
	}
	browsertest.Eval[bool](t, tab, `window.dispatchEvent(new Event("blur")), true`)

	var got, events []string
	for range 10 {
		m, ok := mustGetWithin(t, msgs).(map[string]any)
		if !ok {
			t.Fatalf("robot got %#v, want a key event object", m)
		}
		got = append(got, fmt.Sprintf("%v:%v:%v:%v", m["type"], m["key"], m["keyCode"], m["code"]))
		e, ok := BrowserInputEvent(m)
		if !ok {
			t.Fatalf("BrowserInputEvent(%v) is not an event", m)
		}
		events = append(events, fmt.Sprintf("%s=%d", e.Code, e.State))
		if ts, _ := m["timestamp"].(float64); math.Abs(ts-float64(time.Now().UnixMilli())/1000) > 60 {
			t.Fatalf("event %v: timestamp %v is not seconds since the Unix epoch", m, m["timestamp"])
		}
	}
	want := "keydown:w:87:KeyW keyup:w:87:KeyW keydown:a:65:KeyA keyup:a:65:KeyA keydown:s:83:KeyS keyup:s:83:KeyS " +
		"keydown:d:68:KeyD keyup:d:68:KeyD keydown:q:81:KeyQ keyup:q:81:KeyQ"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("robot got key events\n%s\nwant\n%s", s, want)
	}
	// As the robot's own keyboard would report them.
	if s, want := strings.Join(events, " "), "KEY_W=1 KEY_W=0 KEY_A=1 KEY_A=0 KEY_S=1 KEY_S=0 KEY_D=1 KEY_D=0 KEY_Q=1 KEY_Q=0"; s != want {
		t.Fatalf("as InputEvents: %s, want %s", s, want)
	}
}

// TestBrowserAnswersRobotOffer has the robot make the offer and the page,
// loading the client as an ES module from /rtcbot.mjs, answer it with
// getLocalDescription(offer), as over RTCBot's websocket relay: the page
// adopts the robot's default channel and plays its video; channels made
// later by either side reach the other.
func TestBrowserAnswersRobotOffer(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	robotSide := newConn(t)
	robotSide.Video().PutSubscription(cam)
	msgs := robotSide.Subscribe()
	type channelMsgs struct {
		d    *DataChannel
		msgs Subscription[any]
	}
	extra := make(chan channelMsgs, 1)
	// Subscribed as the channel arrives, before its first message.
	robotSide.OnDataChannel(func(d *DataChannel) { extra <- channelMsgs{d, d.Subscribe()} })
	offer, err := robotSide.GetLocalDescription(mediaCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	offerJSON, err := json.Marshal(offer)
	if err != nil {
		t.Fatal(err)
	}
	tab := openBrowserPage(t, browserRobot(t, nil))
	answerJSON := browsertest.Eval[string](t, tab, `(async () => {
		const rtcbot = await import("/rtcbot.mjs");
		if (rtcbot.RTCConnection !== window.rtcbot.RTCConnection) {
			throw new Error("the module's RTCConnection is not the classic script's: the client ran twice");
		}
		window.conn = new rtcbot.RTCConnection(true, {});
		window.received = [];
		conn.subscribe((m) => received.push(m));
		conn.video.subscribe((stream) => (document.querySelector("video").srcObject = stream));
		window.fromRobot = [];
		conn.onDataChannel((dc) => dc.subscribe((m) => fromRobot.push(dc.name + ":" + m)));
		const answer = await conn.getLocalDescription(`+string(offerJSON)+`);
		return JSON.stringify(answer);
	})()`)
	var answer SessionDescription
	if err := json.Unmarshal([]byte(answerJSON), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.Type != "answer" || !strings.Contains(answer.SDP, "a=candidate") {
		t.Fatalf("page's answer lacks its type or candidates: %s", answerJSON)
	}
	if err := robotSide.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, robotSide.Ready(), "robot ready")

	browsertest.Eval[bool](t, tab, `conn.send({from: "page"}), true`)
	if got, ok := mustGetWithin(t, msgs).(map[string]any); !ok || got["from"] != "page" {
		t.Fatalf("robot got %#v on the default channel, want {from: page}", got)
	}
	robotSide.Put("hi")
	browsertest.WaitFor(t, tab, `received.length > 0`, "the robot's message")
	if got := browsertest.Eval[string](t, tab, `received[0]`); got != `"hi"` {
		t.Fatalf("page got %q, want the JSON text \"hi\"", got)
	}
	browsertest.WaitFor(t, tab, `document.querySelector("video").videoWidth === 320`, "the robot's video")

	// A channel the page adds, and one the robot adds, once connected.
	browsertest.Eval[bool](t, tab, `conn.addDataChannel("telemetry").put_nowait("from the page"), true`)
	d := recv(t, extra)
	if d.d.Label() != "telemetry" {
		t.Fatalf("robot got channel %q, want telemetry", d.d.Label())
	}
	if got := mustGetWithin(t, d.msgs); got != "from the page" {
		t.Fatalf("robot got %#v on telemetry", got)
	}
	mine, err := robotSide.AddDataChannel("commands", true)
	if err != nil {
		t.Fatal(err)
	}
	mine.Put("stop")
	browsertest.WaitFor(t, tab, `fromRobot.length > 0`, "the robot's channel")
	if got := browsertest.Eval[string](t, tab, `fromRobot[0]`); got != `commands:"stop"` {
		t.Fatalf("page got %q, want commands:\"stop\"", got)
	}
}

// TestBrowserGamepadAndQueue drives rtcbot.js's Gamepad with a gamepad the
// page makes up (headless Chromium has none): it sends RTCBot's
// {type: "btnN"/"axisN", value} for changes only, and releases everything
// when the gamepad is unplugged; a Queue turns the events into awaits.
func TestBrowserGamepadAndQueue(t *testing.T) {
	tab := openBrowserPage(t, browserRobot(t, nil))
	got := browsertest.Eval[[]map[string]any](t, tab, `(async () => {
		let pad = {buttons: [{pressed: false}, {pressed: false}], axes: [0, 0]};
		navigator.getGamepads = () => [pad];
		const q = new rtcbot.Queue();
		const gp = new rtcbot.Gamepad();
		gp.subscribe(q);
		rtcbot.setGamepadRate(100);
		const next = () => q.get();
		const tick = () => new Promise((r) => setTimeout(r, 30));
		await tick(); // the first look sends nothing
		pad = {buttons: [{pressed: true}, {pressed: false}], axes: [0, -0.5]};
		const events = [await next(), await next()];
		await tick(); // nothing changed: nothing sent
		pad = null; // unplugged
		events.push(await next(), await next());
		gp.close();
		events.push({queued: q.qsize()});
		return events;
	})()`)
	var s []string
	for _, e := range got {
		if q, ok := e["queued"]; ok {
			s = append(s, fmt.Sprint("queued:", q))
			continue
		}
		if _, ok := e["timestamp"].(float64); !ok {
			t.Fatalf("event %v has no timestamp", e)
		}
		s = append(s, fmt.Sprint(e["type"], "=", e["value"]))
	}
	if want := "btn0=true axis1=-0.5 btn0=false axis1=0 queued:0"; strings.Join(s, " ") != want {
		t.Fatalf("gamepad events %v, want %s", s, want)
	}
}

// TestBrowserWebsocket checks rtcbot.js's Websocket (RTCBot's never
// connects) against this package's Websocket server: a relative URL with a
// token, messages queued before it opens, strings as they are, objects as
// JSON and binary as binary, and a close the Go side sees as normal.
func TestBrowserWebsocket(t *testing.T) {
	mux := browserPage()
	// An echo that says what it got, as Go decoded it.
	served := make(chan *Websocket, 1)
	mux.Handle("/ws", WebsocketHandler(WebsocketSettings{Token: "s3cret"}, func(ws *Websocket) {
		served <- ws
		for {
			msg, err := ws.Get(context.Background())
			if err != nil {
				return
			}
			if b, ok := msg.([]byte); ok {
				ws.Put(append([]byte("echo "), b...))
				continue
			}
			ws.Put(map[string]any{"echo": msg})
		}
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := openBrowserPage(t, srv)
	got := browsertest.Eval[[]string](t, tab, `(async () => {
		const ws = new rtcbot.Websocket("/ws?token=s3cret");
		const q = new rtcbot.Queue();
		ws.subscribe(q);
		ws.put_nowait("one"); // before it opens
		ws.send({two: 2});
		ws.send(new TextEncoder().encode("three"));
		const replies = [await q.get(), await q.get(), await q.get()];
		replies[2] = new TextDecoder().decode(replies[2]);
		ws.close();
		return replies;
	})()`)
	if want := []string{`{"echo":"one"}`, `{"echo":{"two":2}}`, "echo three"}; !slices.Equal(got, want) {
		t.Fatalf("websocket replies %q, want %q", got, want)
	}
	ws := recv(t, served)
	select {
	case <-ws.Done():
	case <-time.After(waitTime):
		t.Fatal("the page closed its websocket; the Go side did not close")
	}
	if err := ws.Err(); err != nil {
		t.Errorf("the page closed its websocket; the Go side has the error %v", err)
	}
}

// TestBrowserWithPythonRobot runs the same page against the aiortc peer
// (testdata/interop/peer.py, which does on the wire what Python RTCBot
// does) as the robot: rtcbot.js against Python's stack.
func TestBrowserWithPythonRobot(t *testing.T) {
	requireAiortc(t)
	py := startPythonPeer(t, "answer")
	mux := browserPage()
	// /connect hands the offer to peer.py and returns its answer, as
	// RTCBot's robot does in its aiohttp handler.
	mux.HandleFunc("POST /connect", func(w http.ResponseWriter, r *http.Request) {
		offer, err := io.ReadAll(io.LimitReader(r.Body, MaxOfferSize))
		if err != nil {
			return
		}
		if _, err := py.stdin.Write(append(bytes.TrimSpace(offer), '\n')); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, py.readLine(t))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := openBrowserPage(t, srv)
	browsertest.Eval[bool](t, tab, watchVideoScript)
	browsertest.WaitFor(t, tab, `received.length >= 2`, "Python's two greetings")
	got := browsertest.Eval[[]string](t, tab, `received.slice(0, 2)`)
	if got[0] != "hello from aiortc, not JSON" || !strings.Contains(got[1], `"from": "python"`) || !strings.Contains(got[1], "NaN") {
		t.Fatalf("page got %q; want Python's raw string, then its JSON greeting (with NaN)", got)
	}
	browsertest.Eval[bool](t, tab, `conn.put_nowait({n: 1}), conn.put_nowait("plain"), true`)
	browsertest.WaitFor(t, tab, `received.length >= 4`, "Python's echoes")
	if echoes := browsertest.Eval[[]string](t, tab, `received.slice(2, 4)`); echoes[0] != `{"echo": {"n": 1}}` || echoes[1] != `{"echo": "plain"}` {
		t.Fatalf("page got echoes %q", echoes)
	}
	browsertest.WaitFor(t, tab, `stamps.length >= 30`, "30 frames of Python's video with a readable time code")
	dims := browsertest.Eval[[]int](t, tab, `[document.querySelector("video").videoWidth, document.querySelector("video").videoHeight]`)
	if dims[0] != 320 || dims[1] != 240 {
		t.Fatalf("Python's video is %dx%d in the page, want 320x240", dims[0], dims[1])
	}
}
