// Package offload_test runs the offloading tutorial's robot and desktop
// commands as two processes on 127.0.0.1, as a user would on two machines.
package offload_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build compiles one example command into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

var controlLine = regexp.MustCompile(`^Control message: \{'timestamp': [0-9.]+, 'code': '(\w+)', 'state': (-?\d+), 'event': '(\w+)'\}$`)

func TestRobotAndDesktopProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	robotBin, desktopBin := build(t, dir, "./robot"), build(t, dir, "./desktop")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	robot := exec.CommandContext(ctx, robotBin, "-addr", addr, "-loopback", "-camera", "testpattern", "-width", "320", "-height", "240")
	robot.Stderr = os.Stderr
	robotOut, err := robot.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := robot.Start(); err != nil {
		t.Fatal(err)
	}
	defer robot.Process.Kill()
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		scan := bufio.NewScanner(robotOut)
		for scan.Scan() {
			lines <- scan.Text()
		}
	}()
	for started := false; !started; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("robot exited before serving")
			}
			started = strings.HasPrefix(line, "(Press CTRL+C")
		case <-ctx.Done():
			t.Fatal("robot did not start")
		}
	}

	const events = 60
	desktop := exec.CommandContext(ctx, desktopBin, "-robot", "http://"+addr+"/connect", "-loopback",
		"-display", "headless", "-snapshot", filepath.Join(dir, "snap.png"),
		"-gamepad", "simulated", "-events", strconv.Itoa(events), "-duration", "6s", "-summary")
	desktop.Stderr = os.Stderr
	out, err := desktop.Output()
	if err != nil {
		t.Fatalf("desktop: %v\n%s", err, out)
	}
	var summary struct {
		Frames       int   `json:"frames"`
		Width        int   `json:"width"`
		Height       int   `json:"height"`
		ControlsSent int64 `json:"controls_sent"`
		LatencyReads int   `json:"latency_reads"`
	}
	last := strings.TrimSpace(string(out))
	last = last[strings.LastIndex(last, "\n")+1:]
	if err := json.Unmarshal([]byte(last), &summary); err != nil {
		t.Fatalf("desktop summary %q: %v", last, err)
	}
	if summary.Frames < 30 || summary.Width != 320 || summary.Height != 240 || summary.LatencyReads == 0 {
		t.Errorf("desktop received %+v; want at least 30 readable 320x240 frames", summary)
	}
	if summary.ControlsSent != events {
		t.Errorf("desktop sent %d control messages, want %d", summary.ControlsSent, events)
	}

	robot.Process.Signal(os.Interrupt)
	var got []string
	for line := range lines {
		if m := controlLine.FindStringSubmatch(line); m != nil {
			got = append(got, fmt.Sprintf("%s %s %s", m[1], m[2], m[3]))
		} else if strings.HasPrefix(line, "Control message:") {
			t.Errorf("robot printed a control message in another format: %q", line)
		}
	}
	if err := robot.Wait(); err != nil {
		t.Errorf("robot: %v", err)
	}
	want := rtcbot.SimulatedGamepadScript(events)
	if len(got) != len(want) {
		t.Fatalf("robot printed %d control messages, want %d", len(got), len(want))
	}
	for i, e := range want {
		if w := fmt.Sprintf("%s %d %s", e.Code, e.State, e.Event); got[i] != w {
			t.Fatalf("control message %d: robot printed %q, want %q", i, got[i], w)
		}
	}
}
