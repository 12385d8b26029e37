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
	"net"
	"net/http"
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

	"github.com/rtcbot-go/rtcbot/livekit"
)

// The development key pair of the demo's server (the secret must be at
// least 32 characters).
const (
	apiKey    = "devkey"
	apiSecret = "secretsecretsecretsecretsecretsecret"
	room      = "demo"
)

// livekitVersion is the server release scripts/setup.sh builds.
const livekitVersion = "v1.13.5"

const installHint = "bash scripts/setup.sh (or go install github.com/livekit/livekit-server/cmd/server@" + livekitVersion +
	", then -livekit $(go env GOPATH)/bin/server)"

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long the desktops watch once they are in the room")
	server := flag.String("livekit", "", "the livekit-server binary (default $RTCBOT_LIVEKIT_SERVER, ~/.cache/rtcbot/livekit-server-"+livekitVersion+"/server, or livekit-server on the PATH)")
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

	lk, err := startServer(ctx, bin, dir)
	if err != nil {
		return err
	}
	defer lk.stop()
	fmt.Printf("LiveKit %s is serving at %s (room %q).\n", livekitVersion, lk.url, room)

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
		if tokens[g.Identity], err = livekit.Token(apiKey, apiSecret, g); err != nil {
			return err
		}
	}

	robot, err := startProcess(robotBin, "robot", "-url", lk.url, "-token", tokens["robot"], "-camera", "testpattern",
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
		args := []string{"-url", lk.url, "-token", tokens[name], "-display", "headless"}
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
	if flagged != "" {
		if _, err := os.Stat(flagged); err != nil {
			return "", fmt.Errorf("-livekit: %w", err)
		}
		return flagged, nil
	}
	if p := os.Getenv("RTCBOT_LIVEKIT_SERVER"); p != "" {
		return p, nil
	}
	if cache, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(cache, "rtcbot", "livekit-server-"+livekitVersion, "server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("livekit-server"); err == nil {
		return p, nil
	}
	return "", errors.New("no livekit-server found: " + installHint)
}

// liveKit is the demo's server.
type liveKit struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startServer starts livekit-server --dev on 127.0.0.1, with free ports
// and the demo's key pair, and waits until it answers.
func startServer(ctx context.Context, bin, dir string) (*liveKit, error) {
	httpPort, err := freePort("tcp4")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp4")
	if err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "livekit.yaml")
	yaml := fmt.Sprintf(`port: %d
bind_addresses: [127.0.0.1]
rtc:
  tcp_port: 0
  udp_port: %d
  use_external_ip: false
  node_ip: 127.0.0.1
  enable_loopback_candidate: true
  interfaces: {includes: [lo]}
  ips: {includes: [127.0.0.1/32]}
keys: {%s: %s}
logging: {level: warn}
`, httpPort, udpPort, apiKey, apiSecret)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	var output strings.Builder
	var mu sync.Mutex
	out := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return output.Write(p) })
	cmd := exec.Command(bin, "--dev", "--config", config)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the demo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	lk := &liveKit{url: fmt.Sprintf("ws://127.0.0.1:%d", httpPort), cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(lk.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The server answers "OK" at / once it serves; nothing else tells.
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", httpPort))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return lk, nil
			}
		}
		select {
		case <-lk.exited:
			mu.Lock()
			defer mu.Unlock()
			return nil, fmt.Errorf("livekit-server exited at start (%s):\n%s", cmd.ProcessState, output.String())
		case <-ctx.Done():
			lk.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			lk.stop()
			return nil, errors.New("livekit-server did not answer within 30 s")
		}
	}
}

// stop stops the server: SIGTERM, then SIGKILL after a second (a server
// just started takes 5 s to heed SIGTERM).
func (lk *liveKit) stop() {
	lk.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-lk.exited:
	case <-time.After(time.Second):
		lk.cmd.Process.Kill()
		<-lk.exited
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func freePort(network string) (int, error) {
	if network == "udp4" {
		c, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
