//go:build linux

package examples_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
	"github.com/rtcbot-go/rtcbot/internal/livekittest"
	"github.com/rtcbot-go/rtcbot/livekit"
)

// exitBound is how long each sfu command may take to leave the room and
// exit after SIGINT.
const exitBound = 10 * time.Second

var (
	sfuRobotIn   = regexp.MustCompile(`^Robot "robot" is in the room at ws://127\.0\.0\.1:\d+, publishing its camera \((\d+x\d+)\)\.$`)
	sfuDesktopIn = regexp.MustCompile(`^Desktop "(\S+)" is in the room at ws://127\.0\.0\.1:\d+, (watching|watching and driving) "robot"\.$`)
	sfuFirst     = regexp.MustCompile(`^First frame from robot: (\d+x\d+)\.$`)
	sfuStatus    = regexp.MustCompile(`^Status from robot: \{.*"status":"ok".*\}$`)
	sfuControl   = regexp.MustCompile(`^Control message from (\S+): \{'timestamp': `)
	sfuLeft      = regexp.MustCompile(`^Left the room: received (\d+) frames \((\d+x\d+)\) and (\d+) status messages, sent (\d+) control messages\.$`)
)

// A robot and two desktops, one driving, as processes against a real
// LiveKit server, each making its own token from the server's key pair:
// both desktops show the robot's video at its size and get its status,
// the robot prints the driver's controls and none from the watcher (whose
// token cannot send data), and each exits 0 soon after SIGINT.
func TestSFURobotAndDesktops(t *testing.T) {
	ctx := testCtx(t)
	robotBin, desktopBin := build(t, ctx, "sfu/robot"), build(t, ctx, "sfu/desktop")
	s := livekittest.Start(t)
	env := []string{"LIVEKIT_TOKEN=", "LIVEKIT_URL="} // the flags, not the test's environment
	lk := []string{"-url", s.WebsocketURL, "-room", "sfu-test", "-api-key", livekittest.APIKey, "-api-secret", livekittest.APISecret}

	robot := startEnv(t, ctx, env, robotBin, append(lk, "-camera", "testpattern", "-width", "352", "-height", "288")...)
	if size := robot.waitFor(ctx, sfuRobotIn)[1]; size != "352x288" {
		t.Fatalf("the robot publishes %s, want 352x288", size)
	}
	driver := startEnv(t, ctx, env, desktopBin, append(lk, "-identity", "driver", "-drive", "-gamepad", "simulated", "-display", "headless")...)
	watcher := startEnv(t, ctx, env, desktopBin, append(lk, "-identity", "watcher", "-display", "headless")...)
	for _, d := range []struct {
		p              *process
		identity, role string
	}{{driver, "driver", "watching and driving"}, {watcher, "watcher", "watching"}} {
		if m := d.p.waitFor(ctx, sfuDesktopIn); m[1] != d.identity || m[2] != d.role {
			t.Errorf("desktop says %q, want %s %s", m[0], d.identity, d.role)
		}
		if size := d.p.waitFor(ctx, sfuFirst)[1]; size != "352x288" {
			t.Errorf("%s's first frame is %s, want 352x288", d.identity, size)
		}
		d.p.waitFor(ctx, sfuStatus)
	}
	if from := robot.waitFor(ctx, sfuControl)[1]; from != "driver" {
		t.Errorf("the robot's first control is from %s, want driver", from)
	}

	var sent [2]string
	for i, d := range []*process{driver, watcher} {
		exit, cancel := context.WithTimeout(ctx, exitBound)
		rest := d.interrupt(exit)
		cancel()
		var left []string
		for _, line := range rest {
			if m := sfuLeft.FindStringSubmatch(line); m != nil {
				left = m
			}
		}
		if left == nil {
			t.Fatalf("%s printed no summary on SIGINT; after it: %q", d.name, rest)
		}
		if left[1] == "0" || left[2] != "352x288" || left[3] == "0" {
			t.Errorf("%s: %q, want frames of 352x288 and status messages", d.name, left[0])
		}
		sent[i] = left[4]
	}
	if sent[0] == "0" || sent[1] != "0" {
		t.Errorf("the driver sent %s controls and the watcher %s, want some and none", sent[0], sent[1])
	}
	exit, cancel := context.WithTimeout(ctx, exitBound)
	defer cancel()
	robot.interrupt(exit)
	controls := map[string]int{}
	for _, line := range strings.Split(robot.output(), "\n") {
		if m := sfuControl.FindStringSubmatch(line); m != nil {
			controls[m[1]]++
		}
	}
	if controls["driver"] == 0 || len(controls) != 1 {
		t.Errorf("the robot printed controls from %v, want the driver's only", controls)
	}
	if !strings.Contains(robot.output(), "stopping the motors") {
		t.Error("the robot never said the controls were lost (the driver left)")
	}
}

// Without a token or a key pair, the robot and the desktop fail at once
// with one line that says what to give them.
func TestSFUNoToken(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	for _, name := range []string{"sfu/robot", "sfu/desktop"} {
		cmd := exec.CommandContext(ctx, build(t, ctx, name), "-camera=testpattern")
		if name == "sfu/desktop" {
			cmd.Args = cmd.Args[:1]
		}
		cmd.Env = environ("LIVEKIT_TOKEN=", "LIVEKIT_API_KEY=", "LIVEKIT_API_SECRET=")
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); !ok {
			t.Errorf("%s without a token: %v, want exit status 1", name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "no join token: give -token (or $LIVEKIT_TOKEN), or -api-key and -api-secret") {
			t.Errorf("%s without a token printed %q, want one line naming -token and -api-key", name, out)
		}
	}
}

// A desktop told to drive with a watcher's token (no data permission,
// whose packets the server would drop) says so instead of joining.
func TestSFUDriveWithWatcherToken(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	token, err := livekit.Token(livekittest.APIKey, livekittest.APISecret, livekit.Grant{Room: "lab", Identity: "bob", NoPublish: true, NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, build(t, ctx, "sfu/desktop"), "-drive", "-token", token, "-url", "ws://127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok || !strings.Contains(string(out), "-drive: this token may not send data") {
		t.Errorf("desktop -drive with a watcher's token: %v, %q; want an error saying the token may not send data", err, out)
	}
}

// The demo runs its own server, the robot and three desktops, and exits 0
// with its summary.
func TestSFUDemo(t *testing.T) {
	ctx := testCtx(t)
	bin := build(t, ctx, "sfu/demo")
	server, err := livekitserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	demo := startEnv(t, ctx, []string{"RTCBOT_LIVEKIT_SERVER=" + server}, bin, "-duration", "2s")
	summary := demo.waitFor(ctx, regexp.MustCompile(`^Summary: (.*)$`))[1]
	for _, want := range []string{
		"driver received", "watcher-1 received", "watcher-2 received", "(320x240)",
		"from the driver, 0 from the watchers",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("the demo's summary %q lacks %q", summary, want)
		}
	}
	demo.wait(ctx)
}
