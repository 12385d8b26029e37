package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// loopbackSettings keeps a test connection on 127.0.0.1: no other address is
// offered or contacted.
func loopbackSettings() ConnectionSettings {
	return ConnectionSettings{LoopbackOnly: true}
}

// mediaCtx bounds waits that involve a real peer connection and codecs.
func mediaCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newConn makes a loopback connection that the test closes at its end.
func newConn(t testing.TB) *Connection {
	t.Helper()
	c, err := NewConnection(loopbackSettings())
	if err != nil {
		t.Fatalf("NewConnection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connectPair runs the one-round-trip signaling between an offerer and an
// answerer and waits until both are ready.
func connectPair(t testing.TB, offerer, answerer *Connection) {
	t.Helper()
	ctx := mediaCtx(t)
	offer, err := offerer.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if offer.Type != "offer" || !strings.Contains(offer.SDP, "a=candidate") {
		t.Fatalf("offer lacks type or gathered candidates: %+v", offer)
	}
	answer, err := answerer.GetLocalDescription(ctx, &offer)
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if answer.Type != "answer" {
		t.Fatalf("answer type %q", answer.Type)
	}
	if err := offerer.SetRemoteDescription(answer); err != nil {
		t.Fatalf("SetRemoteDescription: %v", err)
	}
	for _, c := range []*Connection{offerer, answerer} {
		select {
		case <-c.Ready():
		case <-ctx.Done():
			t.Fatal("connection not ready in time")
		}
	}
}

func TestConnectionMessagesBothWays(t *testing.T) {
	const n = 10000
	a, b := newConn(t), newConn(t)
	// Queues of the test's own, as large as the transfer: the default ones
	// are small on purpose and drop their oldest messages when full.
	fromA, fromB := b.SubscribeWith(NewQueue[any](n)), a.SubscribeWith(NewQueue[any](n))
	connectPair(t, a, b)

	type msg struct {
		Seq  int    `json:"seq"`
		From string `json:"from"`
	}
	toA, toB := NewQueue[any](n), NewQueue[any](n)
	for i := range n {
		toB.Put(msg{i, "a"})
		toA.Put(msg{i, "b"})
	}
	a.PutSubscription(toB) // sent as fast as the channel takes them
	b.PutSubscription(toA)
	ctx := mediaCtx(t)
	check := func(sub Subscription[any], from string) {
		for i := range n {
			m, err := sub.Get(ctx)
			if err != nil {
				t.Fatalf("message %d from %s: %v", i, from, err)
			}
			got, err := DecodeMessage[msg](m)
			if err != nil {
				t.Fatalf("message %d from %s: %v", i, from, err)
			}
			if got.Seq != i || got.From != from {
				t.Fatalf("message %d from %s: got %+v", i, from, got)
			}
		}
	}
	check(fromA, "a")
	check(fromB, "b")
}

func TestConnectionMessageKinds(t *testing.T) {
	a, b := newConn(t), newConn(t)
	got := b.Subscribe()
	connectPair(t, a, b)

	// Raw text that is not JSON arrives as the string itself; Python's
	// non-finite numbers decode; binary arrives as bytes.
	a.channel.dc.SendText("hello, not json")
	a.channel.dc.SendText(`{"x": NaN, "y": [Infinity, -Infinity], "s": "NaN"}`)
	a.Put([]byte{0, 1, 2, 255})
	a.Put("a string")
	a.Put(map[string]any{"code": "BTN_SOUTH", "state": 1})

	ctx := mediaCtx(t)
	next := func() any {
		m, err := got.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := next(); m != "hello, not json" {
		t.Errorf("non-JSON text: got %#v", m)
	}
	m, ok := next().(map[string]any)
	if !ok || !math.IsNaN(m["x"].(float64)) || m["s"] != "NaN" {
		t.Errorf("NaN message: got %#v", m)
	} else if ys := m["y"].([]any); !math.IsInf(ys[0].(float64), 1) || !math.IsInf(ys[1].(float64), -1) {
		t.Errorf("Infinity message: got %#v", m)
	}
	if m, ok := next().([]byte); !ok || string(m) != "\x00\x01\x02\xff" {
		t.Errorf("binary: got %#v", m)
	}
	if m := next(); m != "a string" {
		t.Errorf("JSON string: got %#v", m)
	}
	if m, ok := next().(map[string]any); !ok || m["code"] != "BTN_SOUTH" || m["state"] != 1.0 {
		t.Errorf("object: got %#v", m)
	}
}

func TestConnectionExtraDataChannels(t *testing.T) {
	a, b := newConn(t), newConn(t)
	sensors, err := a.AddDataChannel("sensors", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddDataChannel("sensors", true); err == nil {
		t.Error("adding a channel twice: no error")
	}
	announced := make(chan *DataChannel, 1)
	b.OnDataChannel(func(d *DataChannel) { announced <- d })
	connectPair(t, a, b)

	var remote *DataChannel
	select {
	case remote = <-announced:
	case <-mediaCtx(t).Done():
		t.Fatal("peer's channel not announced")
	}
	if remote.Label() != "sensors" || b.DataChannelByName("sensors") != remote {
		t.Fatalf("announced channel %q, by name %v", remote.Label(), b.DataChannelByName("sensors"))
	}
	sub := remote.Subscribe()
	sensors.Put(map[string]any{"distance": 1.5})
	m, err := sub.Get(mediaCtx(t))
	if err != nil || m.(map[string]any)["distance"] != 1.5 {
		t.Fatalf("got %#v, %v", m, err)
	}
}

func TestConnectionPeerCloseEndsBoth(t *testing.T) {
	a, b := newConn(t), newConn(t)
	sub := b.Subscribe()
	connectPair(t, a, b)
	a.Close()
	select {
	case <-b.Done():
	case <-mediaCtx(t).Done():
		t.Fatal("peer's close not noticed")
	}
	if _, err := sub.Get(mediaCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscription after peer close: %v, want ErrClosed", err)
	}
	if _, err := b.GetLocalDescription(mediaCtx(t), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("description after close: %v", err)
	}
}

// psnr compares the luma of two pictures of the same size.
func psnr(a, b *image.YCbCr) float64 {
	var sum float64
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		for x := range w {
			d := float64(a.Y[y*a.YStride+x]) - float64(b.Y[y*b.YStride+x])
			sum += d * d
		}
	}
	mse := sum / float64(w*h)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestConnectionVideoArrivesIntact(t *testing.T) {
	const w, h = 320, 240
	robot, desktop := newConn(t), newConn(t)
	pattern := timecode.NewPattern(w, h)
	frames := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
	defer frames.Close()
	robot.Video().PutSubscription(frames)
	got := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)

	// Keep a copy of every frame sent, to compare what arrives with it.
	sent := map[uint32]*image.YCbCr{}
	ctx := mediaCtx(t)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seq := uint32(0)
	received := 0
	for received < 20 {
		select {
		case <-tick.C:
			f := pattern.Frame(seq, time.Now())
			sent[seq] = f
			frames.Publish(f)
			seq++
		case img, ok := <-got.(*Latest[image.Image]).C():
			if !ok {
				t.Fatal("video subscription closed")
			}
			yuv := img.(*image.YCbCr)
			if yuv.Rect.Dx() != w || yuv.Rect.Dy() != h {
				t.Fatalf("frame size %v, want %dx%d", yuv.Rect, w, h)
			}
			stamp, err := timecode.Read(yuv)
			if err != nil {
				t.Fatalf("received frame has no time code: %v", err)
			}
			orig := sent[stamp.Seq]
			if orig == nil {
				t.Fatalf("received frame %d was never sent", stamp.Seq)
			}
			if p := psnr(orig, yuv); p < 30 {
				t.Fatalf("frame %d: PSNR %.1f dB, want >= 30", stamp.Seq, p)
			}
			received++
		case <-ctx.Done():
			t.Fatalf("only %d frames received", received)
		}
	}
}

func TestConnectionAudioTone(t *testing.T) {
	robot, desktop := newConn(t), newConn(t)
	tone := NewProducer[AudioChunk](nil)
	defer tone.Close()
	robot.Audio().PutSubscription(tone)
	got := desktop.Audio().Subscribe()
	connectPair(t, desktop, robot)

	const freq = 440.0
	ctx := mediaCtx(t)
	var samples []float32
	phase := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(samples) < 48000 {
		select {
		case <-tick.C:
			chunk := make([]float32, 480)
			for i := range chunk {
				chunk[i] = float32(0.5 * math.Sin(2*math.Pi*freq*float64(phase)/48000))
				phase++
			}
			tone.Publish(AudioChunk{Samples: chunk, Channels: 1, SampleRate: 48000})
		case c, ok := <-got.(*Queue[AudioChunk]).C():
			if !ok {
				t.Fatal("audio subscription closed")
			}
			if c.Channels != 1 || c.SampleRate != 48000 {
				t.Fatalf("chunk with %d channels at %d Hz", c.Channels, c.SampleRate)
			}
			samples = append(samples, c.Samples...)
		case <-ctx.Done():
			t.Fatalf("only %d samples received", len(samples))
		}
	}
	// Skip the codec's start-up, then find the strongest frequency.
	if f := dominantFrequency(samples[9600:], 48000); math.Abs(f-freq) > 5 {
		t.Fatalf("received tone at %.1f Hz, want %.0f", f, freq)
	}
}

// dominantFrequency scans 100-2000 Hz in 1 Hz steps with the Goertzel
// algorithm and returns the strongest frequency.
func dominantFrequency(x []float32, rate float64) float64 {
	best, bestPower := 0.0, -1.0
	for f := 100.0; f <= 2000; f++ {
		coeff := 2 * math.Cos(2*math.Pi*f/rate)
		var s1, s2 float64
		for _, v := range x {
			s1, s2 = float64(v)+coeff*s1-s2, s1
		}
		if p := s1*s1 + s2*s2 - coeff*s1*s2; p > bestPower {
			best, bestPower = f, p
		}
	}
	return best
}

func TestHandlerRejectsBadRequests(t *testing.T) {
	made := 0
	srv := httptest.NewServer(Handler(func(*http.Request) (*Connection, error) {
		made++
		return NewConnection(loopbackSettings())
	}))
	defer srv.Close()
	tests := []struct {
		name, method, body string
		status             int
		reason             string
	}{
		{"wrong method", http.MethodGet, "", http.StatusMethodNotAllowed, "POST"},
		{"not JSON", http.MethodPost, "{not json", http.StatusBadRequest, "not valid JSON"},
		{"answer instead of offer", http.MethodPost, `{"sdp":"v=0\r\n","type":"answer"}`, http.StatusBadRequest, `"answer"`},
		{"not SDP", http.MethodPost, `{"sdp":"hello","type":"offer"}`, http.StatusBadRequest, "v=0"},
		{"no media section", http.MethodPost, `{"sdp":"v=0\r\nthis is not sdp\r\n","type":"offer"}`, http.StatusBadRequest, "no media section"},
		{"broken SDP", http.MethodPost, `{"sdp":"v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nthis is not sdp\r\n","type":"offer"}`, http.StatusBadRequest, "invalid session description"},
		{"too large", http.MethodPost, `{"sdp":"` + strings.Repeat("a", MaxOfferSize) + `"}`, http.StatusRequestEntityTooLarge, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.reason) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.reason)
			}
		})
	}
	if made != 1 {
		t.Errorf("%d connections made, want 1 (only for the broken SDP)", made)
	}
}

// connectToOneConnectionRobot serves Handler with the tutorial's pattern,
// one long-lived connection returned for every offer, and connects a
// desktop to it. It returns both ends, a subscription to what the robot
// receives, and the robot's URL.
func connectToOneConnectionRobot(t *testing.T) (robot, desktop *Connection, got Subscription[any], url string) {
	t.Helper()
	robot = newConn(t)
	got = robot.Subscribe()
	srv := httptest.NewServer(Handler(func(*http.Request) (*Connection, error) { return robot, nil }))
	t.Cleanup(srv.Close)
	desktop = newConn(t)
	if err := Connect(mediaCtx(t), desktop, srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	return robot, desktop, got, srv.URL
}

func TestConnectOverHTTP(t *testing.T) {
	_, desktop, got, _ := connectToOneConnectionRobot(t)
	desktop.Put(map[string]any{"code": "ABS_X", "state": -12567})
	m, err := got.Get(mediaCtx(t))
	if err != nil || m.(map[string]any)["state"] != -12567.0 {
		t.Fatalf("got %#v, %v", m, err)
	}
}

func TestConnectionsShareOneEncoderPerSource(t *testing.T) {
	const w, h = 160, 120
	frames := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
	defer frames.Close()
	pattern := timecode.NewPattern(w, h)

	// Two viewers of one camera: the camera is subscribed to once.
	var viewers []Subscription[image.Image]
	for range 2 {
		robot, desktop := newConn(t), newConn(t)
		robot.Video().PutSubscription(frames)
		viewers = append(viewers, desktop.Video().Subscribe())
		connectPair(t, desktop, robot)
		defer robot.Close()
	}
	if n := frames.Subscribers(); n != 1 {
		t.Fatalf("the source has %d subscribers, want 1 encoder for both connections", n)
	}
	ctx := mediaCtx(t)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seq := uint32(0)
	for i, v := range viewers {
		received := false
		for !received {
			select {
			case <-tick.C:
				frames.Publish(pattern.Frame(seq, time.Now()))
				seq++
			case img := <-v.(*Latest[image.Image]).C():
				if _, err := timecode.Read(img); err != nil {
					t.Fatalf("viewer %d: %v", i, err)
				}
				received = true
			case <-ctx.Done():
				t.Fatalf("viewer %d received no frame", i)
			}
		}
	}
}

func TestConnectionSeveralVideoTracks(t *testing.T) {
	robot, desktop := newConn(t), newConn(t)
	main, extra := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120}), NewTestPatternCamera(CameraSettings{Width: 320, Height: 240})
	defer main.Close()
	defer extra.Close()
	robot.Video().PutSubscription(main)
	if err := robot.Video().AddTrack(extra); err != nil {
		t.Fatal(err)
	}
	tracks := make(chan Source[image.Image], 2)
	desktop.Video().OnTrack(func(_ string, media Source[image.Image]) { tracks <- media })
	desktop.Video().OfferToReceive(2)
	connectPair(t, desktop, robot)
	if err := robot.Video().AddTrack(extra); !errors.Is(err, ErrNegotiated) {
		t.Errorf("AddTrack after the description: %v, want ErrNegotiated", err)
	}

	// Each incoming track carries one camera's frames, at its size.
	sizes := map[image.Point]bool{}
	ctx := mediaCtx(t)
	for range 2 {
		var media Source[image.Image]
		select {
		case media = <-tracks:
		case <-ctx.Done():
			t.Fatalf("%d tracks announced, want 2", len(sizes))
		}
		sub := media.Subscribe()
		img, err := sub.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sub.Close()
		sizes[img.Bounds().Size()] = true
	}
	if !sizes[image.Pt(160, 120)] || !sizes[image.Pt(320, 240)] {
		t.Fatalf("received frame sizes %v, want 160x120 and 320x240", sizes)
	}
}

func TestConnectionUnreachableSTUNDoesNotStall(t *testing.T) {
	// A STUN server that never answers (nothing listens on 127.0.0.1:9):
	// gathering gives up after STUNTimeout instead of the ICE agent's
	// default wait, and the description is still usable.
	s := loopbackSettings()
	s.ICEServers = []webrtc.ICEServer{{URLs: []string{"stun:127.0.0.1:9"}}}
	s.STUNTimeout = 300 * time.Millisecond // pion's own wait is 5 s
	c, err := NewConnection(s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*s.STUNTimeout)
	defer cancel()
	offer, err := c.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatalf("offer with an unreachable STUN server: %v", err)
	}
	if !strings.Contains(offer.SDP, "a=candidate") {
		t.Fatalf("offer has no candidates:\n%s", offer.SDP)
	}
}

func TestConnectionVideoSizeChange(t *testing.T) {
	robot, desktop := newConn(t), newConn(t)
	frames := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
	defer frames.Close()
	robot.Video().PutSubscription(frames)
	got := desktop.Video().Subscribe().(*Latest[image.Image])
	connectPair(t, desktop, robot)

	ctx := mediaCtx(t)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seq := uint32(0)
	for _, size := range []image.Point{{160, 120}, {320, 240}, {160, 120}} {
		pattern := timecode.NewPattern(size.X, size.Y)
		for received := false; !received; {
			select {
			case <-tick.C:
				frames.Publish(pattern.Frame(seq, time.Now()))
				seq++
			case img := <-got.C():
				_, err := timecode.Read(img)
				received = img.Bounds().Size() == size && err == nil
			case <-ctx.Done():
				t.Fatalf("no readable %v frame after the size changed", size)
			}
		}
	}
}

// A latest-only channel: both ends keep only the newest command, so a
// sender that cannot send yet, or a reader that falls behind, skips to the
// newest instead of replaying old ones.
func TestConnectionLatestChannel(t *testing.T) {
	a, b := newConn(t), newConn(t)
	drive, err := a.AddLatestChannel("drive")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := range n { // before the channel opens: only the newest waits
		drive.Put(i)
	}
	announced := make(chan *DataChannel, 1)
	speeds := NewQueue[any](n) // to see every message that arrives
	b.OnDataChannel(func(d *DataChannel) {
		d.SubscribeWith(speeds) // before any message: the callback runs before the channel opens
		announced <- d
	})
	connectPair(t, a, b)
	remote := recv(t, announced)
	if !drive.IsLatestOnly() || !remote.IsLatestOnly() {
		t.Fatalf("latest-only: sender %v, receiver %v", drive.IsLatestOnly(), remote.IsLatestOnly())
	}
	if _, ok := remote.Subscribe().(*Latest[any]); !ok {
		t.Error("subscriptions to a latest-only channel are not latest-only")
	}
	// At most one older command (the one the sender held, waiting for the
	// channel, while the rest were put), then the newest.
	var got []any
	for len(got) == 0 || got[len(got)-1] != float64(n-1) {
		got = append(got, mustGet(t, speeds))
		if len(got) > 2 {
			t.Fatalf("received %v: old commands were replayed", got)
		}
	}
	if sent := drive.Stats().MessagesSent; sent > 2 {
		t.Fatalf("%d of %d commands put before the channel opened were sent, want the newest (and at most the first)", sent, n)
	}
}

// An OnTrack callback may close its connection: Close does not wait for
// the callback that called it, and the track is not read after.
func TestOnTrackCallbackMayClose(t *testing.T) {
	robot, desktop := newConn(t), newConn(t)
	cam := NewTestPatternCamera(CameraSettings{Width: 64, Height: 48})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	closed := make(chan error, 1)
	desktop.Video().OnTrack(func(string, Source[image.Image]) { closed <- desktop.Close() })
	frames := desktop.Video().Subscribe() // implies a receive slot in the offer
	ctx := mediaCtx(t)
	offer, err := desktop.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := robot.GetLocalDescription(ctx, &offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := desktop.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, closed); err != nil {
		t.Fatalf("Close from OnTrack: %v", err)
	}
	closedWithin(t, desktop.Done(), "desktop Done")
	wantClosed(t, frames)
	closedWithin(t, robot.Done(), "robot Done after the desktop closed")
}

// A first PutSubscription or Put after the description has no track to
// feed: the stream's error event says so with ErrNegotiated.
func TestPutSubscriptionAfterNegotiation(t *testing.T) {
	robot, desktop := newConn(t), newConn(t)
	connectPair(t, desktop, robot)
	cam := NewTestPatternCamera(CameraSettings{Width: 64, Height: 48})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	if err := robot.Video().Err(); !errors.Is(err, ErrNegotiated) {
		t.Fatalf("video Err after a late PutSubscription: %v, want ErrNegotiated", err)
	}
	reported := make(chan error, 1)
	robot.Audio().OnError(func(err error) { reported <- err })
	robot.Audio().Put(AudioChunk{Samples: make([]float32, 960), Channels: 1, SampleRate: 48000})
	if err := recv(t, reported); !errors.Is(err, ErrNegotiated) {
		t.Fatalf("audio error after a late Put: %v, want ErrNegotiated", err)
	}
}

// A label in use is refused with ErrChannelExists; a closed connection
// refuses with ErrClosed.
func TestAddDataChannelErrors(t *testing.T) {
	c := newConn(t)
	if _, err := c.AddDataChannel(DefaultChannelLabel, true); !errors.Is(err, ErrChannelExists) {
		t.Errorf("AddDataChannel(default): %v, want ErrChannelExists", err)
	}
	if _, err := c.AddDataChannel("x", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddLatestChannel("x"); !errors.Is(err, ErrChannelExists) {
		t.Errorf("second channel x: %v, want ErrChannelExists", err)
	}
	c.Close()
	if _, err := c.AddDataChannel("y", true); !errors.Is(err, ErrClosed) {
		t.Errorf("AddDataChannel after Close: %v, want ErrClosed", err)
	}
	if err := c.SetRemoteDescription(SessionDescription{Type: "answer"}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetRemoteDescription after Close: %v, want ErrClosed", err)
	}
}

// LoopbackOnly and IPFilter combine: a local address is offered only if it
// is IPv4 loopback and the filter accepts it, and the filter is asked about
// nothing else.
func TestLoopbackOnlyCombinesWithIPFilter(t *testing.T) {
	f := candidateFilter(ConnectionSettings{LoopbackOnly: true, IPFilter: func(ip net.IP) bool { return !ip.Equal(net.IPv4(127, 0, 0, 2)) }})
	for ip, want := range map[string]bool{"127.0.0.1": true, "127.0.0.2": false, "::1": false, "192.168.1.10": false} {
		if got := f(net.ParseIP(ip)); got != want {
			t.Errorf("combined filter(%s) = %v, want %v", ip, got, want)
		}
	}
	if candidateFilter(ConnectionSettings{}) != nil {
		t.Error("no filter set, but candidateFilter is not nil")
	}

	for _, accept := range []bool{true, false} {
		t.Run(fmt.Sprintf("accept=%v", accept), func(t *testing.T) {
			var mu sync.Mutex
			var asked []string
			c, err := NewConnection(ConnectionSettings{LoopbackOnly: true, IPFilter: func(ip net.IP) bool {
				mu.Lock()
				asked = append(asked, ip.String())
				mu.Unlock()
				return accept
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			offer, err := c.GetLocalDescription(mediaCtx(t), nil)
			if err != nil {
				t.Fatalf("offer: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(asked) == 0 {
				t.Fatal("IPFilter was never asked: LoopbackOnly replaced it")
			}
			for _, ip := range asked {
				if !net.ParseIP(ip).IsLoopback() || net.ParseIP(ip).To4() == nil {
					t.Errorf("IPFilter asked about %s, which LoopbackOnly refuses", ip)
				}
			}
			if has := strings.Contains(offer.SDP, " 127.0.0.1 "); has != accept {
				t.Fatalf("offer has a 127.0.0.1 candidate: %v, want %v (IPFilter returns %v):\n%s", has, accept, accept, offer.SDP)
			}
		})
	}
}
