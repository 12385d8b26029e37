//go:build linux

package livekit

import (
	"log/slog"

	"context"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"image"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/livekittest"
	"github.com/rtcbot-go/rtcbot/timecode"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them, and if
// a livekit-server the tests started is still running.
func TestMain(m *testing.M) {
	// pion's logs go to the SDK's global logger, stderr by default: keep
	// them for -v at the debug level only.
	lksdk.SetLogger(sdkLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), ""))
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
		if pids := serverChildren(); len(pids) > 0 {
			os.Stderr.WriteString("livekit-server processes left running: " + strings.Join(pids, " ") + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// serverChildren returns the pids of this process's children that run
// livekit-server.
func serverChildren() []string {
	out, err := exec.Command("ps", "-o", "pid=,comm=", "--ppid", strconv.Itoa(os.Getpid())).Output()
	if err != nil {
		return nil
	}
	var pids []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] != "ps" {
			pids = append(pids, f[0])
		}
	}
	return pids
}

const waitTime = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
}

// token returns a join token for identity in room, valid for an hour.
func token(t *testing.T, room, identity string) string {
	t.Helper()
	tok, err := Token(livekittest.APIKey, livekittest.APISecret, Grant{Room: room, Identity: identity, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// joinRobot starts a server and a robot publishing the moving test
// pattern at w x h.
func joinRobot(t *testing.T, s *livekittest.Server, room string, w, h int) *Robot {
	t.Helper()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: w, Height: h, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	r, err := JoinRobot(testCtx(t), s.WebsocketURL, token(t, room, "robot"), RobotSettings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.PublishVideo(testCtx(t), cam); err != nil {
		t.Fatal(err)
	}
	return r
}

func joinViewer(t *testing.T, s *livekittest.Server, room, identity string) *Viewer {
	t.Helper()
	v, err := JoinViewer(testCtx(t), s.WebsocketURL, token(t, room, identity), ViewerSettings{Robot: "robot"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// readFrames reads n frames from v that are w x h and whose time codes
// read, failing the test otherwise.
func readFrames(t *testing.T, ctx context.Context, frames rtcbot.Getter[image.Image], n, w, h int) (last timecode.Stamp) {
	t.Helper()
	for i := 0; i < n; {
		img, err := frames.Get(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("frame %d is %dx%d, want %dx%d", i, b.Dx(), b.Dy(), w, h)
		}
		stamp, err := timecode.Read(img)
		if err != nil {
			t.Fatalf("frame %d: time code: %v", i, err)
		}
		if i > 0 && stamp.Seq <= last.Seq {
			t.Fatalf("frame %d: sequence %d after %d", i, stamp.Seq, last.Seq)
		}
		last = stamp
		i++
	}
	return last
}

func TestRobotToViewer(t *testing.T) {
	s := startServer(t)
	joinRobot(t, s, "lab", 320, 240)
	v := joinViewer(t, s, "lab", "viewer")
	readFrames(t, testCtx(t), v.Video().Subscribe(), 30, 320, 240)
}

// startServer starts a livekit-server for the test and kills it when the
// test ends, after the test's own cleanups (a graceful stop waits seconds
// for the server to drain rooms nobody is in any more).
func startServer(t *testing.T) *livekittest.Server {
	t.Helper()
	s := livekittest.Start(t)
	t.Cleanup(s.Kill)
	return s
}
