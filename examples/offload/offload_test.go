// Package offload_test runs the offloading tutorial's robot and desktop
// commands as two processes on 127.0.0.1, as a user would on two machines.
package offload_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/livekittest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build compiles one example command into dir.
func build(t *testing.T, dir, pkg string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, pkg)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

var controlLine = regexp.MustCompile(`^Control message: \{'timestamp': [0-9.]+, 'code': '(\w+)', 'state': (-?\d+), 'event': '(\w+)'\}$`)

var desktopLine = regexp.MustCompile(`^Desktop: go run \./examples/offload/desktop -robot '(http://[^']+/connect\?token=[A-Z2-7]+)'$`)

// desktopSummary is the JSON line the desktop prints with -summary.
type desktopSummary struct {
	Frames       int   `json:"frames"`
	Width        int   `json:"width"`
	Height       int   `json:"height"`
	ControlsSent int64 `json:"controls_sent"`
	LatencyReads int   `json:"latency_reads"`
}

// frames is what a desktop should receive: at least 30 frames of this
// size, whose time codes it reads if stamped (the test pattern's) and may
// not otherwise.
type frames struct {
	width, height int
	stamped       bool
}

// testPattern is what the robot's -camera testpattern sends.
var testPattern = frames{320, 240, true}

// runDesktop runs the desktop against url for 6 s with a simulated gamepad
// sending events, and returns its summary.
func runDesktop(t *testing.T, ctx context.Context, bin, dir, url string, events int) desktopSummary {
	t.Helper()
	return runDesktopWant(t, ctx, bin, dir, url, events, testPattern)
}

// runDesktopWant is runDesktop for a robot sending want.
func runDesktopWant(t *testing.T, ctx context.Context, bin, dir, url string, events int, want frames) desktopSummary {
	t.Helper()
	summary, _ := runDesktopArgs(t, ctx, bin, dir, "-robot", url, "-gamepad", "simulated", "-events", strconv.Itoa(events), "-duration", "6s")
	if summary.Frames < 30 || summary.Width != want.width || summary.Height != want.height || (want.stamped && summary.LatencyReads == 0) {
		t.Errorf("desktop received %+v; want at least 30 %dx%d frames (with time codes read: %v)", summary, want.width, want.height, want.stamped)
	}
	if summary.ControlsSent != int64(events) {
		t.Errorf("desktop sent %d control messages, want %d", summary.ControlsSent, events)
	}
	return summary
}

// runDesktopArgs runs the desktop on 127.0.0.1 with a headless display
// and args until it ends, and returns its JSON summary and what it printed.
func runDesktopArgs(t *testing.T, ctx context.Context, bin, dir string, args ...string) (desktopSummary, string) {
	t.Helper()
	args = append([]string{"-loopback", "-display", "headless", "-snapshot", filepath.Join(dir, "snap.png"), "-summary"}, args...)
	desktop := exec.CommandContext(ctx, bin, args...)
	desktop.Stderr = os.Stderr
	out, err := desktop.Output()
	if err != nil {
		t.Fatalf("desktop: %v\n%s", err, out)
	}
	var summary desktopSummary
	last := strings.TrimSpace(string(out))
	last = last[strings.LastIndex(last, "\n")+1:]
	if err := json.Unmarshal([]byte(last), &summary); err != nil {
		t.Fatalf("desktop summary %q: %v", last, err)
	}
	return summary, string(out)
}

// startRobot runs the robot command on a free 127.0.0.1 port with the test
// pattern (and args), and returns it, its output lines, and the /connect
// URL with the token it printed.
func startRobot(t *testing.T, ctx context.Context, bin string, args ...string) (*exec.Cmd, <-chan string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	robot := exec.CommandContext(ctx, bin, append([]string{"-addr", addr, "-loopback", "-camera", "testpattern", "-width", "320", "-height", "240"}, args...)...)
	robot.Env = append(os.Environ(), "RTCBOT_TOKEN=") // the robot makes its own
	robot.Stderr = os.Stderr
	robotOut, err := robot.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := robot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { robot.Process.Kill() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		scan := bufio.NewScanner(robotOut)
		for scan.Scan() {
			lines <- scan.Text()
		}
	}()
	var url string
	for started := false; !started; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("robot exited before serving")
			}
			if m := desktopLine.FindStringSubmatch(line); m != nil {
				url = m[1]
			}
			started = strings.HasPrefix(line, "(Press CTRL+C")
		case <-ctx.Done():
			t.Fatal("robot did not start")
		}
	}
	if url == "" {
		t.Fatal("the robot printed no address with its token")
	}
	return robot, lines, url
}

// stopRobot interrupts the robot, which must exit cleanly, and returns
// what it printed from then on.
func stopRobot(t *testing.T, robot *exec.Cmd, lines <-chan string) []string {
	t.Helper()
	robot.Process.Signal(os.Interrupt)
	var rest []string
	for line := range lines {
		rest = append(rest, line)
	}
	if err := robot.Wait(); err != nil {
		t.Errorf("robot: %v", err)
	}
	return rest
}

// controlCount counts the control messages among a robot's lines.
func controlCount(lines []string) int {
	n := 0
	for _, line := range lines {
		if controlLine.MatchString(line) {
			n++
		}
	}
	return n
}

// The robot serves one desktop after another, as two processes each: a
// desktop that finishes, one with a wrong token (refused), one killed
// mid-stream (the next takes over at once), and a last one.
func TestRobotAndDesktopProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	robotBin, desktopBin := build(t, dir, "./robot"), build(t, dir, "./desktop")

	robot, lines, url := startRobot(t, ctx, robotBin)
	addr := strings.TrimPrefix(strings.Split(url, "/connect")[0], "http://")

	const events = 60
	runDesktop(t, ctx, desktopBin, dir, url, events)

	// A desktop without the right token is refused.
	wrong := exec.CommandContext(ctx, desktopBin, "-robot", "http://"+addr+"/connect?token=WRONG", "-loopback",
		"-display", "headless", "-snapshot", filepath.Join(dir, "snap.png"), "-gamepad", "simulated", "-attempts", "1")
	if out, err := wrong.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Errorf("desktop with a wrong token: %v, want a failure naming 401:\n%s", err, out)
	}

	// A desktop killed once it is connected; the next one takes over.
	killed := exec.CommandContext(ctx, desktopBin, "-robot", url, "-loopback",
		"-display", "headless", "-snapshot", filepath.Join(dir, "snap.png"), "-gamepad", "simulated", "-events", "5")
	killedOut, err := killed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	for scan := bufio.NewScanner(killedOut); scan.Scan(); {
		if scan.Text() == "Connected to the robot." {
			break
		}
	}
	killed.Process.Kill()
	killed.Wait()
	runDesktop(t, ctx, desktopBin, dir, url, events)

	var got []string
	connected := 0
	for _, line := range stopRobot(t, robot, lines) {
		if m := controlLine.FindStringSubmatch(line); m != nil {
			got = append(got, fmt.Sprintf("%s %s %s", m[1], m[2], m[3]))
		} else if strings.HasPrefix(line, "Control message:") {
			t.Errorf("robot printed a control message in another format: %q", line)
		} else if strings.HasPrefix(line, "Desktop ") && strings.HasSuffix(line, " connected.") {
			connected++
		}
	}
	if connected != 3 {
		t.Errorf("robot served %d desktops, want 3", connected)
	}
	// The first and last desktops' controls, all of them and in order;
	// the killed one's between them, at most its 5.
	want := rtcbot.SimulatedGamepadScript(events)
	if len(got) < 2*events || len(got) > 2*events+5 {
		t.Fatalf("robot printed %d control messages, want %d to %d", len(got), 2*events, 2*events+5)
	}
	for _, run := range [][]string{got[:events], got[len(got)-events:]} {
		for i, e := range want {
			if w := fmt.Sprintf("%s %d %s", e.Code, e.State, e.Event); run[i] != w {
				t.Fatalf("control message %d: robot printed %q, want %q", i, run[i], w)
			}
		}
	}
}

// Built with -tags h264 and run with -codec h264, the robot streams H.264
// (x264), which the desktop built with the tag decodes (codec/avcodec), and
// the controls come back as with VP8.
func TestRobotSendsH264(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	robotBin, desktopBin := build(t, dir, "./robot", "-tags", "h264"), build(t, dir, "./desktop", "-tags", "h264")
	robot, lines, url := startRobot(t, ctx, robotBin, "-codec", "h264")
	const events = 20
	runDesktop(t, ctx, desktopBin, dir, url, events)
	controls := controlCount(stopRobot(t, robot, lines))
	if controls != events {
		t.Errorf("robot printed %d control messages, want %d", controls, events)
	}
}

// TestH264OnlyWithTag checks that the tutorial's robot and desktop carry the
// GPL H.264 codecs (codec/h264: x264 and libavcodec) only when built with
// -tags h264, and that the default robot refuses -codec h264 saying how to
// build it.
func TestH264OnlyWithTag(t *testing.T) {
	gpl := []string{"github.com/rtcbot-go/rtcbot/codec/h264", "github.com/rtcbot-go/rtcbot/codec/x264", "github.com/rtcbot-go/rtcbot/codec/avcodec"}
	for _, tags := range [][]string{nil, {"-tags", "h264"}} {
		args := append(append([]string{"list"}, tags...), "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./robot", "./desktop", "../../cmd/rtcbench")
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		for line := range strings.Lines(string(out)) {
			deps := strings.Fields(line)
			for _, p := range gpl {
				if got, want := slices.Contains(deps[1:], p), tags != nil; got != want {
					t.Errorf("%v: %s depends on %s: %v, want %v", tags, deps[0], p, got, want)
				}
			}
		}
	}
	bin := build(t, t.TempDir(), "./robot")
	out, err := exec.Command(bin, "-codec", "h264", "-camera", "testpattern", "-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "go run -tags h264 ./examples/offload/robot -codec h264") {
		t.Fatalf("default robot with -codec h264: %v\n%s\nwant a failure saying to build with -tags h264", err, out)
	}
}

// ffmpegH264 is an ffmpeg command writing an H.264 Annex-B stream of its
// moving test picture, in real time, keyframes every second, as
// rpicam-vid --codec h264 --inline does.
func ffmpegH264(t *testing.T, width, height int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is not installed: sudo apt-get install ffmpeg (or bash scripts/setup.sh): %v", err)
	}
	return fmt.Sprintf("ffmpeg -nostdin -loglevel error -re -f lavfi -i 'testsrc2=size=%dx%d:rate=30' -c:v libx264 -preset ultrafast -tune zerolatency "+
		"-profile:v baseline -pix_fmt yuv420p -g 30 -threads 1 -flush_packets 1 -f h264 -", width, height)
}

// The robot's -camera cmd:COMMAND and -camera pi send H.264 that a command
// encoded (ffmpeg's x264 here, for rpicam-vid and the Pi's encoder) as it
// is: a robot built without -tags h264 streams it, and so does one built
// with CGO_ENABLED=0, which has no codec at all; the desktop built with the
// tag decodes frames of the command's size, and controls come back. For
// -camera pi, a stand-in rpicam-vid first on PATH records the flags it was
// run with and runs that ffmpeg.
func TestOffloadRobotPassesH264Through(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	robotBin, desktopBin := build(t, dir, "./robot"), build(t, dir, "./desktop", "-tags", "h264")
	pureBin := filepath.Join(dir, "robot-nocgo")
	pure := exec.CommandContext(ctx, "go", "build", "-o", pureBin, "./robot")
	pure.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := pure.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./robot: %v\n%s", err, out)
	}
	cmd := ffmpegH264(t, 640, 480)
	stand := t.TempDir()
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args\"\nexec " + cmd + "\n"
	if err := os.WriteFile(filepath.Join(stand, "rpicam-vid"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", stand+string(os.PathListSeparator)+os.Getenv("PATH"))

	for _, tc := range []struct {
		name, bin string
		args      []string
	}{
		{"cmd", robotBin, []string{"-camera", "cmd:" + cmd}},
		{"pi without cgo", pureBin, []string{"-camera", "pi", "-width", "640", "-height", "480", "-fps", "30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			robot, lines, url := startRobot(t, ctx, tc.bin, tc.args...)
			const events = 20
			runDesktopWant(t, ctx, desktopBin, dir, url, events, frames{640, 480, false})
			controls := controlCount(stopRobot(t, robot, lines))
			if controls != events {
				t.Errorf("robot printed %d control messages, want %d", controls, events)
			}
		})
	}
	out, err := exec.CommandContext(ctx, robotBin, "-camera", "pi", "-codec", "vp8", "-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-camera pi-raw") {
		t.Errorf("robot with -camera pi -codec vp8: %v\n%s\nwant a failure pointing to -camera pi-raw", err, out)
	}
	args, err := os.ReadFile(filepath.Join(stand, "rpicam-vid.args"))
	if err != nil {
		t.Fatalf("-camera pi did not run rpicam-vid: %v", err)
	}
	if got, want := strings.ReplaceAll(strings.TrimSpace(string(args)), "\n", " "),
		"-t 0 -n --codec h264 --profile baseline --inline --intra 30 --width 640 --height 480 --framerate 30 --flush -o -"; got != want {
		t.Errorf("-camera pi ran rpicam-vid %s, want %s", got, want)
	}
}

var relayRobotLine = regexp.MustCompile(`^Robot: go run \./examples/offload/robot -relay ws://([^/]+)/robots/NAME -relay-token ([A-Z2-7]+)$`)

// A robot that dials out to the relay (examples/relay) with -relay is
// reached through it: the desktop posts its offer to the relay, for the
// robot by name, and gets the video and sends the controls as straight to
// the robot. The relay also serves the browser's page for the robot.
func TestRobotThroughRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	robotBin, desktopBin, relayBin := build(t, dir, "./robot"), build(t, dir, "./desktop"), build(t, dir, "../relay")

	relay := exec.CommandContext(ctx, relayBin, "-addr", "127.0.0.1:0")
	relay.Env = append(os.Environ(), "RTCBOT_RELAY_TOKEN=")
	relay.Stderr = os.Stderr
	out, err := relay.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		relay.Process.Signal(os.Interrupt)
		relay.Wait()
	})
	var relayAddr, relayToken string
	for scan := bufio.NewScanner(out); relayAddr == "" && scan.Scan(); {
		if m := relayRobotLine.FindStringSubmatch(scan.Text()); m != nil {
			relayAddr, relayToken = m[1], m[2]
		}
	}
	if relayAddr == "" {
		t.Fatal("the relay printed no robot command")
	}
	go io.Copy(io.Discard, out)

	robot, lines, direct := startRobot(t, ctx, robotBin, "-relay", "ws://"+relayAddr+"/robots/rover", "-relay-token", relayToken)
	defer func() {
		if controls := controlCount(stopRobot(t, robot, lines)); controls != 30 {
			t.Errorf("the robot printed %d controls that came through the relay's connection, want 30", controls)
		}
	}()
	token := direct[strings.Index(direct, "token=")+len("token="):]
	// The robot dials in after it starts: wait until the relay lists it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var names []string
		if resp, err := http.Get("http://" + relayAddr + "/robots"); err == nil {
			json.NewDecoder(resp.Body).Decode(&names)
			resp.Body.Close()
		}
		if slices.Contains(names, "rover") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the robot did not dial in to the relay (robots %v)", names)
		}
	}
	runDesktop(t, ctx, desktopBin, dir, "http://"+relayAddr+"/robots/rover/connect?token="+token, 30)

	resp, err := http.Get("http://" + relayAddr + "/view/rover?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "/rtcbot.js") {
		t.Errorf("the robot's page: %s\n%s", resp.Status, body)
	}
}

// The robot publishes to a real LiveKit server over WHIP (-whip) while a
// desktop watches it over WHEP at the robot's own /whep/ (-whep): the
// server lists the robot's video, the desktop gets time-coded frames and
// sends no controls, and the robot stops cleanly.
func TestRobotWHIPAndDesktopWHEP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lk := livekittest.Start(t)
	dir := t.TempDir()
	robotBin, desktopBin := build(t, dir, "./robot"), build(t, dir, "./desktop")
	robot, lines, connect := startRobot(t, ctx, robotBin, "-whip", lk.URL+"/whip/v1", "-whip-token", livekittest.Token(t, "lab", "rover", time.Hour))
	// The robot printed its WHEP address before it was serving: the same
	// as its /connect, with the token as a bearer token.
	whep, token, _ := strings.Cut(strings.Replace(connect, "/connect?token=", "/whep/ ", 1), " ")
	for published := false; !published; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the robot exited")
			}
			published = line == "Published over WHIP."
		case <-ctx.Done():
			t.Fatal("the robot did not publish over WHIP")
		}
	}
	for listed := false; !listed; {
		// The server's RoomService, polled: nothing tells from outside.
		for _, p := range lk.Participants(t, "lab") {
			for _, tr := range p.Tracks {
				listed = listed || p.Identity == "rover" && tr.Type == "VIDEO"
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("LiveKit did not list the robot's video")
		case <-time.After(20 * time.Millisecond):
		}
	}

	s, out := runDesktopArgs(t, ctx, desktopBin, dir, "-whep", whep, "-token", token, "-duration", "4s")
	if s.Frames < 30 || s.Width != 320 || s.Height != 240 || s.LatencyReads == 0 || s.ControlsSent != 0 {
		t.Errorf("desktop over WHEP: %+v; want 30 or more 320x240 frames with time codes, no controls", s)
	}
	if !strings.Contains(out, "Watching over WHEP: video only, no controls.") {
		t.Errorf("the desktop did not say it watches over WHEP:\n%s", out)
	}

	watched := slices.ContainsFunc(stopRobot(t, robot, lines), func(line string) bool {
		return strings.HasPrefix(line, "WHEP player ") && strings.HasSuffix(line, " watching.")
	})
	if !watched {
		t.Error("the robot did not print the WHEP player watching")
	}
}
