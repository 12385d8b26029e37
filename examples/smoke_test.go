// Package examples_test runs the tutorial examples as a user would: each is
// built and started as a process on 127.0.0.1, and driven either by another
// of its own processes or by a Go peer standing in for the browser page.
package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtcbot-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// testCtx bounds a whole test: building, running and every wait.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// binDir holds the examples built by build, for the whole test binary.
var binDir string

// builds are the examples built so far, by directory name: each is built
// once, however many tests run it.
var builds sync.Map // string -> *built

type built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// build compiles the example in directory name, once for every test that
// asks, and returns the binary.
func build(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		b.bin = filepath.Join(binDir, strings.ReplaceAll(name, "/", "-"))
		b.out, b.err = exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./"+name).CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, b.err, b.out)
	}
	return b.bin
}

// process is a running example whose standard output is read line by line.
type process struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer // written by exec's goroutine, read after Wait

	mu  sync.Mutex
	out []string // every line read so far
}

// start runs bin with args until the test ends (or ctx does).
func start(t *testing.T, ctx context.Context, bin string, args ...string) *process {
	t.Helper()
	return startEnv(t, ctx, nil, bin, args...)
}

// startEnv is start with env ("KEY=value") added to the environment, from
// which the test's own RTCBOT_TOKEN, if any, is left out.
func startEnv(t *testing.T, ctx context.Context, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{t: t, name: filepath.Base(bin), lines: make(chan string, 1000)}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Env = environ(env...)
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(p.lines)
		scan := bufio.NewScanner(stdout)
		for scan.Scan() {
			p.mu.Lock()
			p.out = append(p.out, scan.Text())
			p.mu.Unlock()
			p.lines <- scan.Text()
		}
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill() // a no-op once it has exited
		for range p.lines {
		}
		<-read
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s\n%s", p.name, p.output(), p.stderr.String())
		}
	})
	return p
}

// waitFor reads lines until one matches re and returns its submatches. It
// fails the test if the process ends or ctx does first.
func (p *process) waitFor(ctx context.Context, re *regexp.Regexp) []string {
	p.t.Helper()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s ended without printing a line matching %q", p.name, re)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-ctx.Done():
			p.t.Fatalf("%s printed no line matching %q in time", p.name, re)
		}
	}
}

// interrupt sends SIGINT, as Ctrl-C does, and waits for the process to
// exit; see wait.
func (p *process) interrupt(ctx context.Context) []string {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatalf("interrupt %s: %v", p.name, err)
	}
	return p.wait(ctx)
}

// wait reads the rest of the process's output and waits for it to exit,
// returning the lines not read yet; it fails the test unless it exits 0.
func (p *process) wait(ctx context.Context) []string {
	p.t.Helper()
	var rest []string
	for {
		select {
		case line, ok := <-p.lines:
			if ok {
				rest = append(rest, line)
				continue
			}
			if err := p.cmd.Wait(); err != nil {
				p.t.Errorf("%s: %v", p.name, err)
			}
			return rest
		case <-ctx.Done():
			p.t.Fatalf("%s did not exit", p.name)
		}
	}
}

// output returns every line the process printed so far.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n")
}

// environ is the test's environment without RTCBOT_TOKEN, and with env.
func environ(env ...string) []string {
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RTCBOT_TOKEN=") {
			e = append(e, kv)
		}
	}
	return append(e, env...)
}

var (
	runningOn = regexp.MustCompile(`^======== Running on http://(\S+) ========$`)
	openPage  = regexp.MustCompile(`^Open (http://\S+) in a browser\b`)
)

// testToken is the token the tests give the robots.
const testToken = "smoke-test-token"

// startRobot starts a robot example, built as bin, on a free 127.0.0.1 port
// with the test pattern camera and testToken, and returns it with its
// address. The robot must print its page's URL with the token.
func startRobot(t *testing.T, ctx context.Context, bin string, args ...string) (*process, string) {
	t.Helper()
	return startCameralessRobot(t, ctx, bin, append([]string{"-camera", "testpattern"}, args...)...)
}

// startCameralessRobot is startRobot for a robot without a camera (and so
// without a -camera flag).
func startCameralessRobot(t *testing.T, ctx context.Context, bin string, args ...string) (*process, string) {
	t.Helper()
	p, addr, page := launchRobot(t, ctx, nil, bin, append([]string{"-token", testToken}, args...)...)
	if want := "http://" + addr + "/?token=" + testToken; page != want {
		t.Errorf("robot says to open %s, want %s", page, want)
	}
	return p, addr
}

// launchRobot starts a robot example on a free 127.0.0.1 port, with env and
// args, without a token unless args or env give it one, and returns it with
// its address and the URL of the page it says to open.
func launchRobot(t *testing.T, ctx context.Context, env []string, bin string, args ...string) (p *process, addr, page string) {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0", "-loopback"}, args...)
	p = startEnv(t, ctx, env, bin, args...)
	addr = p.waitFor(ctx, runningOn)[1]
	return p, addr, p.waitFor(ctx, openPage)[1]
}

// httpClient keeps no idle connections, so that no goroutine outlives a test.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// newPeer makes a loopback connection that the test closes at its end.
func newPeer(t *testing.T) *rtcbot.Connection {
	t.Helper()
	conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// getFrames reads n frames from video and checks their size.
func getFrames(t *testing.T, ctx context.Context, video rtcbot.Getter[image.Image], n int) {
	t.Helper()
	for i := range n {
		frame, err := video.Get(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if size := frame.Bounds().Size(); size != image.Pt(320, 240) {
			t.Fatalf("frame %d is %v, want 320x240", i, size)
		}
	}
}

// (a) The threads example prints sensor readings and exits 0 on Ctrl-C.
func TestThreadsPrintsReadingsAndStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	p := start(t, ctx, build(t, ctx, "threads"), "-interval", "50ms", "-read", "20ms", "-write", "5ms")
	reading := regexp.MustCompile(`^Reading (\d+): (\d+\.\d+) \(read in \d+ms\)$`)
	for i := 1; i <= 3; i++ {
		m := p.waitFor(ctx, reading)
		if m[1] != strconv.Itoa(i) {
			t.Fatalf("reading number %s, want %d", m[1], i)
		}
		if v, _ := strconv.ParseFloat(m[2], 64); v < 20 || v > 80 {
			t.Errorf("reading %s is %v, out of the sensor's range", m[1], v)
		}
	}
	rest := p.interrupt(ctx)
	last := ""
	if len(rest) > 0 {
		last = rest[len(rest)-1]
	}
	m := regexp.MustCompile(`^Sensor stopped: (\d+) readings, mean`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q, want the sensor's summary", last)
	}
	if n, _ := strconv.Atoi(m[1]); n < 3 {
		t.Errorf("summary counts %d readings, want at least 3", n)
	}
}

// runClient runs the multiconnect example's viewer to its end, with env, and
// returns its output.
func runClient(t *testing.T, ctx context.Context, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	client := exec.CommandContext(ctx, bin, append([]string{"-loopback"}, args...)...)
	client.Env = environ(env...)
	var stderr bytes.Buffer
	client.Stderr = &stderr
	out, err := client.Output()
	return string(out) + stderr.String(), err
}

// (b) The multiconnect robot serves its own -client mode, which reconnects
// three times and receives video every time; the robot's count of open
// connections goes back to 0. The viewer takes the token from RTCBOT_TOKEN,
// or from the URL the robot printed, and without one is refused.
func TestMulticonnectClientReconnects(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	bin := build(t, ctx, "multiconnect")
	robot, addr := startRobot(t, ctx, bin)
	out, err := runClient(t, ctx, bin, []string{"RTCBOT_TOKEN=" + testToken},
		"-client", "http://"+addr+"/connect", "-n", "3", "-for", "1s", "-pause", "200ms")
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	got := regexp.MustCompile(`(?m)^Connection (\d): (\d+) frames \(320x240\) in 1s$`).FindAllStringSubmatch(string(out), -1)
	if len(got) != 3 {
		t.Fatalf("client output:\n%s\nwant three connections receiving 320x240 frames", out)
	}
	for i, m := range got {
		if frames, _ := strconv.Atoi(m[2]); m[1] != strconv.Itoa(i+1) || frames < 10 {
			t.Errorf("connection %s received %s frames in 1 s, want at least 10", m[1], m[2])
		}
	}

	// The robot saw each connection open and close. It may notice a close
	// after the client has already reconnected, so two can overlap.
	event := regexp.MustCompile(`^Connection (\d+) (?:from 127\.0\.0\.1:\d+|closed): (\d+) open$`)
	opened, closed := map[string]bool{}, map[string]bool{}
	for len(closed) < 3 {
		m := robot.waitFor(ctx, event)
		if strings.Contains(m[0], " from ") {
			opened[m[1]] = true
		} else {
			closed[m[1]] = true
		}
		if open, _ := strconv.Atoi(m[2]); open != len(opened)-len(closed) {
			t.Errorf("robot: %q, but %d are open", m[0], len(opened)-len(closed))
		}
	}
	if len(opened) != 3 {
		t.Errorf("robot opened connections %v, want 3", opened)
	}

	// Without a token the viewer is refused, and says so.
	out, err = runClient(t, ctx, bin, nil, "-client", "http://"+addr+"/connect", "-n", "1", "-for", "200ms")
	if err == nil || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("a viewer without the token: %v, output:\n%s\nwant it refused with 401", err, out)
	}
	// The page's URL, as the robot printed it, does for a viewer: it has
	// the token.
	out, err = runClient(t, ctx, bin, nil, "-client", "http://"+addr+"/?token="+testToken, "-n", "1", "-for", "500ms")
	if err != nil || !strings.Contains(out, "Connection 1: ") {
		t.Errorf("a viewer given the page's URL: %v, output:\n%s", err, out)
	}
	robot.waitFor(ctx, regexp.MustCompile(`^Connection 4 from 127\.0\.0\.1:\d+: \d+ open$`))
	robot.waitFor(ctx, regexp.MustCompile(`^Connection 4 closed: 0 open$`))
	if rest := robot.interrupt(ctx); len(rest) > 0 {
		t.Errorf("robot printed after the last connection closed: %q", rest)
	}
}

// The streaming robot serves its page, and answers offers posted as
// text/plain with the token (as the page posts them) or as a Go or Python
// desktop posts them, with the token in the URL, with a fresh connection
// each: two viewers watch at once. Offers without the token, or from a page
// of another site, are refused.
func TestStreamingServesPageAndViewers(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "streaming"))

	// The page the robot said to open (TestBrowserStreaming runs it).
	body := getText(t, ctx, "http://"+addr+"/?token="+testToken, "text/html")
	for _, want := range []string{`<script src="/rtcbot.js"></script>`, "new rtcbot.RTCConnection(", "conn.video.subscribe(",
		`params.get("token")`, `conn.connect("/connect", {token})`, `"Could not connect: " + err.message`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// The browser client it loads, as a classic script and as a module.
	for path, want := range map[string]string{"/rtcbot.js": "class RTCConnection", "/rtcbot.mjs": `import "./rtcbot.js"`} {
		if got := getText(t, ctx, "http://"+addr+path, "text/javascript"); !strings.Contains(got, want) {
			t.Errorf("GET %s lacks %s", path, want)
		}
	}

	// Refused: no token, a wrong one, and the right one from a page of
	// another site (which a browser names in Origin).
	offer, err := newPeer(t).GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		header   http.Header
		status   int
		authHint bool
	}{
		{"without a token", http.Header{}, http.StatusUnauthorized, true},
		{"with a wrong token", http.Header{"Authorization": {"Bearer not-" + testToken}}, http.StatusUnauthorized, true},
		{"from another site", http.Header{"Authorization": {"Bearer " + testToken}, "Origin": {"https://evil.example"}}, http.StatusForbidden, false},
	} {
		resp := postOffer(t, ctx, "http://"+addr+"/connect", offer, c.header)
		if resp.StatusCode != c.status {
			t.Errorf("an offer %s: %s, want %d", c.name, resp.Status, c.status)
		}
		if got := resp.Header.Get("WWW-Authenticate"); c.authHint && !strings.HasPrefix(got, "Bearer") {
			t.Errorf("an offer %s: WWW-Authenticate %q, want Bearer", c.name, got)
		}
	}

	var viewers []rtcbot.Subscription[image.Image]
	page := newPeer(t)
	viewers = append(viewers, page.Video().Subscribe())
	connectAsPage(t, ctx, page, addr)
	desktop := newPeer(t)
	viewers = append(viewers, desktop.Video().Subscribe())
	if err := rtcbot.Connect(ctx, desktop, "http://"+addr+"/connect?token="+testToken, httpClient); err != nil {
		t.Fatal(err)
	}
	for _, video := range viewers {
		getFrames(t, ctx, video, 10)
	}
	for range viewers {
		robot.waitFor(ctx, regexp.MustCompile(`^New viewer from 127\.0\.0\.1:\d+\.$`))
	}
	// Stopping the robot closes both connections.
	rest := robot.interrupt(ctx)
	left := regexp.MustCompile(`^Viewer from 127\.0\.0\.1:\d+ left\.$`)
	if n := countMatches(rest, left); n != 2 {
		t.Errorf("robot said %d viewers left when it stopped, want 2: %q", n, rest)
	}
}

// A robot takes its token from -token, else from RTCBOT_TOKEN, else makes a
// random one, and prints its page's URL with the token.
func TestStreamingTokenSources(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	bin := build(t, ctx, "streaming")
	random := regexp.MustCompile(`^[A-Z2-7]{26}$`) // rand.Text
	for _, c := range []struct {
		name      string
		env, args []string
		want      string // "" for a random token
	}{
		{"RTCBOT_TOKEN", []string{"RTCBOT_TOKEN=from-env"}, nil, "from-env"},
		{"-token and RTCBOT_TOKEN", []string{"RTCBOT_TOKEN=from-env"}, []string{"-token", "from-flag"}, "from-flag"},
		{"neither", nil, nil, ""},
	} {
		robot, addr, page := launchRobot(t, ctx, c.env, bin, append([]string{"-camera", "testpattern"}, c.args...)...)
		token, ok := strings.CutPrefix(page, "http://"+addr+"/?token=")
		switch {
		case !ok:
			t.Errorf("%s: robot says to open %s, want its page with the token", c.name, page)
		case c.want == "" && !random.MatchString(token):
			t.Errorf("%s: robot made the token %q, want a random one", c.name, token)
		case c.want != "" && token != c.want:
			t.Errorf("%s: robot's token is %q, want %q", c.name, token, c.want)
		}
		if said := strings.Contains(robot.output(), "using a random token"); said != (c.want == "") {
			t.Errorf("%s: robot said it uses a random token: %v", c.name, said)
		}
		// With the token an empty offer gets as far as being read (400);
		// without it, not (401).
		for tok, status := range map[string]int{token: http.StatusBadRequest, "not-" + token: http.StatusUnauthorized} {
			resp := postOffer(t, ctx, "http://"+addr+"/connect", rtcbot.SessionDescription{}, http.Header{"Authorization": {"Bearer " + tok}})
			if resp.StatusCode != status {
				t.Errorf("%s: an empty offer with the token %q: %s, want %d", c.name, tok, resp.Status, status)
			}
		}
		robot.interrupt(ctx)
	}
}

// getText gets url, which must answer 200 with a Content-Type starting
// with contentType, and returns its body.
func getText(t *testing.T, ctx context.Context, url, contentType string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
		t.Fatalf("GET %s: %s, %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	return string(body)
}

// connectAsPage does what the examples' pages do in a browser, with the
// robot at addr: it posts the offer as text/plain with testToken, from the
// robot's own origin, and applies the answer.
func connectAsPage(t *testing.T, ctx context.Context, conn *rtcbot.Connection, addr string) {
	t.Helper()
	offer, err := conn.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := postOffer(t, ctx, "http://"+addr+"/connect", offer, http.Header{
		"Authorization": {"Bearer " + testToken},
		"Origin":        {"http://" + addr},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /connect: %s: %s", resp.Status, resp.body)
	}
	desc, err := rtcbot.DecodeMessage[rtcbot.SessionDescription](resp.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
}

// response is an HTTP response with its body read.
type response struct {
	*http.Response
	body []byte
}

// postOffer posts offer to url as the pages do, as text/plain, with header,
// and returns the response.
func postOffer(t *testing.T, ctx context.Context, url string, offer rtcbot.SessionDescription, header http.Header) response {
	t.Helper()
	body := fmt.Sprintf(`{"sdp": %q, "type": %q}`, offer.SDP, offer.Type)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %s: %v", url, resp.Status, err)
	}
	return response{resp, answer}
}

func countMatches(lines []string, re *regexp.Regexp) int {
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// The audio robot sends video and its tone, and, without a speaker, prints
// the level of the audio a peer sends it.
func TestAudioBothWays(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "audio"), "-audio", "tone", "-speaker", "levels")

	conn := newPeer(t)
	tone, err := rtcbot.NewToneSource(rtcbot.ToneSettings{Frequency: 660, Amplitude: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	conn.Audio().PutSubscription(tone)
	audio := conn.Audio().Subscribe()
	video := conn.Video().Subscribe()
	connectAsPage(t, ctx, conn, addr)

	getFrames(t, ctx, video, 5)
	// Half a second of the robot's tone, once it is under way.
	var sum float64
	var n int
	for n < 48000 {
		chunk, err := audio.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range chunk.Samples {
			sum += float64(s) * float64(s)
		}
		n += len(chunk.Samples)
	}
	if rms := math.Sqrt(sum / float64(n)); rms < 0.2 {
		t.Errorf("the robot's tone arrived with RMS %.3f, want about 0.35", rms)
	}

	// The robot hears our tone (a 0.5 sine is -9 dBFS).
	m := robot.waitFor(ctx, regexp.MustCompile(`^Received audio: 1\.0 s, level (-?\d+\.\d) dBFS, peak (\d\.\d\d)$`))
	if level, _ := strconv.ParseFloat(m[1], 64); level < -20 {
		t.Errorf("robot heard our tone at %s dBFS, want about -9", m[1])
	}
	conn.Close()
	robot.waitFor(ctx, regexp.MustCompile(`^Connection from 127\.0\.0\.1:\d+ closed\.$`))
	robot.interrupt(ctx)
}

// The remote control robot turns the browser's keyboard and gamepad
// messages into drive commands, and stops when the connection closes.
func TestRemoteControlDrives(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "remotecontrol"))

	conn := newPeer(t)
	video := conn.Video().Subscribe()
	connectAsPage(t, ctx, conn, addr)
	key := func(typ string, code int, name string) map[string]any {
		return map[string]any{"type": typ, "altKey": false, "shiftKey": false, "keyCode": code, "key": name}
	}
	for _, msg := range []any{
		key("keydown", 87, "w"), // forward
		key("keydown", 65, "a"), // and left
		key("keyup", 65, "a"),   // straight on
		key("keyup", 87, "w"),   // stop
		map[string]any{"type": "btn0", "value": true},
		map[string]any{"type": "btn0", "value": false},
		map[string]any{"type": "axis1", "value": -0.75}, // stick forward
		map[string]any{"type": "axis0", "value": 0.5},   // and right
		// A Go or Python desktop's gamepad event, as rtcbot's Gamepad
		// sends it: the stick back to the middle.
		rtcbot.InputEvent{Timestamp: 1, Code: "ABS_X", State: 0, Event: rtcbot.InputAbsolute},
	} {
		conn.Put(msg)
	}
	getFrames(t, ctx, video, 5)

	drive := regexp.MustCompile(`^Drive: forward ([-+]\d\.\d\d), turn ([-+]\d\.\d\d)(.*)$`)
	for _, want := range []string{"+1.00 +0.00", "+1.00 -1.00", "+1.00 +0.00", "+0.00 +0.00", "+0.75 +0.00", "+0.75 +0.50", "+0.75 +0.00"} {
		m := robot.waitFor(ctx, drive)
		if got := m[1] + " " + m[2]; got != want || m[3] != "" {
			t.Fatalf("robot drove %q%s, want %q", got, m[3], want)
		}
	}
	conn.Close()
	m := robot.waitFor(ctx, drive)
	if got := m[1] + " " + m[2]; got != "+0.00 +0.00" || !strings.Contains(m[3], "closed") {
		t.Errorf("after the connection closed the robot drove %q%s, want a stop", got, m[3])
	}
	robot.interrupt(ctx)
	out := robot.output()
	if !strings.Contains(out, "Button BTN_SOUTH pressed.") {
		t.Errorf("robot did not report the button press")
	}
	if n := strings.Count(out, `Control message: {"altKey":false,"key":"w","keyCode":87,"shiftKey":false,"type":"keydown"}`); n != 1 {
		t.Errorf("robot printed the W key press %d times, want once", n)
	}
}

// The remote control robot takes one driver at a time: a second page (a
// reload) closes the first page's connection, which stops the motors, and
// then drives.
func TestRemoteControlReloadTakesOver(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "remotecontrol"))
	drive := regexp.MustCompile(`^Drive: forward ([-+]\d\.\d\d), turn ([-+]\d\.\d\d)(.*)$`)
	forward := map[string]any{"type": "keydown", "altKey": false, "shiftKey": false, "keyCode": 87, "key": "w"}

	first := newPeer(t)
	connectAsPage(t, ctx, first, addr)
	closedWithin := func(c *rtcbot.Connection, what string) {
		t.Helper()
		select {
		case <-c.Done():
		case <-time.After(15 * time.Second):
			t.Fatalf("%s is still open", what)
		}
	}
	select {
	case <-first.Ready():
	case <-ctx.Done():
		t.Fatal("the first page never connected")
	}
	first.Put(forward)
	if m := robot.waitFor(ctx, drive); m[1] != "+1.00" || m[3] != "" {
		t.Fatalf("the first page drove %q", m[0])
	}

	second := newPeer(t)
	connectAsPage(t, ctx, second, addr)
	closedWithin(first, "the first page's connection, after a second page connected,")
	if m := robot.waitFor(ctx, drive); m[1] != "+0.00" || m[2] != "+0.00" || !strings.Contains(m[3], "closed") {
		t.Fatalf("after the first page was replaced the robot drove %q, want a stop", m[0])
	}
	select {
	case <-second.Ready():
	case <-ctx.Done():
		t.Fatal("the second page never connected")
	}
	second.Put(forward)
	if m := robot.waitFor(ctx, drive); m[1] != "+1.00" || m[3] != "" {
		t.Fatalf("the second page drove %q", m[0])
	}
	if second.Err() != nil || isClosed(second) {
		t.Fatalf("the second page's connection ended: %v", second.Err())
	}
	robot.interrupt(ctx)
}

func isClosed(c *rtcbot.Connection) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// The basics example switches its display between the camera and the
// grayscale stream while a second subscription prints frame sizes.
func TestBasicsSwitchesDisplay(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	snapshot := filepath.Join(t.TempDir(), "snapshot.png")
	p := start(t, ctx, build(t, ctx, "basics"), "-camera", "testpattern", "-display", "headless",
		"-snapshot", snapshot, "-switch", "400ms", "-duration", "2s")
	for _, re := range []string{
		`^Frame reader: frame 1 is 320x240 \(\*image\.YCbCr\)$`,
		`^Display: showing the grayscale stream\.$`,
		`^Display: showing the camera\.$`,
		`^Frame reader: subscription ended after \d+ frames\.$`,
		`^Stopped\.$`,
	} {
		p.waitFor(ctx, regexp.MustCompile(re))
	}
	p.wait(ctx)
	if _, err := os.Stat(snapshot); err != nil {
		t.Errorf("no snapshot: %v", err)
	}
}

// The webrtc robot answers each message in capitals, whatever its JSON
// type, and sends its clock by itself, counting up.
func TestWebRTCAnswersMessages(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startCameralessRobot(t, ctx, build(t, ctx, "webrtc"), "-every", "50ms")
	conn := newPeer(t)
	msgs := conn.Subscribe()
	connectAsPage(t, ctx, conn, addr)
	conn.Put("hello")
	conn.Put(42)
	var replies []string
	lastCount := 0.0
	for len(replies) < 2 || lastCount < 3 {
		msg, err := msgs.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := msg.(map[string]any)
		switch {
		case !ok:
			t.Fatalf("robot sent %#v, want an object", msg)
		case m["reply"] != nil:
			replies = append(replies, fmt.Sprint(m["reply"]))
		case m["count"] != nil:
			n, _ := m["count"].(float64)
			if n != lastCount+1 {
				t.Fatalf("clock message %v after %v", m["count"], lastCount)
			}
			lastCount = n
		default:
			t.Fatalf("robot sent %v", m)
		}
	}
	if got := strings.Join(replies, ", "); got != "HELLO, 42" {
		t.Errorf("robot replied %s, want HELLO, 42", got)
	}
	robot.waitFor(ctx, regexp.MustCompile(`^Message from 127\.0\.0\.1:\d+: "hello"$`))
	robot.waitFor(ctx, regexp.MustCompile(`^Message from 127\.0\.0\.1:\d+: "42"$`))
	conn.Close()
	robot.waitFor(ctx, regexp.MustCompile(`^Connection from 127\.0\.0\.1:\d+ closed\.$`))
	robot.interrupt(ctx)
}
