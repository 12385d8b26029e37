package rtcbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// The interop tests pair a Go Connection with a real Python WebRTC stack:
// testdata/interop/peer.py, which does on the wire what Python RTCBot does,
// using aiortc (Debian's python3-aiortc; RTCBot itself is not installed).
// Everything stays on 127.0.0.1.

// interopPython is the interpreter with aiortc: the system one, not
// whatever python is first on PATH.
const interopPython = "/usr/bin/python3"

// interopTimeout bounds each interop test.
const interopTimeout = 30 * time.Second

// requireAiortc fails the test, naming the package to install, unless
// interopPython can import aiortc.
func requireAiortc(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, interopPython, "-c", "import aiortc; print(aiortc.__version__)").Output()
	if err != nil {
		t.Fatalf("%s cannot import aiortc (%v): install it with sudo apt-get install python3-aiortc (or bash scripts/setup.sh)", interopPython, err)
	}
	t.Logf("%s has aiortc %s", interopPython, strings.TrimSpace(string(out)))
}

// syncBuffer is a bytes.Buffer safe for use from two goroutines: a
// process's stderr copied by exec, or a logger's output read by a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWriter passes each complete line written to it to lines, dropping
// lines nobody reads. exec's one copying goroutine calls Write.
type lineWriter struct {
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}

// pythonPeer is a running peer.py.
type pythonPeer struct {
	// ctx ends after interopTimeout, or as soon as peer.py exits, with the
	// exit as its cause: every wait on the peer uses it.
	ctx   context.Context
	stdin io.WriteCloser
	lines chan string // lines peer.py prints on stdout
	logs  *syncBuffer // what it printed on stderr
	// kill ends peer.py at once (SIGKILL), as a peer that vanishes.
	kill func()
}

// startPythonPeer runs peer.py with args. At the test's end its stdin is
// closed, which makes it close its connection and exit; it is killed if it
// has not exited within 10 s, and its stderr is logged.
func startPythonPeer(t *testing.T, args ...string) *pythonPeer {
	t.Helper()
	procCtx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(procCtx, interopPython, append([]string{"testdata/interop/peer.py"}, args...)...)
	cmd.Env = append(cmd.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	cmd.WaitDelay = 5 * time.Second
	logs := &syncBuffer{}
	cmd.Stderr = logs
	lines := make(chan string, 4)
	cmd.Stdout = &lineWriter{lines: lines}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		kill()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		kill()
		t.Fatalf("start peer.py: %v", err)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	ctx, cancelTimeout := context.WithTimeout(ctx, interopTimeout)
	var killed atomic.Bool
	exited := make(chan struct{})
	var waitErr error
	go func() {
		defer close(exited)
		waitErr = cmd.Wait()
		cancel(fmt.Errorf("peer.py exited (%v); its stderr is logged below", waitErr))
	}()
	t.Cleanup(func() {
		defer cancelTimeout()
		defer kill()
		stdin.Close()
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-exited:
			if waitErr != nil && !killed.Load() {
				t.Errorf("peer.py failed: %v", waitErr)
			}
		case <-timer.C:
			kill()
			<-exited
			t.Errorf("peer.py did not exit after its stdin closed; killed it")
		}
		if out := logs.String(); out != "" {
			t.Logf("peer.py stderr:\n%s", out)
		}
	})
	return &pythonPeer{ctx: ctx, stdin: stdin, lines: lines, logs: logs, kill: func() {
		killed.Store(true)
		kill()
	}}
}

// fail ends the test with what went wrong, saying why the peer's context
// ended if it did.
func (p *pythonPeer) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	if cause := context.Cause(p.ctx); cause != nil {
		format += "\n(waits ended: %v)"
		args = append(args, cause)
	}
	t.Fatalf(format, args...)
}

// readLine returns the next line peer.py prints on stdout.
func (p *pythonPeer) readLine(t *testing.T) string {
	t.Helper()
	select {
	case line := <-p.lines:
		return line
	case <-p.ctx.Done():
		p.fail(t, "no line from peer.py")
		panic("unreachable")
	}
}

// loopbackOnlySDP removes every candidate whose address is not 127.0.0.1,
// so this side never sends to another address, and reports how many it kept.
func loopbackOnlySDP(t testing.TB, sdp string) (string, int) {
	t.Helper()
	lines := strings.SplitAfter(sdp, "\n")
	kept, candidates := lines[:0], 0
	for _, line := range lines {
		if strings.HasPrefix(line, "a=candidate:") {
			if f := strings.Fields(line); len(f) < 5 || f[4] != "127.0.0.1" {
				t.Logf("dropping non-loopback candidate %q", strings.TrimSpace(line))
				continue
			}
			candidates++
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, ""), candidates
}

// parseDescriptionJSON checks that body is a description in RTCBot's exact
// shape (the keys sdp and type, nothing else) and returns it with only
// loopback candidates. It may run on any goroutine.
func parseDescriptionJSON(t *testing.T, body []byte, wantType string) (SessionDescription, error) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return SessionDescription{}, fmt.Errorf("description from Python is not JSON: %w: %q", err, body)
	}
	if _, ok := raw["sdp"].(string); !ok || len(raw) != 2 || raw["type"] != wantType {
		return SessionDescription{}, fmt.Errorf("description from Python has keys %v and type %v; want exactly sdp and type %q",
			slices.Sorted(maps.Keys(raw)), raw["type"], wantType)
	}
	desc := SessionDescription{SDP: raw["sdp"].(string), Type: wantType}
	var n int
	desc.SDP, n = loopbackOnlySDP(t, desc.SDP)
	if n == 0 {
		return SessionDescription{}, fmt.Errorf("Python's %s has no 127.0.0.1 candidate:\n%s", wantType, desc.SDP)
	}
	return desc, nil
}

// publishPattern publishes stamped 320x240 pattern frames into src at
// 30 fps until the test ends.
func publishPattern(t *testing.T, src *Producer[image.Image]) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pattern := timecode.NewPattern(320, 240)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for seq := uint32(0); ; seq++ {
			select {
			case <-tick.C:
				src.Publish(pattern.Frame(seq, time.Now()))
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		src.Close()
	})
}

// interopMessages are what Go sends; Python echoes each as {"echo": msg}.
// They are JSON-decoded values, so an echo compares with reflect.DeepEqual.
func interopMessages() []any {
	return []any{
		map[string]any{"code": "BTN_SOUTH", "state": 1.0, "event": "Key", "timestamp": 1712345678.25},
		"a plain string",
		42.0,
		[]any{1.0, "two", true, nil, map[string]any{}},
		"unicode: grüße ✓ 🤖",
		strings.Repeat("0123456789", 4000), // 40 kB, under aiortc's 64 KiB
		nil,
	}
}

// exchangeMessages sends interopMessages once conn is ready and checks what
// Python sends: its raw string and JSON greeting, then the echoes in order.
// If wantVideoReport, it also waits for Python's report of the Go video it
// decoded.
func exchangeMessages(t *testing.T, py *pythonPeer, conn *Connection, received Subscription[any], wantVideoReport bool) {
	t.Helper()
	select {
	case <-conn.Ready():
	case <-py.ctx.Done():
		py.fail(t, "connection to the Python peer not ready in time")
	}
	sent := interopMessages()
	for _, m := range sent {
		conn.Put(m)
	}

	next, echoes, videoReported := 0, 0, false
	for next < 2 || echoes < len(sent) || (wantVideoReport && !videoReported) {
		m, err := received.Get(py.ctx)
		if err != nil {
			py.fail(t, "after %d greetings, %d echoes and video report %v: %v", next, echoes, videoReported, err)
		}
		if obj, ok := m.(map[string]any); ok && obj["video"] != nil {
			checkVideoReport(t, obj["video"])
			videoReported = true
			continue
		}
		switch {
		case next == 0:
			if m != "hello from aiortc, not JSON" {
				t.Fatalf("first message %#v, want Python's raw non-JSON string", m)
			}
			next++
		case next == 1:
			checkGreeting(t, m)
			next++
		default:
			obj, ok := m.(map[string]any)
			if !ok || len(obj) != 1 {
				t.Fatalf("echo %d: got %#v, want {\"echo\": ...}", echoes, m)
			}
			if echoes >= len(sent) {
				t.Fatalf("unexpected extra message %#v", m)
			}
			if want := sent[echoes]; !reflect.DeepEqual(obj["echo"], want) {
				t.Fatalf("echo %d: got %.200v, want %.200v", echoes, obj["echo"], want)
			}
			echoes++
		}
	}
}

// checkGreeting checks Python's JSON greeting, with its non-finite numbers.
func checkGreeting(t *testing.T, m any) {
	t.Helper()
	obj, ok := m.(map[string]any)
	if !ok || obj["from"] != "python" || obj["text"] != "grüße ✓" {
		t.Fatalf("greeting: got %#v", m)
	}
	vs, ok := obj["values"].([]any)
	if !ok || len(vs) != 4 {
		t.Fatalf("greeting values: got %#v", obj["values"])
	}
	f := make([]float64, len(vs))
	for i, v := range vs {
		if f[i], ok = v.(float64); !ok {
			t.Fatalf("greeting value %d: got %#v, want a number", i, v)
		}
	}
	if f[0] != 1.5 || !math.IsNaN(f[1]) || !math.IsInf(f[2], 1) || !math.IsInf(f[3], -1) {
		t.Fatalf("greeting values: got %v, want [1.5 NaN +Inf -Inf]", f)
	}
	t.Logf("Python peer runs aiortc %v", obj["aiortc"])
}

// checkVideoReport checks Python's report of the Go video it decoded.
func checkVideoReport(t *testing.T, v any) {
	t.Helper()
	r, ok := v.(map[string]any)
	if !ok || r["width"] != 320.0 || r["height"] != 240.0 {
		t.Fatalf("Python decoded Go's video as %#v, want 320x240 frames", v)
	}
	if valid, _ := r["valid"].(float64); valid < 10 {
		t.Fatalf("Python read time codes from %v frames, want >= 10: %#v", r["valid"], r)
	}
	t.Logf("Python decoded Go's video: %v", r)
}

// receivePythonVideo checks that frames of Python's video arrive at
// 320x240 with readable, increasing time codes.
func receivePythonVideo(t *testing.T, py *pythonPeer, frames Subscription[image.Image]) {
	t.Helper()
	const want = 15
	valid, unreadable := 0, 0
	var last timecode.Stamp
	var latency time.Duration
	for valid < want {
		img, err := frames.Get(py.ctx)
		if err != nil {
			py.fail(t, "%d frames with time codes received, %d without: %v", valid, unreadable, err)
		}
		if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
			t.Fatalf("Python's frame is %dx%d, want 320x240", b.Dx(), b.Dy())
		}
		s, err := timecode.Read(img)
		if err != nil {
			unreadable++
			if unreadable > want {
				t.Fatalf("%d of Python's frames without a readable time code: %v", unreadable, err)
			}
			continue
		}
		if valid > 0 && s.Seq <= last.Seq {
			t.Fatalf("frame %d arrived after frame %d", s.Seq, last.Seq)
		}
		last = s
		latency = max(latency, s.Latency(time.Now()))
		valid++
	}
	t.Logf("received Python's frames up to %d (%d unreadable), worst latency %v", last.Seq, unreadable, latency)
}

// TestInteropPythonOfferer: Python makes the offer (a "default" channel and
// a send-receive video track) and posts it as text/plain to our Handler; Go
// answers, sending video back.
func TestInteropPythonOfferer(t *testing.T) {
	requireAiortc(t)
	conn := newConn(t)
	received := conn.Subscribe()
	frames := conn.Video().Subscribe()
	src := NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
	conn.Video().PutSubscription(src)
	publishPattern(t, src)

	contentType := make(chan string, 1)
	srv := servePythonOffer(t, conn, func(r *http.Request, _ SessionDescription) {
		select {
		case contentType <- r.Header.Get("Content-Type"):
		default:
			t.Error("Python posted more than one offer")
		}
	})
	defer srv.Close()
	if !strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("test server on %s, want 127.0.0.1", srv.Listener.Addr())
	}

	py := startPythonPeer(t, "offer", srv.URL+"/connect")
	exchangeMessages(t, py, conn, received, true)
	// RTCBot's browser client posts text/plain; Handler must take it.
	if ct := <-contentType; !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Python posted its offer as %q, want text/plain", ct)
	}
	if answer := conn.pc.LocalDescription().SDP; !strings.Contains(answer, "a=msid:rtcbot ") {
		t.Errorf("Go's answer gives its video track no msid stream:\n%s", answer)
	}
	receivePythonVideo(t, py, frames)
}

// TestInteropPythonAnswerer: Go makes the offer, asking to receive video
// (subscribed before the offer); Python answers over stdin/stdout and sends
// its video.
func TestInteropPythonAnswerer(t *testing.T) {
	requireAiortc(t)
	py := startPythonPeer(t, "answer")
	conn := newConn(t)
	received := conn.Subscribe()
	frames := conn.Video().Subscribe() // before the offer: asks for video
	offer, err := conn.GetLocalDescription(py.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if offer.Type != "offer" || !strings.Contains(offer.SDP, "m=video") || !strings.Contains(offer.SDP, "a=recvonly") {
		t.Fatalf("Go's offer does not ask for video:\n%s", offer.SDP)
	}
	sendOfferToPython(t, py, conn, offer)
	exchangeMessages(t, py, conn, received, false)
	receivePythonVideo(t, py, frames)
}

// TestInteropREMB: aiortc (so Python RTCBot) estimates its link from REMB
// only; the Go side sends it one made from the packets' abs-send-time, and
// aiortc's sender takes it for its video (its log says so) and gives it to
// its encoder as the target. (How many bits the encoder then spends
// depends on the picture: on rtcbench's 640x480 pattern 990 kbit/s against
// 504 without REMB; on this test's simple 320x240 one it stays near 500.)
func TestInteropREMB(t *testing.T) {
	requireAiortc(t)
	py := startPythonPeer(t, "answer")
	conn := newConn(t)
	frames := conn.Video().Subscribe()
	defer frames.Close()
	offer, err := conn.GetLocalDescription(py.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendOfferToPython(t, py, conn, offer)
	accepted := regexp.MustCompile(`receiver estimated maximum bitrate (\d+) bps`)
	var samples []byteSample // what arrived, every 500 ms
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-py.ctx.Done():
			py.fail(t, "aiortc took no REMB from the Go side (last estimate sent %d bit/s; received %v kbit/s a second)",
				conn.LinkStats().EstimateSent, rates(samples))
		}
		s := conn.LinkStats()
		samples = append(samples, byteSample{time.Now(), s.VideoBytesReceived})
		took := accepted.FindAllStringSubmatch(py.logs.String(), -1)
		if len(took) < 3 {
			continue
		}
		for _, m := range took {
			// The estimate is never under the floor (REMB's mantissa and
			// exponent round it by under 0.1%), nor absurd.
			if bps, _ := strconv.Atoi(m[1]); bps < lowestBitrate*999/1000 || bps > 100_000_000 {
				t.Fatalf("aiortc took a REMB of %d bit/s", bps)
			}
		}
		if s.EstimateSent == 0 {
			t.Fatal("aiortc took REMBs, but LinkStats.EstimateSent is 0")
		}
		t.Logf("aiortc took %d REMBs, the last %s bit/s; received %v kbit/s a second", len(took), took[len(took)-1][1], rates(samples))
		return
	}
}

// byteSample is a count of bytes received, and when.
type byteSample struct {
	at    time.Time
	bytes uint64
}

// kbps is the bitrate between two samples.
func kbps(a, b byteSample) float64 {
	return float64(b.bytes-a.bytes) * 8 / b.at.Sub(a.at).Seconds() / 1000
}

// rates formats samples taken every 500 ms as kbit/s a second, for a
// failure message.
func rates(samples []byteSample) []int {
	var out []int
	for i := 2; i < len(samples); i += 2 {
		out = append(out, int(kbps(samples[i-2], samples[i])))
	}
	return out
}

// sendOfferToPython hands Go's offer to peer.py in answer mode (loopback
// candidates only) and applies the answer it prints.
func sendOfferToPython(t *testing.T, py *pythonPeer, conn *Connection, offer SessionDescription) {
	t.Helper()
	offer.SDP, _ = loopbackOnlySDP(t, offer.SDP)
	line, err := json.Marshal(offer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := py.stdin.Write(append(line, '\n')); err != nil {
		py.fail(t, "sending the offer to peer.py: %v", err)
	}
	answer, err := parseDescriptionJSON(t, []byte(py.readLine(t)), "answer")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetRemoteDescription(answer); err != nil {
		t.Fatalf("applying Python's answer: %v\n%s", err, answer.SDP)
	}
}

// TestInteropPeerVanishes: the Python peer is killed without a word; the Go
// connection notices within its PeerLossTimeout, reports an error and closes.
func TestInteropPeerVanishes(t *testing.T) {
	requireAiortc(t)
	py := startPythonPeer(t, "answer")
	s := loopbackSettings()
	s.PeerLossTimeout = 3 * time.Second
	conn, err := NewConnection(s)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	received := conn.Subscribe()
	conn.Video().Subscribe() // peer.py sends video; aiortc 1.4 fails on an offer without a slot for it
	offer, err := conn.GetLocalDescription(py.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendOfferToPython(t, py, conn, offer)
	select {
	case <-conn.Ready():
	case <-py.ctx.Done():
		py.fail(t, "connection to Python not ready")
	}
	killed := time.Now()
	py.kill()
	select {
	case <-conn.Done():
	case <-time.After(5 * s.PeerLossTimeout):
		t.Fatalf("the vanished peer was not noticed in %v", 5*s.PeerLossTimeout)
	}
	t.Logf("peer loss noticed after %v (PeerLossTimeout %v)", time.Since(killed).Round(time.Millisecond), s.PeerLossTimeout)
	if conn.Err() == nil {
		t.Error("connection closed without an error for the lost peer")
	}
	for {
		if _, err := received.Get(context.Background()); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("subscription after peer loss: %v, want ErrClosed", err)
			}
			break
		}
	}
}

// servePythonOffer serves our Handler, answering with conn, on a 127.0.0.1
// test server for peer.py to post its offer to. Each offer is checked to be
// in RTCBot's exact shape and limited to loopback candidates, then handed to
// check before the Handler answers it.
func servePythonOffer(t *testing.T, conn *Connection, check func(r *http.Request, offer SessionDescription)) *httptest.Server {
	t.Helper()
	handler := Handler(func(*http.Request) (*Connection, error) { return conn, nil })
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		offer, err := parseDescriptionJSON(t, body, "offer")
		if err != nil {
			t.Error(err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		check(r, offer)
		body, _ = json.Marshal(offer)
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler.ServeHTTP(w, r)
	}))
}
