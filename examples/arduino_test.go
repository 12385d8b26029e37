//go:build unix

package examples_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtcbot-go/rtcbot/internal/browsertest"
	"github.com/rtcbot-go/rtcbot/internal/ptytest"
)

// fakeArduino is the Arduino's end of a pseudo-terminal whose other end the
// arduino example opens as its serial port.
type fakeArduino struct {
	t    *testing.T
	m    *os.File
	path string
}

func newFakeArduino(t *testing.T) *fakeArduino {
	t.Helper()
	m, path := ptytest.Open(t)
	return &fakeArduino{t: t, m: m, path: path}
}

// command reads control records (0xA5, int16 left, int16 right) until one
// is not prev (the robot repeats its command every 200 ms) and returns it.
func (a *fakeArduino) command(ctx context.Context, prev [2]int16) [2]int16 {
	a.t.Helper()
	deadline, _ := ctx.Deadline()
	a.m.SetReadDeadline(deadline)
	rec := make([]byte, 5)
	for {
		if _, err := io.ReadFull(a.m, rec); err != nil {
			a.t.Fatalf("reading a control record: %v", err)
		}
		if rec[0] != 0xA5 {
			a.t.Fatalf("control record %x does not start with 0xA5", rec)
		}
		got := [2]int16{int16(uint16(rec[1]) | uint16(rec[2])<<8), int16(uint16(rec[3]) | uint16(rec[4])<<8)}
		if got != prev {
			return got
		}
	}
}

// The arduino example drives the motors from the page's keys, forwards the
// sketch's sensor records to the page, stops the motors when the page's
// connection closes, and stops with an error when the Arduino goes away.
func TestArduinoDrives(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	arduino := newFakeArduino(t)
	robot, addr := startCameralessRobot(t, ctx, build(t, ctx, "arduino"), "-port", arduino.path, "-write-delay", "0")
	// Until a driver connects the robot repeats the stop command.
	if got := arduino.command(ctx, [2]int16{1, 1}); got != [2]int16{0, 0} {
		t.Fatalf("first command %v, want a stop", got)
	}

	conn := newPeer(t)
	msgs := conn.Subscribe()
	connectAsPage(t, ctx, conn, addr)
	key := func(typ string, code int, name string) map[string]any {
		return map[string]any{"type": typ, "altKey": false, "shiftKey": false, "keyCode": code, "key": name}
	}
	motors := regexp.MustCompile(`^Motors: left ([-+]\d+), right ([-+]\d+)(.*)$`)
	prev := [2]int16{0, 0}
	for _, step := range []struct {
		msg  any
		want [2]int16
	}{
		{key("keydown", 87, "w"), [2]int16{255, 255}},                         // forward
		{key("keydown", 65, "a"), [2]int16{0, 255}},                           // and left
		{key("keyup", 87, "w"), [2]int16{-255, 255}},                          // turn on the spot
		{map[string]any{"type": "axis1", "value": -0.5}, [2]int16{-128, 255}}, // half ahead, still turning left
	} {
		conn.Put(step.msg)
		if got := arduino.command(ctx, prev); got != step.want {
			t.Fatalf("after %v the Arduino got %v, want %v", step.msg, got, step.want)
		}
		prev = step.want
		robot.waitFor(ctx, motors)
	}

	// Sensor records, with noise before them, reach the page.
	arduino.m.Write([]byte("\x00boot\r\n\xa5\x00\x00\x02\xa5\x00\xff\x03"))
	robot.waitFor(ctx, regexp.MustCompile(`^Sensor 0: 512$`))
	robot.waitFor(ctx, regexp.MustCompile(`^Sensor 0: 1023$`))
	for _, want := range []float64{512, 1023} {
		msg, err := msgs.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := msg.(map[string]any)
		if !ok || m["sensorID"] != 0.0 || m["measurement"] != want {
			t.Fatalf("the page got %#v, want the sensor record %v", msg, want)
		}
	}

	conn.Close()
	if got := arduino.command(ctx, prev); got != [2]int16{0, 0} {
		t.Fatalf("after the connection closed the Arduino got %v, want a stop", got)
	}
	if m := robot.waitFor(ctx, motors); !strings.Contains(m[3], "closed") {
		t.Fatalf("robot printed %q, want the stop for the closed connection", m[0])
	}

	// Unplugged: the robot says so and exits with an error.
	arduino.m.Close()
	robot.cmd.Wait()
	if robot.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(robot.stderr.String(), "the Arduino went away") {
		t.Fatalf("after the Arduino went away the robot exited %v: %s", robot.cmd.ProcessState, robot.stderr.String())
	}
}

// Without an Arduino the example says so and exits.
func TestArduinoWithoutDevice(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	cmd := exec.CommandContext(ctx, build(t, ctx, "arduino"), "-port", "/dev/rtcbot-no-arduino", "-token", testToken)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !bytes.Contains(out, []byte("No Arduino at /dev/rtcbot-no-arduino")) {
		t.Fatalf("robot without an Arduino: %v\n%s", err, out)
	}
}

// The arduino page in headless Chromium: a key press drives, a key release
// stops, and the sketch's sensor records show on the page.
func TestBrowserArduino(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	arduino := newFakeArduino(t)
	robot, addr := startCameralessRobot(t, ctx, build(t, ctx, "arduino"), "-port", arduino.path, "-write-delay", "0")
	tab := openTab(t, browsertest.Start(t), pageURL(addr, ""))
	waitStatus(t, tab, `^Connected`)

	if err := chromedp.Do(tab, chromedp.KeyEvent("w")); err != nil { // pressed and released
		t.Fatal(err)
	}
	if got := arduino.command(ctx, [2]int16{0, 0}); got != [2]int16{255, 255} {
		t.Fatalf("after W was pressed the Arduino got %v, want full ahead", got)
	}
	if got := arduino.command(ctx, [2]int16{255, 255}); got != [2]int16{0, 0} {
		t.Fatalf("after W was released the Arduino got %v, want a stop", got)
	}
	robot.waitFor(ctx, regexp.MustCompile(`^Motors: left \+0, right \+0$`))

	arduino.m.Write([]byte{0xA5, 0, 0x00, 0x02})
	browsertest.WaitFor(t, tab, `document.getElementById("sensor").textContent === '{"measurement":512,"sensorID":0}'`, "the sensor record on the page")
}
