package examples_test

// The examples' pages in a real headless Chromium (internal/browsertest):
// each robot example is built and started as in the smoke tests, and its
// page, opened with the token as a user opens the URL the robot printed,
// loads /rtcbot.js and connects. The checks are on what really happens:
// video that plays, audio with a signal, key presses that reach the robot.

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/rtcbot-go/rtcbot/internal/browsertest"
)

// pageURL is the page of the robot at addr, with testToken and query (if
// any) in its URL.
func pageURL(addr, query string) string {
	u := "http://" + addr + "/?token=" + testToken
	if query != "" {
		u += "&" + query
	}
	return u
}

// openTab opens url in a new tab of b.
func openTab(t *testing.T, b *browsertest.Browser, url string) context.Context {
	t.Helper()
	tab := b.Tab()
	browsertest.Open(t, tab, url)
	return tab
}

// waitStatus waits until the page's #status says want (a regular
// expression), and returns what it says.
func waitStatus(t *testing.T, tab context.Context, want string) string {
	t.Helper()
	re := strconv.Quote(want)
	browsertest.WaitFor(t, tab, `new RegExp(`+re+`).test(document.getElementById("status").textContent)`, "the page's status to match "+re)
	return browsertest.Eval[string](t, tab, `document.getElementById("status").textContent`)
}

// waitPlaying waits until the page's <video> (the first one matched by
// selector) plays a picture of width x height and its playback advances by
// half a second.
func waitPlaying(t *testing.T, tab context.Context, selector string, width, height int) {
	t.Helper()
	v := `document.querySelector(` + strconv.Quote(selector) + `)`
	browsertest.WaitFor(t, tab, v+`.videoWidth > 0 && `+v+`.currentTime > 0`, "the video to play")
	dims := browsertest.Eval[[]int](t, tab, `[`+v+`.videoWidth, `+v+`.videoHeight]`)
	if dims[0] != width || dims[1] != height {
		t.Fatalf("the page's video is %dx%d, want %dx%d", dims[0], dims[1], width, height)
	}
	t0 := browsertest.Eval[float64](t, tab, v+`.currentTime`)
	browsertest.WaitFor(t, tab, v+`.currentTime > `+strconv.FormatFloat(t0+0.5, 'f', 3, 64), "playback to advance half a second")
}

// The streaming page plays the robot's video; with "Send my camera to the
// robot" ticked it reloads with ?camera=1 and sends Chromium's fake camera,
// which the robot receives and shows on its (headless) display. A wrong
// token is refused, and the page says so.
func TestBrowserStreaming(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	snapshot := filepath.Join(t.TempDir(), "browser-camera.png")
	robot, addr := startRobot(t, ctx, build(t, ctx, "streaming"), "-display", "headless", "-snapshot", snapshot)
	b := browsertest.Start(t)

	refused := openTab(t, b, "http://"+addr+"/?token=not-"+testToken)
	if got := waitStatus(t, refused, `^Could not connect`); !strings.Contains(got, "401") || !strings.Contains(got, "?token=") {
		t.Errorf("with a wrong token the page says %q, want the 401 and how to give the token", got)
	}

	tab := openTab(t, b, pageURL(addr, ""))
	waitStatus(t, tab, `^Connected\.$`)
	waitPlaying(t, tab, "video", 320, 240)
	robot.waitFor(ctx, regexp.MustCompile(`^New viewer from 127\.0\.0\.1:\d+\.$`))

	// Tick the box: the page reloads with ?camera=1 and connects again,
	// sending the browser's camera.
	browsertest.Eval[bool](t, tab, `setTimeout(() => document.getElementById("camera").click()), true`)
	m := robot.waitFor(ctx, regexp.MustCompile(`^Receiving the browser's camera from 127\.0\.0\.1:\d+: (\d+)x(\d+)\.$`))
	if m[1] == "0" || m[2] == "0" {
		t.Fatalf("robot: %q", m[0])
	}
	if got := browsertest.Eval[string](t, tab, `location.search`); !strings.Contains(got, "camera=1") {
		t.Errorf("after ticking the box the page is at %q, want ?camera=1", got)
	}
	waitStatus(t, tab, `^Connected, sending your camera\.$`)
	waitPlaying(t, tab, "video", 320, 240)

	// Stopping the robot writes the last frame of the browser's camera.
	robot.interrupt(ctx)
	f, err := os.Open(snapshot)
	if err != nil {
		t.Fatalf("no snapshot of the browser's camera: %v", err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if w, h := strconv.Itoa(cfg.Width), strconv.Itoa(cfg.Height); w != m[1] || h != m[2] {
		t.Errorf("snapshot is %sx%s, want the browser's %sx%s", w, h, m[1], m[2])
	}
	if out := robot.output(); !regexp.MustCompile(`(?m)^The browser's camera from 127\.0\.0\.1:\d+: [1-9]\d* frames\.$`).MatchString(out) {
		t.Errorf("robot did not count the browser's frames:\n%s", out)
	}
}

// The remote control page sends the browser's key presses and releases, in
// order, and its gamepad's changes (a stand-in for navigator.getGamepads,
// which headless Chromium has no device for) to the robot, which prints each
// message and drives; closing the page's connection stops the motors.
func TestBrowserRemoteControl(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "remotecontrol"))
	tab := openTab(t, browsertest.Start(t), pageURL(addr, ""))
	waitStatus(t, tab, `^Connected`)
	waitPlaying(t, tab, "video", 320, 240)

	// Each key is pressed and released: W, A, the up arrow, S.
	if err := chromedp.Do(tab, chromedp.KeyEvent("wa"+kb.ArrowUp+"s")); err != nil {
		t.Fatal(err)
	}
	type control struct {
		Type    string
		Key     string
		Code    string
		KeyCode int
		Value   any
	}
	message := regexp.MustCompile(`^Control message: (\{.*\})$`)
	next := func() control {
		t.Helper()
		m := robot.waitFor(ctx, message)
		var c control
		if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
			t.Fatalf("robot printed %q: %v", m[0], err)
		}
		return c
	}
	for _, k := range []struct {
		key, code string
		keyCode   int
	}{{"w", "KeyW", 87}, {"a", "KeyA", 65}, {"ArrowUp", "ArrowUp", 38}, {"s", "KeyS", 83}} {
		for _, typ := range []string{"keydown", "keyup"} {
			want := control{Type: typ, Key: k.key, Code: k.code, KeyCode: k.keyCode}
			if got := next(); got != want {
				t.Fatalf("robot got %+v, want %+v", got, want)
			}
		}
	}
	drive := regexp.MustCompile(`^Drive: forward ([-+]\d\.\d\d), turn ([-+]\d\.\d\d)(.*)$`)
	robot.waitFor(ctx, drive) // the last key's
	var drove []string
	for _, line := range strings.Split(robot.output(), "\n") {
		if m := drive.FindStringSubmatch(line); m != nil {
			drove = append(drove, m[1]+" "+m[2])
		}
	}
	if got, want := strings.Join(drove, ", "), "+1.00 +0.00, +0.00 +0.00, +0.00 -1.00, +0.00 +0.00, +1.00 +0.00, +0.00 +0.00, -1.00 +0.00, +0.00 +0.00"; got != want {
		t.Errorf("robot drove %s\nwant %s", got, want)
	}

	// A gamepad: the first look sees no change; then button 0 is pressed
	// and the left stick pushed forward.
	browsertest.Eval[bool](t, tab, `
		window.fakePad = {connected: true, buttons: Array.from({length: 17}, () => ({pressed: false, value: 0})), axes: [0, 0, 0, 0]};
		navigator.getGamepads = () => [fakePad, null, null, null];
		true`)
	browsertest.WaitFor(t, tab, `gamepad.state === fakePad`, "the page to read the gamepad")
	browsertest.Eval[bool](t, tab, `fakePad.buttons[0] = {pressed: true, value: 1}, fakePad.axes[1] = -0.75, true`)
	for _, want := range []control{{Type: "btn0", Value: true}, {Type: "axis1", Value: -0.75}} {
		if got := next(); got != want {
			t.Fatalf("robot got %+v, want %+v", got, want)
		}
	}
	if m := robot.waitFor(ctx, drive); m[1] != "+0.75" || m[2] != "+0.00" {
		t.Fatalf("the stick drove %q, want forward +0.75", m[0])
	}
	if !strings.Contains(robot.output(), "Button BTN_SOUTH pressed.") {
		t.Errorf("robot did not report the button press")
	}

	// Closing the page's connection stops the motors.
	browsertest.Eval[bool](t, tab, `conn.close(), true`)
	if m := robot.waitFor(ctx, drive); m[1] != "+0.00" || m[2] != "+0.00" || !strings.Contains(m[3], "closed") {
		t.Fatalf("after the page closed its connection the robot drove %q, want a stop", m[0])
	}
	waitStatus(t, tab, `^Disconnected\.$`)
}

// The audio page, after Connect, plays the robot's video and its 440 Hz
// tone (measured in the page with WebAudio: its RMS on the received stream)
// and sends Chromium's fake microphone, whose beeps the robot, without a
// speaker, reports as the level of the audio it receives.
func TestBrowserAudio(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "audio"), "-audio", "tone", "-speaker", "levels")
	tab := openTab(t, browsertest.Start(t), pageURL(addr, ""))
	browsertest.Eval[bool](t, tab, `document.getElementById("start").click(), true`)
	waitStatus(t, tab, `^Connected, sending your microphone\.$`)
	waitPlaying(t, tab, "video", 320, 240)

	// The loudest 50 ms of the received audio in a second, as RMS.
	rms := browsertest.Eval[float64](t, tab, `(async () => {
		const audio = new AudioContext();
		await audio.resume();
		const analyser = audio.createAnalyser();
		analyser.fftSize = 2048;
		audio.createMediaStreamSource(conn.audio.incomingStream).connect(analyser);
		const samples = new Float32Array(analyser.fftSize);
		let loudest = 0;
		for (let i = 0; i < 20; i++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
			analyser.getFloatTimeDomainData(samples);
			loudest = Math.max(loudest, Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length));
		}
		audio.close();
		return loudest;
	})()`)
	t.Logf("the robot's tone in the page: RMS %.3f", rms)
	if rms < 0.2 {
		t.Errorf("the robot's tone (amplitude 0.5, RMS 0.35) arrived in the page with RMS %.3f", rms)
	}

	// The robot hears the fake microphone's beeps (about -21 dBFS over a
	// second, peaks near 1), within its first three seconds of audio.
	level := regexp.MustCompile(`^Received audio: 1\.0 s, level (-?\d+\.\d) dBFS, peak (\d\.\d\d)$`)
	for i := 1; ; i++ {
		m := robot.waitFor(ctx, level)
		dB, _ := strconv.ParseFloat(m[1], 64)
		peak, _ := strconv.ParseFloat(m[2], 64)
		if dB > -40 && peak > 0.3 {
			break
		}
		if i == 3 {
			t.Fatalf("robot: %q, want the browser's microphone above -40 dBFS, peaks above 0.3", m[0])
		}
	}
	browsertest.Eval[bool](t, tab, `conn.close(), true`)
	robot.waitFor(ctx, regexp.MustCompile(`^Connection from 127\.0\.0\.1:\d+ closed\.$`))
}

// Two tabs of the multiconnect page watch at once, each on a connection of
// its own; when one leaves, the other plays on, and a reload watches again.
func TestBrowserMulticonnect(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startRobot(t, ctx, build(t, ctx, "multiconnect"))
	b := browsertest.Start(t)
	opened := regexp.MustCompile(`^Connection (\d+) from 127\.0\.0\.1:\d+: (\d+) open$`)
	var tabs []context.Context
	for i := 1; i <= 2; i++ {
		tab := openTab(t, b, pageURL(addr, ""))
		waitStatus(t, tab, `^Connected\.$`)
		if m := robot.waitFor(ctx, opened); m[1] != strconv.Itoa(i) || m[2] != strconv.Itoa(i) {
			t.Fatalf("robot: %q, want connection %d with %d open", m[0], i, i)
		}
		tabs = append(tabs, tab)
	}
	for _, tab := range tabs {
		waitPlaying(t, tab, "video", 320, 240)
	}

	browsertest.Eval[bool](t, tabs[0], `conn.close(), true`)
	if m := robot.waitFor(ctx, regexp.MustCompile(`^Connection (\d+) closed: (\d+) open$`)); m[1] != "1" || m[2] != "1" {
		t.Fatalf("robot: %q, want connection 1 closed, 1 open", m[0])
	}
	waitStatus(t, tabs[0], `^Disconnected`)
	waitPlaying(t, tabs[1], "video", 320, 240)

	browsertest.Open(t, tabs[0], pageURL(addr, ""))
	if m := robot.waitFor(ctx, opened); m[1] != "3" || m[2] != "2" {
		t.Fatalf("robot: %q, want connection 3 with 2 open", m[0])
	}
	waitPlaying(t, tabs[0], "video", 320, 240)
}

// The webrtc page sends what is typed into its text box; the robot prints
// it and answers in capitals, and sends its clock by itself, which the page
// shows.
func TestBrowserWebRTC(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	robot, addr := startCameralessRobot(t, ctx, build(t, ctx, "webrtc"), "-every", "100ms")
	tab := openTab(t, browsertest.Start(t), pageURL(addr, ""))
	waitStatus(t, tab, `^Connected\.$`)

	// Typed into the box, sent with Enter.
	browsertest.Eval[bool](t, tab, `document.getElementById("text").focus(), true`)
	if err := chromedp.Do(tab, chromedp.KeyEvent("Hello, robot!\r")); err != nil {
		t.Fatal(err)
	}
	robot.waitFor(ctx, regexp.MustCompile(`^Message from 127\.0\.0\.1:\d+: "Hello, robot!"$`))
	browsertest.WaitFor(t, tab, `document.getElementById("log").textContent.includes("Robot: HELLO, ROBOT!")`, "the robot's reply")
	if got := browsertest.Eval[[]string](t, tab, `Array.from(document.querySelectorAll("#log li"), (li) => li.textContent)`); strings.Join(got, "|") != "You: Hello, robot!|Robot: HELLO, ROBOT!" {
		t.Errorf("the page shows %q", got)
	}

	// The robot's clock, every 100 ms.
	clock := regexp.MustCompile(`^The robot's clock: \d\d:\d\d:\d\d \(message (\d+)\)$`)
	browsertest.WaitFor(t, tab, `/\(message ([3-9]|\d\d+)\)/.test(document.getElementById("clock").textContent)`, "the robot's third clock message")
	if got := browsertest.Eval[string](t, tab, `document.getElementById("clock").textContent`); !clock.MatchString(got) {
		t.Errorf("the page shows %q", got)
	}

	browsertest.Eval[bool](t, tab, `conn.close(), true`)
	robot.waitFor(ctx, regexp.MustCompile(`^Connection from 127\.0\.0\.1:\d+ closed\.$`))
	waitStatus(t, tab, `^Disconnected\.$`)

	// The robot serves the client as an ES module too.
	if !browsertest.Eval[bool](t, tab, `import("/rtcbot.mjs").then((m) => typeof m.RTCConnection === "function" && typeof m.Keyboard === "function")`) {
		t.Error("/rtcbot.mjs lacks RTCConnection or Keyboard")
	}
}
