// Command demo runs the sfu example end to end on one machine: it starts a
// LiveKit development server on 127.0.0.1 (free ports, a config of its
// own), makes a join token for each participant, as the trusted machine
// holding the API secret would, and starts the robot and three desktops as
// processes: one driving, two only watching. It shows what each prints for
// -duration (or until Ctrl-C), stops them all, and ends with one summary
// line; it exits 0 only if every desktop received the robot's video and
// the robot received controls from the driving desktop alone.
//
//	go run ./examples/sfu/demo                # 10 s
//	go run ./examples/sfu/demo -duration 1m   # or until Ctrl-C
//
// It needs livekit-server v1.13.5, which bash scripts/setup.sh builds (into
// ~/.cache/rtcbot/livekit-server-v1.13.5/server); -livekit names another
// binary, and livekit-server on the PATH is used too. Run it from within
// this repository: it builds the robot and desktop commands.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
	"github.com/rtcbot-go/rtcbot/livekit"
)

// room is the demo's room; its server's key pair is livekitserver's.
const room = "demo"

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long the desktops watch once they are in the room")
	server := flag.String("livekit", "", "the livekit-server binary (default $RTCBOT_LIVEKIT_SERVER, ~/.cache/rtcbot/livekit-server-"+livekitserver.Version+"/server, or livekit-server on the PATH)")
	width := flag.Int("width", 320, "frame width")
	height := flag.Int("height", 240, "frame height")
	flag.Parse()
	if err := run(*duration, *server, *width, *height); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, server string, width, height int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bin, err := findServer(server)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "rtcbot-sfu-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Println("Building the robot and desktop commands...")
	robotBin, desktopBin := filepath.Join(dir, "robot"), filepath.Join(dir, "desktop")
	for bin, pkg := range map[string]string{robotBin: "github.com/rtcbot-go/rtcbot/examples/sfu/robot", desktopBin: "github.com/rtcbot-go/rtcbot/examples/sfu/desktop"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building %s (run the demo from within the rtcbot repository): %w", pkg, err)
		}
	}

	lk, err := livekitserver.Start(ctx, bin)
	if err != nil {
		return err
	}
	defer lk.Close()
	fmt.Printf("LiveKit %s is serving at %s (room %q).\n", livekitserver.Version, lk.WebsocketURL, room)

	// The tokens, made here with the API secret, which none of the
	// participants is given: the robot publishes and sends its status,
	// the driver subscribes and sends controls, the watchers only
	// subscribe.
	grants := []livekit.Grant{
		{Identity: "robot", NoSubscribe: true},
		{Identity: "driver", NoPublish: true},
		{Identity: "watcher-1", NoPublish: true, NoData: true},
		{Identity: "watcher-2", NoPublish: true, NoData: true},
	}
	tokens := map[string]string{}
	for _, g := range grants {
		g.Room = room
		g.ValidFor = time.Hour
		if tokens[g.Identity], err = livekit.Token(livekitserver.APIKey, livekitserver.APISecret, g); err != nil {
			return err
		}
	}

	robot, err := startProcess(robotBin, "robot", "-url", lk.WebsocketURL, "-token", tokens["robot"], "-camera", "testpattern",
		"-width", strconv.Itoa(width), "-height", strconv.Itoa(height))
	if err != nil {
		return err
	}
	defer robot.kill()
	if err := robot.waitFor(ctx, "(Press CTRL+C"); err != nil {
		return err
	}
	var desktops []*process
	for _, name := range []string{"driver", "watcher-1", "watcher-2"} {
		args := []string{"-url", lk.WebsocketURL, "-token", tokens[name], "-display", "headless"}
		if name == "driver" {
			args = append(args, "-drive", "-gamepad", "simulated")
		}
		d, err := startProcess(desktopBin, name, args...)
		if err != nil {
			return err
		}
		defer d.kill()
		desktops = append(desktops, d)
	}
	for _, d := range desktops {
		if err := d.waitFor(ctx, "First frame from robot"); err != nil {
			return err
		}
	}
	select {
	case <-time.After(duration):
	case <-ctx.Done():
	}

	fmt.Println("Stopping the desktops, then the robot...")
	for _, d := range desktops {
		d.interrupt()
	}
	var failed []error
	for _, d := range desktops {
		if err := d.wait(); err != nil {
			failed = append(failed, err)
		}
	}
	robot.interrupt()
	if err := robot.wait(); err != nil {
		failed = append(failed, err)
	}
	if err := errors.Join(failed...); err != nil {
		return err
	}
	return summarize(robot, desktops, width, height)
}

var (
	firstFrame = regexp.MustCompile(`^First frame from robot: (\d+)x(\d+)\.$`)
	left       = regexp.MustCompile(`^Left the room: received (\d+) frames .* sent (\d+) control messages\.$`)
	control    = regexp.MustCompile(`^Control message from (\S+): `)
)

// summarize prints the summary line, and says what did not flow.
func summarize(robot *process, desktops []*process, width, height int) error {
	controls := map[string]int{}
	for _, line := range robot.lines() {
		if m := control.FindStringSubmatch(line); m != nil {
			controls[m[1]]++
		}
	}
	var parts []string
	var problems []string
	for _, d := range desktops {
		var size string
		frames, sent := "0", "0"
		for _, line := range d.lines() {
			if m := firstFrame.FindStringSubmatch(line); m != nil {
				size = m[1] + "x" + m[2]
			}
			if m := left.FindStringSubmatch(line); m != nil {
				frames, sent = m[1], m[2]
			}
		}
		parts = append(parts, fmt.Sprintf("%s received %s frames (%s), sent %s controls", d.name, frames, size, sent))
		if want := fmt.Sprintf("%dx%d", width, height); size != want || frames == "0" {
			problems = append(problems, fmt.Sprintf("%s received %s frames of %s, want %s", d.name, frames, size, want))
		}
		if d.name == "driver" && sent == "0" {
			problems = append(problems, "the driver sent no control")
		}
	}
	parts = append(parts, fmt.Sprintf("the robot received %d controls from the driver, %d from the watchers",
		controls["driver"], controls["watcher-1"]+controls["watcher-2"]))
	fmt.Printf("Summary: %s.\n", strings.Join(parts, "; "))
	switch {
	case len(problems) > 0:
		return errors.New(strings.Join(problems, "; "))
	case controls["driver"] == 0:
		return errors.New("the robot received no control from the driver")
	case len(controls) != 1:
		return fmt.Errorf("the robot received controls from %v, want the driver's only", controls)
	}
	return nil
}

// findServer returns the livekit-server binary to run.
func findServer(flagged string) (string, error) {
	if flagged == "" {
		return livekitserver.Binary()
	}
	if _, err := os.Stat(flagged); err != nil {
		return "", fmt.Errorf("-livekit: %w", err)
	}
	return flagged, nil
}

// process is a participant: its output is shown with its name in front
// (the robot's controls and the desktops' status messages only the first
// few times), kept, and watched for lines.
type process struct {
	name  string
	cmd   *exec.Cmd
	done  chan struct{} // closed when its output ends
	mu    sync.Mutex
	out   []string
	seen  map[string]chan struct{}
	shown map[string]int
}

// quiet are the prefixes of lines shown only the first few times.
var quiet = []string{"Control message from", "Status from"}

func startProcess(bin, name string, args ...string) (*process, error) {
	p := &process{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{}), seen: map[string]chan struct{}{}, shown: map[string]int{}}
	p.cmd.Stderr = prefixed(name)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.read(stdout)
	return p, nil
}

func (p *process) read(r io.Reader) {
	defer close(p.done)
	scan := bufio.NewScanner(r)
	for scan.Scan() {
		line := scan.Text()
		p.mu.Lock()
		p.out = append(p.out, line)
		for prefix, ch := range p.seen {
			if strings.HasPrefix(line, prefix) {
				close(ch)
				delete(p.seen, prefix)
			}
		}
		show := true
		for _, q := range quiet {
			if strings.HasPrefix(line, q) {
				p.shown[q]++
				switch n := p.shown[q]; {
				case n == 3:
					line += " (and more, not shown)"
				case n > 3:
					show = false
				}
			}
		}
		p.mu.Unlock()
		if show {
			fmt.Printf("%-9s | %s\n", p.name, line)
		}
	}
}

// waitFor waits until the process prints a line starting with prefix.
func (p *process) waitFor(ctx context.Context, prefix string) error {
	p.mu.Lock()
	for _, line := range p.out {
		if strings.HasPrefix(line, prefix) {
			p.mu.Unlock()
			return nil
		}
	}
	ch := make(chan struct{})
	p.seen[prefix] = ch
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-p.done:
		return fmt.Errorf("%s ended without printing %q", p.name, prefix)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s did not print %q within 30 s", p.name, prefix)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *process) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.out...)
}

func (p *process) interrupt() { p.cmd.Process.Signal(os.Interrupt) }

// wait waits for the process to exit, for up to 15 s.
func (p *process) wait() error {
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.cmd.Wait()
		return fmt.Errorf("%s did not exit within 15 s of SIGINT", p.name)
	}
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	return nil
}

// kill kills the process if it still runs (an early return).
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
	}
}

// prefixed writes each line with name in front, to standard error.
func prefixed(name string) io.Writer {
	r, w := io.Pipe()
	go func() {
		scan := bufio.NewScanner(r)
		for scan.Scan() {
			fmt.Fprintf(os.Stderr, "%-9s | %s\n", name, scan.Text())
		}
	}()
	return w
}
