//go:build linux

package livekit

import (
	"bytes"
	"errors"
	"image"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/codec/vp8"
	"github.com/rtcbot-go/rtcbot/internal/livekittest"
)

// encodes counts the pictures every VP8 encoder of the test binary was
// given: the robot's encode count.
var encodes atomic.Int64

// countingEncoder is libvpx counting its pictures. It hides the
// encoder's AppendEncode, so that every picture goes through Encode.
type countingEncoder struct{ enc *vp8.Encoder }

func (e countingEncoder) Encode(img *image.YCbCr, pts time.Duration, key bool) ([]byte, bool, error) {
	encodes.Add(1)
	return e.enc.Encode(img, pts, key)
}

func (e countingEncoder) SetBitrate(bps int) error { return e.enc.SetBitrate(bps) }

func (e countingEncoder) Close() error { return e.enc.Close() }

func init() {
	rtcbot.RegisterVideoEncoder("VP8", func(s rtcbot.VideoEncoderSettings) (rtcbot.VideoEncoder, error) {
		enc, err := vp8.NewEncoder(vp8.EncoderSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate})
		if err != nil {
			return nil, err
		}
		return countingEncoder{enc}, nil
	})
}

// window measures the robot's encodes, and the uplink bytes bytesSent
// counts, over d. The wait is the measurement itself, not a
// synchronisation.
func window(bytesSent func() uint64, d time.Duration) (encoded int64, sent uint64) {
	e0, b0 := encodes.Load(), bytesSent()
	time.Sleep(d)
	return encodes.Load() - e0, bytesSent() - b0
}

// Three viewers each get frames of the robot's size whose time codes
// read, and the robot encodes and sends the same for three as for one:
// the server forwards one uplink stream to each.
func TestThreeViewersOneEncode(t *testing.T) {
	const w, h = 320, 240
	s := startServer(t)
	r := joinRobot(t, s, "lab", w, h)
	v1 := joinViewer(t, s, "lab", "viewer1")
	readFrames(t, testCtx(t), v1.Video().Subscribe(), 30, w, h)
	sent := func() uint64 { return r.Stats().BytesSent }
	encoded1, sent1 := window(sent, 2*time.Second)

	var wg sync.WaitGroup
	viewers := []*Viewer{v1, joinViewer(t, s, "lab", "viewer2"), joinViewer(t, s, "lab", "viewer3")}
	for _, v := range viewers {
		frames := v.Video().Subscribe()
		wg.Go(func() { readFrames(t, testCtx(t), frames, 30, w, h) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	encoded3, sent3 := window(sent, 2*time.Second)
	st := r.Stats()
	t.Logf("one viewer: %d encodes, %d bytes sent in 2 s; three: %d encodes, %d bytes; %+v", encoded1, sent1, encoded3, sent3, st)

	// The camera makes 60 frames in 2 s, one encode each; the ticker and
	// the window's edges move it by a frame or two, and the encoder may skip
	// a frame under its rate control: a tenth either way. The uplink
	// carries the encoder's output, which keeps to its target (the default
	// most, 230 kbit/s at 320x240, as the loopback's estimate is above it)
	// within its rate control's swing, plus a keyframe a new subscriber
	// asks for: a third either way; three encodes would be three times.
	if encoded1 < 50 || encoded1 > 66 || encoded3 < 50 || encoded3 > 66 {
		t.Errorf("encodes in 2 s: %d with one viewer, %d with three; want about 60 each (30 fps, one encode per frame)", encoded1, encoded3)
	}
	if ratio := float64(sent3) / float64(sent1); ratio < 0.67 || ratio > 1.33 {
		t.Errorf("uplink bytes in 2 s: %d with one viewer, %d with three (ratio %.2f); want the same", sent1, sent3, ratio)
	}
	if st.TargetBitrate == 0 {
		t.Errorf("no congestion control estimate from the server's feedback: %+v", st)
	}
}

// Two operators' controls reach the robot complete and in order per
// operator, through a watchdog, which fires when they stop; a non-JSON
// message is a string, a payload that is not UTF-8 is []byte;
// the robot's telemetry
// reaches the operators.
func TestControlsFromTwoOperators(t *testing.T) {
	s := startServer(t)
	r, err := JoinRobot(testCtx(t), s.WebsocketURL, token(t, "lab", "robot"), RobotSettings{MessageQueueCapacity: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	msgs := r.SubscribeMessages()
	controls := rtcbot.NewWatchdog[any](300*time.Millisecond, rtcbot.NewQueue[any](1024))
	r.SubscribeWith(controls)
	timedOut := make(chan struct{}, 4)
	controls.OnTimeout(func() { timedOut <- struct{}{} })
	<-timedOut // nothing came yet: the watchdog starts timed out

	var ops []*Viewer
	for _, id := range []string{"op1", "op2"} {
		// A queue for all the controls put at once: the default one holds
		// 64, dropping the oldest, as for any rtcbot message queue.
		v, err := JoinViewer(testCtx(t), s.WebsocketURL, token(t, "lab", id), ViewerSettings{Robot: "robot", MessageQueueCapacity: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		ops = append(ops, v)
	}
	telemetry := ops[0].Subscribe()
	const n = 200
	for i := range n {
		for _, op := range ops {
			op.Put(map[string]any{"op": op.Identity(), "seq": i})
		}
	}
	ops[0].Put([]byte("not json {"))
	ops[0].Put([]byte{0xff, 0xfe, 0x00})
	ops[1].Put("last")

	next := map[string]int{}
	var text, binary, last bool
	ctx := testCtx(t)
	for !(next["op1"] == n && next["op2"] == n && text && binary && last) {
		m, err := msgs.Get(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", next, err)
		}
		switch v := m.Value.(type) {
		case map[string]any:
			if v["op"] != m.From || v["seq"] != float64(next[m.From]) {
				t.Fatalf("from %s: %v, want seq %d", m.From, v, next[m.From])
			}
			next[m.From]++
		case string:
			if v == "last" {
				last = m.From == "op2"
			} else {
				text = v == "not json {" && m.From == "op1"
			}
		case []byte:
			binary = bytes.Equal(v, []byte{0xff, 0xfe, 0x00})
		default:
			t.Fatalf("from %s: %T %v", m.From, v, v)
		}
	}
	// The watchdog got every message in the same order.
	for i := 0; i < 2*n+3; i++ {
		if _, err := controls.Get(ctx); err != nil {
			t.Fatalf("watchdog message %d: %v", i, err)
		}
	}
	select {
	case <-timedOut:
	case <-time.After(5 * time.Second):
		t.Fatal("the watchdog did not fire after the controls stopped")
	}
	if st := r.Stats(); st.MessagesDropped != 0 || st.MessagesReceived != 2*n+3 {
		t.Errorf("robot stats %+v: want none dropped, %d received", st, 2*n+3)
	}

	r.Put(map[string]any{"battery": 12.5})
	got, err := telemetry.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := got.(map[string]any); !ok || m["battery"] != 12.5 {
		t.Errorf("telemetry = %#v", got)
	}
}

// A token signed with the wrong secret, and one that has expired, are
// refused at once with errors matching ErrUnauthorized (and
// ErrTokenExpired) that say why.
func TestBadTokens(t *testing.T) {
	s := startServer(t)
	wrong, err := Token(livekittest.APIKey, strings.Repeat("w", 40), Grant{Room: "lab", Identity: "robot"})
	if err != nil {
		t.Fatal(err)
	}
	expired := livekittest.ExpiredToken("lab", "robot")
	for _, tt := range []struct {
		name, token string
		expired     bool
	}{{"wrong secret", wrong, false}, {"expired", expired, true}} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r, err := JoinRobot(testCtx(t), s.WebsocketURL, tt.token, RobotSettings{})
			if err == nil {
				r.Close()
				t.Fatal("joined")
			}
			t.Logf("%v after %v", err, time.Since(start))
			if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, rtcbot.ErrUnauthorized) {
				t.Errorf("error %v does not match ErrUnauthorized", err)
			}
			if errors.Is(err, ErrTokenExpired) != tt.expired {
				t.Errorf("error %v: matches ErrTokenExpired %v, want %v", err, !tt.expired, tt.expired)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("refused after %v: want at once", time.Since(start))
			}
			v, err := JoinViewer(testCtx(t), s.WebsocketURL, tt.token, ViewerSettings{})
			if !errors.Is(err, ErrUnauthorized) {
				if v != nil {
					v.Close()
				}
				t.Errorf("viewer: %v, want ErrUnauthorized", err)
			}
		})
	}
	for _, g := range []Grant{{Identity: "x"}, {Room: "x"}, {Room: "x", Identity: "y", ValidFor: -time.Second}} {
		if _, err := Token(livekittest.APIKey, livekittest.APISecret, g); !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("Token(%+v) = %v, want ErrInvalidGrant", g, err)
		}
	}
}

// The server killed and restarted: the robot republishes and the viewer
// gets new frames again, within a bounded number of retries, and neither
// gives up.
func TestServerRestart(t *testing.T) {
	const w, h = 320, 240
	s := startServer(t)
	r := joinRobot(t, s, "lab", w, h)
	v := joinViewer(t, s, "lab", "viewer")
	frames := v.Video().Subscribe()
	before := readFrames(t, testCtx(t), frames, 10, w, h)
	oldPID := s.PID()
	s.Kill()
	killed := time.Now()
	s.Restart()
	if s.PID() == oldPID {
		t.Fatal("same server process")
	}
	ctx := testCtx(t)
	for {
		after := readFrames(t, ctx, frames, 1, w, h)
		if after.Seq > before.Seq+30 { // captured after the restart
			break
		}
	}
	readFrames(t, ctx, frames, 30, w, h)
	rs, vs := r.Stats(), v.Stats()
	t.Logf("frames again %v after the kill; robot %+v; viewer %+v", time.Since(killed), rs, vs)
	if rs.Reconnects+rs.Rejoins == 0 || rs.Rejoins > 5 || vs.Rejoins > 5 {
		t.Errorf("robot reconnected %d times, rejoined %d; viewer rejoined %d: want 1 or more, within 5 rejoins", rs.Reconnects, rs.Rejoins, vs.Rejoins)
	}
	for _, err := range []error{r.Err(), v.Err()} {
		if err != nil {
			t.Errorf("error after the restart: %v", err)
		}
	}
	select {
	case <-r.Done():
		t.Error("the robot gave up")
	default:
	}
}

// A packet over rtcbot.MaxMessageSize (the server and SCTP carry up to
// 64 KiB too, so it is given here directly) is dropped and counted, and
// bad text is a string: nothing a sender puts in a packet stops the
// messages after it.
func TestDeliverHostilePackets(t *testing.T) {
	s, err := newSession("ws://127.0.0.1:1", "", sessionSettings{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	msgs := s.messages.Subscribe()
	for _, p := range [][]byte{
		bytes.Repeat([]byte("["), rtcbot.MaxMessageSize+1),
		[]byte(`{"a": NaN, "b": [Infinity`),
		[]byte(`{"a": NaN}`),
		{},
		[]byte(`"ok"`),
	} {
		s.deliver("op", "", p)
	}
	ctx := testCtx(t)
	var got []any
	for range 4 {
		m, err := msgs.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Value)
	}
	if got[0] != `{"a": NaN, "b": [Infinity` || got[2] != "" || got[3] != "ok" {
		t.Errorf("messages %#v", got)
	}
	if m, ok := got[1].(map[string]any); !ok || m["a"] == nil {
		t.Errorf("lenient NaN: %#v", got[1])
	}
	if st := s.stats(); st.MessagesDropped != 1 || st.MessagesReceived != 4 {
		t.Errorf("stats %+v: want 1 dropped, 4 received", st)
	}
}

// When the SDK gives up on the room, the robot and the viewer join it
// afresh: the robot republishes, the viewer decodes its new track.
func TestRejoinAfterTheSDKGaveUp(t *testing.T) {
	const w, h = 320, 240
	s := startServer(t)
	r := joinRobot(t, s, "lab", w, h)
	v := joinViewer(t, s, "lab", "viewer")
	frames := v.Video().Subscribe()
	before := readFrames(t, testCtx(t), frames, 5, w, h)
	for _, ss := range []*session{r.s, v.s} {
		ss.mu.Lock()
		gen := ss.gen
		ss.mu.Unlock()
		ss.lost(gen) // what the SDK's OnDisconnected does
	}
	ctx := testCtx(t)
	for {
		if after := readFrames(t, ctx, frames, 1, w, h); after.Seq > before.Seq+30 {
			break
		}
	}
	readFrames(t, ctx, frames, 30, w, h)
	if rs, vs := r.Stats(), v.Stats(); rs.Rejoins != 1 || vs.Rejoins != 1 {
		t.Errorf("rejoins: robot %d, viewer %d; want 1 each", rs.Rejoins, vs.Rejoins)
	}
	if r.Err() != nil || v.Err() != nil {
		t.Errorf("errors: %v, %v", r.Err(), v.Err())
	}
}

// The robot's microphone reaches the viewer as 48 kHz audio chunks.
func TestAudio(t *testing.T) {
	s := startServer(t)
	tone, err := rtcbot.NewToneSource(rtcbot.ToneSettings{})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	r, err := JoinRobot(testCtx(t), s.WebsocketURL, token(t, "lab", "robot"), RobotSettings{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.PublishAudio(testCtx(t), tone); err != nil {
		t.Fatal(err)
	}
	v := joinViewer(t, s, "lab", "viewer")
	chunks := v.Audio().Subscribe()
	ctx := testCtx(t)
	var samples int
	for samples < 48000/2 {
		c, err := chunks.Get(ctx)
		if err != nil {
			t.Fatalf("after %d samples: %v", samples, err)
		}
		if c.SampleRate != 48000 {
			t.Fatalf("chunk at %d Hz", c.SampleRate)
		}
		samples += len(c.Samples) / c.Channels
	}
}

// A viewer whose token allows no data packets gets its controls counted
// as send failures, not silently dropped by the server.
func TestPutWithoutDataPermission(t *testing.T) {
	s := startServer(t)
	joinRobot(t, s, "lab", 160, 120)
	tok, err := Token(livekittest.APIKey, livekittest.APISecret, Grant{Room: "lab", Identity: "watcher", NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := JoinViewer(testCtx(t), s.WebsocketURL, tok, ViewerSettings{Robot: "robot"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	v.Put(map[string]any{"speed": 1})
	ctx := testCtx(t)
	for v.Stats().SendFailures == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("stats %+v: the message without permission was not counted as a failure", v.Stats())
		case <-time.After(10 * time.Millisecond): // the outgoing queue's goroutine sends it
		}
	}
	if st := v.Stats(); st.MessagesSent != 0 {
		t.Fatalf("stats %+v: counted as sent", st)
	}
}

// The SDK's logs reach a robot's logger one level down, with the join
// token hidden wherever it appears.
func TestSDKLoggerHidesToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := sdkLogger(log, "eyJsecret")
	l.Errorw("could not join: invalid token: eyJsecret", errors.New("response eyJsecret"), "url", "ws://x/?access_token=eyJsecret", "n", 3)
	l.WithValues("token", "eyJsecret").Infow("joining")
	out := buf.String()
	if strings.Contains(out, "eyJsecret") || strings.Count(out, "<token>") != 4 {
		t.Fatalf("token not hidden:\n%s", out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "n=3") {
		t.Fatalf("levels or attributes lost:\n%s", out)
	}
}

// The same over WHIP: a robot publishing with rtcbot.ConnectWHIP to the
// server's /whip/v1 reaches three viewers, each with frames of its size
// whose time codes read, and encodes and sends the same for three as for
// one.
func TestWHIPThreeViewersOneEncode(t *testing.T) {
	const w, h = 320, 240
	s := startServer(t)
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: w, Height: h, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	robot, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	robot.Video().PutSubscription(cam.Subscribe())
	if err := rtcbot.ConnectWHIP(testCtx(t), robot, s.URL+"/whip/v1", livekittest.Token(t, "lab", "robot", time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	sent := func() uint64 { return robot.LinkStats().VideoBytesSent }
	v1 := joinViewer(t, s, "lab", "viewer1")
	readFrames(t, testCtx(t), v1.Video().Subscribe(), 30, w, h)
	encoded1, sent1 := window(sent, 2*time.Second)

	var wg sync.WaitGroup
	for _, v := range []*Viewer{v1, joinViewer(t, s, "lab", "viewer2"), joinViewer(t, s, "lab", "viewer3")} {
		frames := v.Video().Subscribe()
		wg.Go(func() { readFrames(t, testCtx(t), frames, 30, w, h) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	encoded3, sent3 := window(sent, 2*time.Second)
	t.Logf("WHIP, one viewer: %d encodes, %d bytes in 2 s; three: %d encodes, %d bytes; %v", encoded1, sent1, encoded3, sent3, robot.LinkStats())
	// The tolerances of TestThreeViewersOneEncode.
	if encoded1 < 50 || encoded1 > 66 || encoded3 < 50 || encoded3 > 66 {
		t.Errorf("encodes in 2 s: %d with one viewer, %d with three; want about 60 each", encoded1, encoded3)
	}
	if ratio := float64(sent3) / float64(sent1); ratio < 0.67 || ratio > 1.33 {
		t.Errorf("uplink bytes in 2 s: %d with one viewer, %d with three (ratio %.2f); want the same", sent1, sent3, ratio)
	}
}
