// Package livekitserver runs a livekit-server (v1.13.5, which
// scripts/setup.sh builds) on 127.0.0.1, on free ports, for this module's
// tests (internal/livekittest), the SFU measurement (cmd/rtcbench) and
// examples/sfu/demo.
package livekitserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Version is the livekit-server release run: later ones need LiveKit's
// forks of pion, which the module proxy here does not serve.
const Version = "v1.13.5"

// APIKey and APISecret are the key pair the server accepts (the secret
// must be at least 32 characters).
const (
	APIKey    = "devkey"
	APISecret = "secretsecretsecretsecretsecretsecret"
)

// InstallCommand builds the server where Binary looks for it.
const InstallCommand = "bash scripts/setup.sh (it runs GOBIN=${XDG_CACHE_HOME:-$HOME/.cache}/rtcbot/livekit-server-" + Version +
	" go install github.com/livekit/livekit-server/cmd/server@" + Version + ")"

// Binary returns the livekit-server executable: $RTCBOT_LIVEKIT_SERVER if
// set, else the one scripts/setup.sh installs, else livekit-server on the
// PATH. None is an error naming InstallCommand.
func Binary() (string, error) {
	if p := os.Getenv("RTCBOT_LIVEKIT_SERVER"); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	p := filepath.Join(dir, "rtcbot", "livekit-server-"+Version, "server")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("livekit-server"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no livekit-server at %s or on the PATH: %s", p, InstallCommand)
}

// Server is a livekit-server process on 127.0.0.1 in dev mode, with a
// config that keeps it there (dev mode alone listens on every interface):
// HTTP and websocket signaling on one TCP port, media on one UDP port.
type Server struct {
	// URL is the server's HTTP address, http://127.0.0.1:PORT; its WHIP
	// endpoint is URL+"/whip/v1".
	URL string
	// WebsocketURL is the address clients join rooms at, ws://127.0.0.1:PORT.
	WebsocketURL string

	bin, dir string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	output *lockedBuffer
}

// Start starts bin (see Binary) on free ports, its config in a new
// temporary directory, and waits until it answers or ctx ends. A port
// that was free when chosen but taken before the server bound it (by any
// process beside this one) is tried again, up to three times, on other
// ports.
func Start(ctx context.Context, bin string) (*Server, error) {
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, bin)
		if err == nil || !strings.Contains(err.Error(), "address already in use") || attempt == 3 {
			return s, err
		}
	}
}

func start(ctx context.Context, bin string) (*Server, error) {
	httpPort, err := freePort("tcp4")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp4")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "livekit-server-")
	if err != nil {
		return nil, err
	}
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
`, httpPort, udpPort, APIKey, APISecret)
	if err := os.WriteFile(filepath.Join(dir, "livekit.yaml"), []byte(yaml), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		URL:          "http://127.0.0.1:" + strconv.Itoa(httpPort),
		WebsocketURL: "ws://127.0.0.1:" + strconv.Itoa(httpPort),
		bin:          bin,
		dir:          dir,
	}
	if err := s.Restart(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Restart starts the server again on the same ports after Kill or Stop
// (it does nothing if the server runs), and waits until it answers or ctx
// ends.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	out := &lockedBuffer{}
	cmd := exec.Command(s.bin, "--dev", "--config", filepath.Join(s.dir, "livekit.yaml"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	dieWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start livekit-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.output = cmd, exited, out
	deadline := time.Now().Add(60 * time.Second)
	for {
		// The server answers "OK" at / once it serves; there is no event
		// to wait for from outside its process.
		if resp, err := http.Get(s.URL + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		var err error
		select {
		case <-exited:
			err = fmt.Errorf("livekit-server exited at start: %s\n%s", cmd.ProcessState, out.String())
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(20 * time.Millisecond):
			if time.Now().After(deadline) {
				err = fmt.Errorf("livekit-server did not answer at %s within 60 s:\n%s", s.URL, out.String())
			}
		}
		if err != nil {
			s.stopLocked(syscall.SIGKILL)
			return err
		}
	}
}

// Kill kills the server at once, as a crash would: its rooms and
// participants go with it.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

// Stop stops the server (SIGTERM, then SIGKILL after a second: a server
// just started takes 5 s to heed SIGTERM) and waits for it to exit. It is
// idempotent.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Close stops the server and removes its config.
func (s *Server) Close() error {
	s.Stop()
	return os.RemoveAll(s.dir)
}

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(sig)
}

func (s *Server) stopLocked(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// PID is the server process's id, 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Output is what the server printed since it last started.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.output == nil {
		return ""
	}
	return s.output.String()
}

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

// lockedBuffer collects the server's output from its two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
