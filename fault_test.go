package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// The fault tests stress whole connections: many connect/close cycles,
// a long ordered transfer next to video, a peer process that is killed,
// and a server that never answers. Everything stays on 127.0.0.1.

// resources is a snapshot of what a process holds, to compare before and
// after a test.
type resources struct {
	goroutines int
	fds        int
	heapAlloc  uint64 // bytes of live objects after a GC
	heapInuse  uint64 // bytes in in-use heap spans after a GC
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, heap alloc %.1f MiB, in use %.1f MiB",
		r.goroutines, r.fds, float64(r.heapAlloc)/(1<<20), float64(r.heapInuse)/(1<<20))
}

// openFDs counts this process's open file descriptors (Linux /proc).
func openFDs(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting file descriptors: %v", err)
	}
	return len(entries)
}

// settledGoroutines waits until the number of goroutines is at most limit
// and returns it, or returns the last count once waitTime has passed.
// Goroutines end a little after the Close that stops them (pion's, the
// HTTP server's), and nothing signals their end, so it polls.
func settledGoroutines(limit int) int {
	deadline := time.Now().Add(waitTime)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stableGoroutines waits until the number of goroutines has stopped
// changing (the same for 1 s, at most waitTime) and returns it: a baseline
// to compare with later. The wait outlasts the ~400 ms for which a pion
// PeerConnection can still be closing after the previous test's Close (see
// TestCloseWaitsForPeerInitiatedClose in fault_bug_test.go).
func stableGoroutines() int {
	deadline := time.Now().Add(waitTime)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < time.Second && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

// measure takes a snapshot of the process's goroutines (waiting for them
// to settle to at most goroutineLimit, or to stop falling if it is 0), file
// descriptors and heap (after two garbage collections).
func measure(t testing.TB, goroutineLimit int) resources {
	t.Helper()
	var r resources
	if goroutineLimit > 0 {
		r.goroutines = settledGoroutines(goroutineLimit)
	} else {
		r.goroutines = stableGoroutines()
	}
	r.fds = openFDs(t)
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	r.heapAlloc, r.heapInuse = m.HeapAlloc, m.HeapInuse
	return r
}

// goroutineDump returns every goroutine's stack, for a failure message.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// checkBackToBaseline fails the test if the goroutines or file descriptors
// in after exceed those in before by more than slack.
func checkBackToBaseline(t testing.TB, before, after resources, slack int) {
	t.Helper()
	if after.goroutines > before.goroutines+slack {
		t.Errorf("goroutines: %d after, %d before (slack %d)\n%s", after.goroutines, before.goroutines, slack, goroutineDump())
	}
	if after.fds > before.fds+slack {
		t.Errorf("file descriptors: %d after, %d before (slack %d)", after.fds, before.fds, slack)
	}
}

// faultCamera returns a small test-pattern camera that the test closes at
// its end.
func faultCamera(t testing.TB) *Camera {
	t.Helper()
	cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	return cam
}

// newRobot makes the answering side of a pair: a loopback connection
// sending cam's video, with a subscription to the messages it receives.
func newRobot(settings ConnectionSettings, cam *Camera) (*Connection, Subscription[any], error) {
	robot, err := NewConnection(settings)
	if err != nil {
		return nil, nil, err
	}
	robot.Video().PutSubscription(cam)
	return robot, robot.Subscribe(), nil
}

// newDesktop makes the offering side of a pair: a loopback connection that
// receives video, with a subscription to the decoded frames.
func newDesktop(settings ConnectionSettings) (*Connection, Subscription[image.Image], error) {
	desktop, err := NewConnection(settings)
	if err != nil {
		return nil, nil, err
	}
	return desktop, desktop.Video().Subscribe(), nil
}

// pairUp runs the one-round-trip signaling between an offerer and an
// answerer in-process and waits until both are ready.
func pairUp(ctx context.Context, offerer, answerer *Connection) error {
	offer, err := offerer.GetLocalDescription(ctx, nil)
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	answer, err := answerer.GetLocalDescription(ctx, &offer)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if err := offerer.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("apply answer: %w", err)
	}
	return waitReady(ctx, offerer, answerer)
}

// waitReady waits until every connection is ready.
func waitReady(ctx context.Context, conns ...*Connection) error {
	for i, c := range conns {
		select {
		case <-c.Ready():
		case <-c.Done():
			return fmt.Errorf("connection %d closed before it was ready (err %v)", i, c.Err())
		case <-ctx.Done():
			return fmt.Errorf("connection %d not ready: %w", i, ctx.Err())
		}
	}
	return nil
}

// cycleServer serves Handler on a 127.0.0.1 test server: each POST gets a
// new robot connection sending cam, which the test collects by the "id" in
// the query string.
type cycleServer struct {
	*httptest.Server
	client *http.Client // without keep-alive, so no idle connection outlives a request

	mu     sync.Mutex
	robots map[string]robotConn
}

// robotConn is a robot connection made by cycleServer, with its received
// messages.
type robotConn struct {
	conn *Connection
	msgs Subscription[any]
}

// newCycleServer starts a cycleServer; it is closed at the test's end.
func newCycleServer(t testing.TB, settings ConnectionSettings, cam *Camera) *cycleServer {
	t.Helper()
	s := &cycleServer{robots: map[string]robotConn{}}
	s.Server = httptest.NewServer(Handler(func(r *http.Request) (*Connection, error) {
		robot, msgs, err := newRobot(settings, cam)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.robots[r.URL.Query().Get("id")] = robotConn{robot, msgs}
		s.mu.Unlock()
		return robot, nil
	}))
	transport := &http.Transport{DisableKeepAlives: true}
	s.client = &http.Client{Transport: transport}
	t.Cleanup(func() {
		s.Close()
		transport.CloseIdleConnections()
	})
	return s
}

// url returns the address to connect to for the robot named id.
func (s *cycleServer) url(id string) string {
	return s.URL + "/connect?id=" + url.QueryEscape(id)
}

// take returns and forgets the robot connection made for id.
func (s *cycleServer) take(id string) (robotConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.robots[id]
	delete(s.robots, id)
	return r, ok
}

// cycleMessage is the message each connect/close cycle sends.
type cycleMessage struct {
	Cycle int `json:"cycle"`
}

// connectCloseCycle connects a desktop to a robot sending cam (in-process,
// or over srv's HTTP if srv is not nil), waits for a decoded frame, sends
// one message and receives it on the robot, then closes both.
func connectCloseCycle(ctx context.Context, cycle int, cam *Camera, srv *cycleServer) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	desktop, frames, err := newDesktop(loopbackSettings())
	if err != nil {
		return err
	}
	defer desktop.Close()

	var robot *Connection
	var msgs Subscription[any]
	if srv == nil {
		robot, msgs, err = newRobot(loopbackSettings(), cam)
		if err != nil {
			return err
		}
		defer robot.Close()
		if err := pairUp(ctx, desktop, robot); err != nil {
			return err
		}
	} else {
		id := fmt.Sprint(cycle)
		err := Connect(ctx, desktop, srv.url(id), srv.client)
		if r, ok := srv.take(id); ok {
			robot, msgs = r.conn, r.msgs
			defer robot.Close()
		}
		if err != nil {
			return fmt.Errorf("connect over HTTP: %w", err)
		}
		if robot == nil {
			return errors.New("the server made no robot connection")
		}
		if err := waitReady(ctx, desktop, robot); err != nil {
			return err
		}
	}

	if _, err := frames.Get(ctx); err != nil {
		return fmt.Errorf("no decoded frame: %w", err)
	}
	desktop.Put(cycleMessage{cycle})
	m, err := msgs.Get(ctx)
	if err != nil {
		return fmt.Errorf("message not received: %w", err)
	}
	if got, err := DecodeMessage[cycleMessage](m); err != nil || got.Cycle != cycle {
		return fmt.Errorf("received %#v, want cycle %d", m, cycle)
	}
	if err := desktop.Close(); err != nil {
		return fmt.Errorf("close desktop: %w", err)
	}
	if err := robot.Close(); err != nil {
		return fmt.Errorf("close robot: %w", err)
	}
	return nil
}

// runCycles runs cycles connect/close cycles numbered from first, workers at
// a time; every httpEvery-th goes over srv's HTTP. It returns the first
// error and the summed duration of the cycles.
func runCycles(ctx context.Context, first, cycles, workers, httpEvery int, cam *Camera, srv *cycleServer) (time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	next.Store(int64(first))
	var busy atomic.Int64 // nanoseconds spent in cycles
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= first+cycles {
					return
				}
				var via *cycleServer
				if httpEvery > 0 && i%httpEvery == 0 {
					via = srv
				}
				start := time.Now()
				if err := connectCloseCycle(ctx, i, cam, via); err != nil {
					cancel(fmt.Errorf("cycle %d (HTTP %v): %w", i, via != nil, err))
					return
				}
				busy.Add(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	return time.Duration(busy.Load()), context.Cause(ctx)
}

// TestConnectCloseCycles connects and closes a robot/desktop pair with video
// and a message 1,000 times, several pairs at a time, a tenth of them over
// HTTP, and checks that goroutines, file descriptors and heap come back to
// where they were.
func TestConnectCloseCycles(t *testing.T) {
	const (
		cycles    = 1000
		warmUp    = 8
		workers   = 4
		httpEvery = 10
		heapBound = 16 << 20
	)
	cam := faultCamera(t)
	srv := newCycleServer(t, loopbackSettings(), cam)
	ctx := context.Background()

	if _, err := runCycles(ctx, 0, warmUp, workers, 2, cam, srv); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	before := measure(t, 0)
	t.Logf("before: %v", before)

	start := time.Now()
	busy, err := runCycles(ctx, warmUp, cycles, workers, httpEvery, cam, srv)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cycles, %d at a time, in %v: %v per cycle of wall time, each cycle taking %v on average",
		cycles, workers, elapsed.Round(time.Millisecond), (elapsed / cycles).Round(time.Microsecond), (busy / cycles).Round(time.Microsecond))

	after := measure(t, before.goroutines+2)
	t.Logf("after:  %v", after)
	checkBackToBaseline(t, before, after, 2)
	for _, h := range []struct {
		what          string
		before, after uint64
	}{{"allocated", before.heapAlloc, after.heapAlloc}, {"in use", before.heapInuse, after.heapInuse}} {
		if grown := int64(h.after) - int64(h.before); grown > heapBound {
			t.Errorf("heap %s grew by %.1f MiB over %d cycles, bound %d MiB", h.what, float64(grown)/(1<<20), cycles, heapBound>>20)
		}
	}
	if cam.IsClosed() {
		t.Error("the shared camera closed")
	}
}

// frameCounter counts the frames a video subscription decodes.
type frameCounter struct {
	frames atomic.Int64
	bad    atomic.Int64 // frames without a readable time code
}

// countFrames counts the frames v decodes, on a callback goroutine that
// ends when the connection closes.
func countFrames(v *MediaStream[image.Image]) *frameCounter {
	fc := &frameCounter{}
	v.SubscribeFunc(func(img image.Image) {
		if _, err := timecode.Read(img); err != nil {
			fc.bad.Add(1)
			return
		}
		fc.frames.Add(1)
	})
	return fc
}

// seqMessage is a numbered message.
type seqMessage struct {
	Seq int `json:"seq"`
}

// messageSeq returns the sequence number of a received seqMessage.
func messageSeq(m any) (int, bool) {
	obj, ok := m.(map[string]any)
	if !ok || len(obj) != 1 {
		return 0, false
	}
	f, ok := obj["seq"].(float64)
	return int(f), ok && f == float64(int(f))
}

// TestOrderedMessagesWhileVideoFlows sends 100,000 numbered messages on the
// ordered default channel while video flows both ways, and checks that
// every one arrives, in order, and that both videos keep decoding meanwhile.
// The queues at both ends are the test's own, big enough for every message,
// so nothing depends on the default queue capacity: the sender's queue feeds
// the channel through PutSubscription, whose send loop waits for room in the
// SCTP buffer, so the whole path is flow-controlled and nothing is dropped.
func TestOrderedMessagesWhileVideoFlows(t *testing.T) {
	const n = 100_000
	robotCam, desktopCam := faultCamera(t), faultCamera(t)

	robot, desktop := newConn(t), newConn(t)
	robot.Video().PutSubscription(robotCam)
	desktop.Video().PutSubscription(desktopCam)
	atDesktop, atRobot := countFrames(desktop.Video()), countFrames(robot.Video())
	received := NewQueue[any](n + 1)
	robot.SubscribeWith(received)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pairUp(ctx, desktop, robot); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*MediaStream[image.Image]{desktop.Video(), robot.Video()} {
		select {
		case <-v.Ready():
		case <-ctx.Done():
			t.Fatal("no video decoded before the transfer")
		}
	}

	outgoing := NewQueue[any](n)
	for i := range n {
		outgoing.Put(seqMessage{i})
	}
	type counts struct{ desktop, robot int64 }
	framesNow := func() counts { return counts{atDesktop.frames.Load(), atRobot.frames.Load()} }
	atStart := framesNow()
	start := time.Now()
	desktop.PutSubscription(outgoing)

	var atHalf counts
	for i := range n {
		m, err := received.Get(ctx)
		if err != nil {
			t.Fatalf("message %d: %v (%d frames decoded at the desktop, %d at the robot)", i, err, atDesktop.frames.Load(), atRobot.frames.Load())
		}
		if seq, ok := messageSeq(m); !ok || seq != i {
			t.Fatalf("message %d: got %#v", i, m)
		}
		if i == n/2 {
			atHalf = framesNow()
		}
	}
	elapsed := time.Since(start)
	atEnd := framesNow()

	if d := outgoing.Dropped(); d != 0 {
		t.Errorf("the outgoing queue dropped %d messages", d)
	}
	if d := received.Dropped(); d != 0 {
		t.Errorf("the receiving queue dropped %d messages", d)
	}
	// The sender counts a message just after handing it over, so the count
	// can trail the last arrival for a moment.
	eventually(t, fmt.Sprintf("desktop counting %d messages sent", n), func() bool { return desktop.DataChannelByName(DefaultChannelLabel).Stats().MessagesSent == n })
	wantEmpty[any](t, received)
	t.Logf("%d messages in %v (%.0f/s); frames decoded meanwhile: desktop %d, robot %d",
		n, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), atEnd.desktop-atStart.desktop, atEnd.robot-atStart.robot)
	// Video kept flowing both ways, in each half of the transfer.
	for _, half := range [][2]counts{{atStart, atHalf}, {atHalf, atEnd}} {
		if half[1].desktop <= half[0].desktop || half[1].robot <= half[0].robot {
			t.Errorf("video stalled during the transfer: frames decoded went from %+v to %+v", half[0], half[1])
		}
	}
	// Frames with no readable time code are corrupted pictures: under load
	// loopback drops packets, and a frame decoded against a reference it
	// never got is garbage (TestVP8AssemblerLostFrameNeedsKeyframe).
	if bad := atDesktop.bad.Load() + atRobot.bad.Load(); bad != 0 {
		t.Errorf("%d decoded frames had no readable time code", bad)
	}
}

// helperPeerEnv, when set in the environment, makes TestHelperPeerProcess
// the helper peer of TestPeerProcessKilledMidStream: it connects to the
// robot at the address the variable holds.
const helperPeerEnv = "RTCBOT_FAULT_HELPER_PEER_URL"

// helperPeerFlowing is the line the helper peer prints once it has decoded
// helperPeerFrames frames and is sending messages.
const (
	helperPeerFlowing = "rtcbot-helper-peer: flowing"
	helperPeerFrames  = 10
)

// TestHelperPeerProcess is not a test: run by TestPeerProcessKilledMidStream
// in a process of its own (with helperPeerEnv set), it is a desktop that
// connects over HTTP, receives video and sends a numbered message every 5 ms
// until it is killed. Without helperPeerEnv it returns at once.
func TestHelperPeerProcess(t *testing.T) {
	url := os.Getenv(helperPeerEnv)
	if url == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "rtcbot-helper-peer: "+format+"\n", args...)
		os.Exit(2)
	}
	// Whatever happens, do not outlive the test that started us for long.
	time.AfterFunc(2*time.Minute, func() { fail("not killed within 2 minutes") })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	desktop, frames, err := newDesktop(loopbackSettings())
	if err != nil {
		fail("%v", err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if err := Connect(ctx, desktop, url, client); err != nil {
		fail("connect: %v", err)
	}
	for i := range helperPeerFrames {
		if _, err := frames.Get(ctx); err != nil {
			fail("frame %d: %v", i, err)
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	for i := 0; ; i++ {
		desktop.Put(seqMessage{i})
		if i == 0 {
			fmt.Println(helperPeerFlowing)
		}
		select {
		case <-tick.C:
		case <-desktop.Done():
			fail("connection closed: %v", desktop.Err())
		}
	}
}

// helperPeer is a running helper peer process.
type helperPeer struct {
	lines  chan string   // lines it prints on stdout
	exited chan struct{} // closed once it has exited and been waited for
	kill   func() error  // SIGKILL
}

// startHelperPeer runs TestHelperPeerProcess in a new process of this test
// binary, connecting to url. It is killed at the test's end if it is still
// running, and its stderr is logged.
func startHelperPeer(t *testing.T, url string) *helperPeer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPeerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperPeerEnv+"="+url)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	p := &helperPeer{lines: make(chan string, 4), exited: make(chan struct{})}
	cmd.Stdout = &lineWriter{lines: p.lines}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper peer: %v", err)
	}
	p.kill = func() error { return cmd.Process.Kill() }
	go func() {
		defer close(p.exited)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		p.kill()
		<-p.exited
		if out := stderr.String(); out != "" {
			t.Logf("helper peer stderr:\n%s", out)
		}
	})
	return p
}

// waitLine waits for the helper peer to print want, failing the test if it
// prints something else, exits or takes longer than d.
func (p *helperPeer) waitLine(t *testing.T, want string, d time.Duration) {
	t.Helper()
	select {
	case line := <-p.lines:
		if line != want {
			t.Fatalf("helper peer printed %q, want %q", line, want)
		}
	case <-p.exited:
		t.Fatalf("helper peer exited before printing %q", want)
	case <-time.After(d):
		t.Fatalf("helper peer did not print %q within %v", want, d)
	}
}

// TestPeerProcessKilledMidStream kills a peer process (SIGKILL, no goodbye)
// while it receives video and sends messages, and checks that the robot's
// connection notices within its PeerLossTimeout, closes with an error,
// fires OnClose once and frees everything, while the camera it shared stays
// open for the next viewer.
func TestPeerProcessKilledMidStream(t *testing.T) {
	const margin = 5 * time.Second
	settings := loopbackSettings()
	settings.PeerLossTimeout = 3 * time.Second
	cam := faultCamera(t)
	srv := newCycleServer(t, settings, cam)
	before := measure(t, 0)
	t.Logf("before: %v", before)

	peer := startHelperPeer(t, srv.url("killed"))
	peer.waitLine(t, helperPeerFlowing, 30*time.Second)
	robot, ok := srv.take("killed")
	if !ok {
		t.Fatal("the helper peer is flowing but the server made no connection")
	}
	var closes atomic.Int32
	closed := make(chan struct{}, 1)
	robot.conn.OnClose(func() {
		closes.Add(1)
		closed <- struct{}{}
	})
	ctx := mediaCtx(t)
	last := -1
	for range 10 {
		m, err := robot.msgs.Get(ctx)
		if err != nil {
			t.Fatalf("messages from the helper peer: %v", err)
		}
		if seq, ok := messageSeq(m); !ok || seq <= last {
			t.Fatalf("message %#v after %d", m, last)
		} else {
			last = seq
		}
	}

	if err := peer.kill(); err != nil {
		t.Fatalf("kill helper peer: %v", err)
	}
	killed := time.Now()
	select {
	case <-robot.conn.Done():
	case <-time.After(settings.PeerLossTimeout + margin):
		t.Fatalf("the killed peer was not noticed within %v", settings.PeerLossTimeout+margin)
	}
	t.Logf("peer loss noticed after %v (PeerLossTimeout %v)", time.Since(killed).Round(time.Millisecond), settings.PeerLossTimeout)
	if err := robot.conn.Err(); !errors.Is(err, ErrPeerLost) {
		t.Errorf("connection closed with error %v for the lost peer, want ErrPeerLost", err)
	} else {
		t.Logf("error: %v", err)
	}
	recv(t, closed)
	if err := robot.conn.Close(); err != nil { // again: a no-op
		t.Errorf("Close after the peer was lost: %v", err)
	}
	for {
		if _, err := robot.msgs.Get(ctx); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("messages after the peer was lost: %v, want ErrClosed", err)
			}
			break
		}
	}
	<-peer.exited

	after := measure(t, before.goroutines+2)
	t.Logf("after:  %v", after)
	checkBackToBaseline(t, before, after, 2)
	if cam.IsClosed() {
		t.Fatal("the camera closed with the lost connection")
	}

	// The camera serves the next viewer.
	if err := connectCloseCycle(ctx, 1, cam, srv); err != nil {
		t.Fatalf("a new viewer after the lost one: %v", err)
	}
	if n := closes.Load(); n != 1 {
		t.Errorf("OnClose ran %d times, want once", n)
	}
}

// TestConnectToSilentServer posts an offer to a server that takes it and
// never answers: Connect gives up when its context ends, with the context's
// error, and the connection closes leaving nothing running.
func TestConnectToSilentServer(t *testing.T) {
	const timeout, margin = 2 * time.Second, 3 * time.Second
	before := measure(t, 0)
	release := make(chan struct{})
	posted := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case posted <- struct{}{}:
		default:
		}
		<-release // until the test ends
	}))
	transport := &http.Transport{DisableKeepAlives: true}
	client := &http.Client{Transport: transport}

	conn, err := NewConnection(loopbackSettings())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err = Connect(ctx, conn, srv.URL+"/connect", client)
	elapsed := time.Since(start)
	t.Logf("Connect returned after %v: %v", elapsed.Round(time.Millisecond), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Connect to a silent server: %v, want context.DeadlineExceeded", err)
	}
	if elapsed > timeout+margin {
		t.Errorf("Connect returned after %v, want within %v of its %v deadline", elapsed, margin, timeout)
	}
	select {
	case <-posted:
	default:
		t.Error("the offer never reached the server: the deadline passed before the POST")
	}
	if conn.IsReady() {
		t.Error("connection ready without an answer")
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	closedWithin(t, conn.Done(), "connection after Close")

	close(release)
	srv.Close()
	transport.CloseIdleConnections()
	after := measure(t, before.goroutines)
	t.Logf("before: %v\nafter:  %v", before, after)
	checkBackToBaseline(t, before, after, 0)
}
