// Command soak runs a robot and a desktop in one process over 127.0.0.1 for
// a long time and checks that nothing goes missing and nothing leaks.
//
//	go run ./cmd/soak -duration 10m
//	go run ./cmd/soak -duration 2m -interval 20s -reconnect 10s -json
//
// The robot streams a test-pattern camera (-width, -height, -fps) to every
// desktop that posts an offer to its /connect, a fresh connection per offer,
// the camera shared. The desktop connects, decodes the video (reading each
// frame's time code for its latency) and sends control messages at -rate per
// second on the default data channel, each carrying its connection number and
// a sequence number, {"conn": 1, "seq": 41, "t": <unix ms>}. The robot counts
// them and detects lost ones (a gap in the sequence numbers within a
// connection) and reordered ones (a number at or below one already seen).
// With -reconnect D the desktop hangs up every D, after letting the robot
// acknowledge every control put (DataChannel.Flush), and connects again.
//
// Every -interval it prints one line: elapsed time, resident memory (VmRSS),
// Go heap in use, goroutines, open file descriptors, messages sent, received,
// lost and reordered, frames decoded (and the frame rate over the interval),
// frame latency, and the robot's open connections; -json prints the lines as
// JSON. At the end it prints a summary and exits 1 if
//
//   - any message was lost, reordered or malformed;
//   - frames or messages stopped flowing: none arrived in the 5 s before a
//     reading;
//   - against the first interval's reading, a later reading has more than
//     20 goroutines more, more than 10 file descriptors more, or more than
//     twice the resident memory;
//   - a connection failed or closed by itself.
//
// Controls still queued when a connection is hung up are waited for (at most
// 2 s); any the robot never received are reported as undelivered, apart from
// the lost ones.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// The bounds the soak checks, relative to the first interval's reading.
const (
	maxGoroutineGrowth = 20
	maxFDGrowth        = 10
	maxRSSFactor       = 2
	stallAfter         = 5 * time.Second // no frame or message for this long is a stall
)

type options struct {
	duration, interval, reconnect time.Duration
	camera                        rtcbot.CameraSettings
	rate                          int
	json                          bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to run")
	flag.DurationVar(&o.interval, "interval", time.Minute, "how often to print a line")
	flag.DurationVar(&o.reconnect, "reconnect", 0, "hang up and connect again this often (0: keep one connection)")
	flag.IntVar(&o.camera.Width, "width", 320, "frame width")
	flag.IntVar(&o.camera.Height, "height", 240, "frame height")
	flag.IntVar(&o.camera.FPS, "fps", 30, "frames per second")
	flag.IntVar(&o.rate, "rate", 100, "control messages per second")
	flag.BoolVar(&o.json, "json", false, "print the lines and the summary as JSON")
	flag.Parse()
	if o.interval <= 0 || o.duration <= 0 || o.rate <= 0 || o.reconnect < 0 {
		fmt.Fprintln(os.Stderr, "soak: -duration, -interval and -rate must be positive, -reconnect not negative")
		os.Exit(2)
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// settings are both sides' connection settings: 127.0.0.1 only.
var settings = rtcbot.ConnectionSettings{LoopbackOnly: true}

// control is a control message the desktop sends.
type control struct {
	Conn int   `json:"conn"` // the desktop's connection number, from 1
	Seq  int   `json:"seq"`  // from 0 on each connection
	T    int64 `json:"t"`    // when it was put, in Unix milliseconds
}

// run runs the soak and reports whether every check passed.
func run(o options) (bool, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	startGoroutines := runtime.NumGoroutine()

	r, err := startRobot(o.camera)
	if err != nil {
		return false, err
	}
	defer r.close()
	d := &desktop{
		url:    r.url,
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		sent:   map[int]int{},
	}

	var c checker
	c.report = func(l reading) { printLine(o.json, l) }
	seq := 0
	conn, err := d.connect(ctx)
	if err != nil {
		return false, err
	}
	send := time.NewTicker(time.Second / time.Duration(o.rate))
	defer send.Stop()
	report := time.NewTicker(o.interval)
	defer report.Stop()
	var reconnect <-chan time.Time
	if o.reconnect > 0 {
		t := time.NewTicker(o.reconnect)
		defer t.Stop()
		reconnect = t.C
	}
	end := time.After(o.duration)
	lastReport := start

loop:
	for {
		select {
		case <-send.C:
			conn.Put(control{Conn: d.n, Seq: seq, T: time.Now().UnixMilli()})
			seq++
			d.total.Add(1)
		case <-reconnect:
			d.hangUp(conn, seq)
			seq = 0
			if conn, err = d.connect(ctx); err != nil {
				c.fail("connection %d: %v", d.n, err)
				break loop
			}
		case <-report.C:
			r.settle(2 * time.Second)
			now := time.Now()
			c.check(sample(now, start, lastReport, r, d))
			lastReport = now
		case <-conn.Done():
			c.fail("connection %d closed by itself after %d controls: %v", d.n, seq, conn.Err())
			break loop
		case <-end:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	// A last reading, unless the interval's own was just taken.
	if time.Since(lastReport) > time.Second {
		r.settle(2 * time.Second)
		c.check(sample(time.Now(), start, lastReport, r, d))
	}
	elapsed := time.Since(start)

	// Hang up, then let the robot finish counting.
	d.hangUp(conn, seq)
	r.close()
	d.client.CloseIdleConnections()

	s := summary{
		Elapsed:         elapsed.Round(time.Second).String(),
		Connections:     d.n,
		Sent:            d.total.Load(),
		Frames:          d.frames.total(),
		LatencyReads:    d.frames.stamped(),
		StartGoroutines: startGoroutines,
	}
	s.Received, s.Lost, s.Reordered, s.Malformed = r.msgs.totals()
	s.Undelivered = r.msgs.undelivered(d.sent)
	s.Dropped = r.dropped.Load()
	s.EndGoroutines = settledGoroutines(startGoroutines, 5*time.Second)
	if s.Lost > 0 || s.Reordered > 0 || s.Malformed > 0 {
		c.fail("%d messages lost, %d reordered, %d malformed", s.Lost, s.Reordered, s.Malformed)
	}
	if s.Frames == 0 {
		c.fail("no frames decoded")
	}
	s.Failures = c.failures
	s.Pass = len(c.failures) == 0
	printLine(o.json, s)
	return s.Pass, nil
}

// robot is the robot side: a camera, and an HTTP server answering every
// offer with a fresh connection that sends the camera and counts controls.
type robot struct {
	cam       *rtcbot.Camera
	srv       *http.Server
	url       string
	conns     rtcbot.ConnectionSet
	made      atomic.Int64
	msgs      messageCounter
	dropped   atomic.Uint64  // controls dropped by full receive queues
	callbacks sync.WaitGroup // the counting callbacks still running
	closeOnce sync.Once
}

// startRobot opens the camera and serves /connect on 127.0.0.1.
func startRobot(cs rtcbot.CameraSettings) (*robot, error) {
	r := &robot{cam: rtcbot.NewTestPatternCamera(cs)}
	if err := r.cam.Err(); err != nil {
		return nil, err // a size too small for a stamp
	}
	mux := http.NewServeMux()
	mux.Handle("/connect", rtcbot.Handler(r.newConnection))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.cam.Close()
		return nil, err
	}
	r.url = "http://" + ln.Addr().String() + "/connect"
	r.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // the answer waits for ICE gathering
		IdleTimeout:       30 * time.Second,
	}
	go r.srv.Serve(ln)
	return r, nil
}

// newConnection makes the connection that answers one offer.
func (r *robot) newConnection(*http.Request) (*rtcbot.Connection, error) {
	conn, err := rtcbot.NewConnection(settings)
	if err != nil {
		return nil, err
	}
	conn.Video().PutSubscription(r.cam)
	// Count every control on a goroutine of its own, with a queue that
	// does not rely on the default capacity.
	queue := rtcbot.NewQueue[any](4096)
	conn.SubscribeWith(queue) // closed when the connection closes
	r.callbacks.Go(func() {
		for {
			msg, err := queue.Get(context.Background())
			if err != nil {
				break
			}
			r.msgs.receive(msg)
		}
		r.dropped.Add(queue.Dropped())
	})
	if err := r.conns.Add(conn); err != nil { // closes conn if the robot is closing
		return nil, err
	}
	r.made.Add(1)
	return conn, nil
}

// settle waits up to d for the robot to close the connections the desktop
// hung up, leaving one open, so that a reading does not count their
// goroutines.
func (r *robot) settle(d time.Duration) {
	deadline := time.Now().Add(d)
	for r.conns.Len() > 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// close stops serving, closes every connection and the camera, and waits
// until every control received has been counted.
func (r *robot) close() {
	r.closeOnce.Do(func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.srv.Shutdown(shutdown)
		r.conns.Close()
		r.callbacks.Wait()
		r.cam.Close()
	})
}

// messageCounter counts the controls the robot receives, per connection.
type messageCounter struct {
	mu                  sync.Mutex
	next                map[int]int // by connection number: the sequence number expected next
	received, malformed uint64
	lost, reordered     uint64
	last                time.Time // when the last one arrived
}

func (m *messageCounter) receive(msg any) {
	c, ok := parseControl(msg)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.received++
	m.last = time.Now()
	if !ok {
		m.malformed++
		return
	}
	if m.next == nil {
		m.next = map[int]int{}
	}
	next := m.next[c.Conn]
	switch {
	case c.Seq == next:
		m.next[c.Conn] = next + 1
	case c.Seq > next: // a gap: the ones between are lost
		m.lost += uint64(c.Seq - next)
		m.next[c.Conn] = c.Seq + 1
	default: // late, or a duplicate
		m.reordered++
	}
}

// parseControl reads a control message as the data channel decodes it.
func parseControl(msg any) (control, bool) {
	m, ok := msg.(map[string]any)
	if !ok {
		return control{}, false
	}
	conn, ok1 := m["conn"].(float64)
	seq, ok2 := m["seq"].(float64)
	return control{Conn: int(conn), Seq: int(seq)}, ok1 && ok2
}

func (m *messageCounter) totals() (received, lost, reordered, malformed uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received, m.lost, m.reordered, m.malformed
}

func (m *messageCounter) lastReceived() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// undelivered counts the controls at the end of each connection that the
// robot never received, given how many were sent on each.
func (m *messageCounter) undelivered(sent map[int]int) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for conn, s := range sent {
		if next := m.next[conn]; s > next {
			n += uint64(s - next)
		}
	}
	return n
}

// desktop is the desktop side: one connection at a time to the robot.
type desktop struct {
	url    string
	client *http.Client
	n      int           // the current connection's number
	sent   map[int]int   // controls sent, by connection number, once hung up
	total  atomic.Uint64 // controls put, on every connection
	frames frameCounter
	video  sync.WaitGroup // the current connection's frame reader
}

// connect makes the next connection to the robot and waits until it is
// ready.
func (d *desktop) connect(ctx context.Context) (*rtcbot.Connection, error) {
	d.n++
	conn, err := rtcbot.NewConnection(settings)
	if err != nil {
		return nil, err
	}
	// Subscribing before the offer asks the robot for its video.
	frames := conn.Video().Subscribe()
	d.video.Go(func() {
		for {
			frame, err := frames.Get(ctx)
			if err != nil {
				return // the connection closed
			}
			d.frames.add(frame, time.Now())
		}
	})
	connect, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = rtcbot.Connect(connect, conn, d.url, d.client)
	if err == nil {
		select {
		case <-conn.Ready():
		case <-conn.Done():
			err = fmt.Errorf("closed before it was ready: %v", conn.Err())
		case <-connect.Done():
			err = fmt.Errorf("not ready: %w", connect.Err())
		}
	}
	if err != nil {
		conn.Close()
		d.video.Wait()
		return nil, err
	}
	return conn, nil
}

// hangUp closes conn once the seq controls put on it have been sent and
// acknowledged by the robot (at most 2 s), so none is in flight.
func (d *desktop) hangUp(conn *rtcbot.Connection, seq int) {
	if conn == nil {
		return
	}
	flush, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn.Flush(flush)
	conn.Close()
	d.video.Wait()
	d.sent[d.n] = seq
}

// frameCounter counts decoded frames and their latency, read from the time
// code the test pattern stamps into each one.
type frameCounter struct {
	mu        sync.Mutex
	n, nStamp uint64
	last      time.Time
	taken     uint64          // n at the last reading
	latencies []time.Duration // since the last reading
}

func (f *frameCounter) add(frame image.Image, received time.Time) {
	stamp, err := timecode.Read(frame)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.last = received
	if err == nil {
		f.nStamp++
		f.latencies = append(f.latencies, stamp.Latency(received))
	}
}

// take returns the frames so far, how many since the last call, when the
// last arrived, and the latencies since the last call.
func (f *frameCounter) take() (n, since uint64, last time.Time, latencies []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	since, f.taken = f.n-f.taken, f.n
	latencies, f.latencies = f.latencies, nil
	return f.n, since, f.last, latencies
}

func (f *frameCounter) total() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *frameCounter) stamped() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nStamp
}

// reading is one interval's line.
type reading struct {
	at, lastFrame, lastMessage time.Time

	Elapsed         string  `json:"elapsed"`
	RSSKiB          int64   `json:"rss_kib"`
	HeapInuseKiB    uint64  `json:"heap_inuse_kib"`
	Goroutines      int     `json:"goroutines"`
	FDs             int     `json:"fds"`
	Sent            uint64  `json:"sent"`
	Received        uint64  `json:"received"`
	Lost            uint64  `json:"lost"`
	Reordered       uint64  `json:"reordered"`
	Frames          uint64  `json:"frames"`
	FPS             float64 `json:"fps"`
	LatencyMedianMS int64   `json:"latency_median_ms"`
	LatencyMaxMS    int64   `json:"latency_max_ms"`
	Connections     int     `json:"connections"`
	ConnectionsMade int64   `json:"connections_made"`
}

func (l reading) String() string {
	return fmt.Sprintf("%8s: rss %.1f MiB, heap %.1f MiB, %d goroutines, %d fds; messages %d sent, %d received, %d lost, %d reordered; %d frames (%.1f fps), latency %d ms (max %d); %d connection(s) open, %d made",
		l.Elapsed, float64(l.RSSKiB)/1024, float64(l.HeapInuseKiB)/1024, l.Goroutines, l.FDs,
		l.Sent, l.Received, l.Lost, l.Reordered, l.Frames, l.FPS, l.LatencyMedianMS, l.LatencyMaxMS,
		l.Connections, l.ConnectionsMade)
}

// sample takes a reading at now, the previous one having been at prev.
func sample(now, start, prev time.Time, r *robot, d *desktop) reading {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	l := reading{
		at:              now,
		Elapsed:         now.Sub(start).Round(time.Second).String(),
		RSSKiB:          rssKiB(),
		HeapInuseKiB:    ms.HeapInuse / 1024,
		Goroutines:      runtime.NumGoroutine(),
		FDs:             openFDs(),
		Sent:            d.total.Load(),
		Connections:     r.conns.Len(),
		ConnectionsMade: r.made.Load(),
		lastMessage:     r.msgs.lastReceived(),
	}
	l.Received, l.Lost, l.Reordered, _ = r.msgs.totals()
	frames, since, lastFrame, latencies := d.frames.take()
	l.Frames, l.lastFrame = frames, lastFrame
	if s := now.Sub(prev).Seconds(); s > 0 {
		l.FPS = math.Round(float64(since)/s*10) / 10
	}
	if n := len(latencies); n > 0 {
		slices.Sort(latencies)
		l.LatencyMedianMS = latencies[n/2].Milliseconds()
		l.LatencyMaxMS = latencies[n-1].Milliseconds()
	}
	return l
}

// rssKiB returns the process's resident memory (VmRSS), -1 if unknown.
func rssKiB() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			kib, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				return -1
			}
			return kib
		}
	}
	return -1
}

// openFDs returns the number of open file descriptors, -1 if unknown.
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds) - 1 // not the one reading the directory
}

// settledGoroutines waits up to d for the goroutines to come back to want,
// and returns how many there are.
func settledGoroutines(want int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// checker checks each reading against the first and collects failures.
type checker struct {
	report   func(reading)
	first    *reading
	failures []string
}

func (c *checker) fail(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

func (c *checker) check(l reading) {
	c.report(l)
	if l.at.Sub(l.lastFrame) > stallAfter {
		c.fail("%s: no frame for %v", l.Elapsed, l.at.Sub(l.lastFrame).Round(time.Second))
	}
	if l.at.Sub(l.lastMessage) > stallAfter {
		c.fail("%s: no message for %v", l.Elapsed, l.at.Sub(l.lastMessage).Round(time.Second))
	}
	if c.first == nil {
		c.first = &l
		return
	}
	f := c.first
	if l.Goroutines > f.Goroutines+maxGoroutineGrowth {
		c.fail("%s: %d goroutines, more than %d + %d", l.Elapsed, l.Goroutines, f.Goroutines, maxGoroutineGrowth)
	}
	if l.FDs > f.FDs+maxFDGrowth {
		c.fail("%s: %d fds, more than %d + %d", l.Elapsed, l.FDs, f.FDs, maxFDGrowth)
	}
	if l.RSSKiB > maxRSSFactor*f.RSSKiB {
		c.fail("%s: rss %d KiB, more than %d x %d KiB", l.Elapsed, l.RSSKiB, maxRSSFactor, f.RSSKiB)
	}
}

// summary is the last line.
type summary struct {
	Pass            bool     `json:"pass"`
	Elapsed         string   `json:"elapsed"`
	Connections     int      `json:"connections"`
	Sent            uint64   `json:"sent"`
	Received        uint64   `json:"received"`
	Lost            uint64   `json:"lost"`
	Reordered       uint64   `json:"reordered"`
	Malformed       uint64   `json:"malformed"`
	Undelivered     uint64   `json:"undelivered"`
	Dropped         uint64   `json:"dropped"`
	Frames          uint64   `json:"frames"`
	LatencyReads    uint64   `json:"latency_reads"`
	StartGoroutines int      `json:"start_goroutines"`
	EndGoroutines   int      `json:"end_goroutines"`
	Failures        []string `json:"failures,omitempty"`
}

func (s summary) String() string {
	verdict := "PASS"
	if !s.Pass {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("Summary: %s after %s, %d connection(s): messages %d sent, %d received, %d lost, %d reordered, %d malformed, %d undelivered at hang-up, %d dropped by the robot's queue; %d frames (%d time codes read); goroutines %d before start, %d after close",
		verdict, s.Elapsed, s.Connections, s.Sent, s.Received, s.Lost, s.Reordered, s.Malformed, s.Undelivered, s.Dropped,
		s.Frames, s.LatencyReads, s.StartGoroutines, s.EndGoroutines)
	for _, f := range s.Failures {
		line += "\n  " + f
	}
	return line
}

// printLine prints a line as text or as JSON.
func printLine(asJSON bool, v fmt.Stringer) {
	if !asJSON {
		fmt.Println(v)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // unreachable: the lines are plain structs
	}
	fmt.Println(string(b))
}
