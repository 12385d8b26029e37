//go:build linux

// Package livekittest runs a real LiveKit server (livekit-server v1.13.5,
// which scripts/setup.sh builds) on 127.0.0.1 for the tests of the WHIP
// publisher and of package livekit. It is for this module's tests only.
package livekittest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
)

// Version is the livekit-server release the tests run: later ones need
// LiveKit's forks of pion, which the module proxy here does not serve.
const Version = "v1.13.5"

// APIKey and APISecret are the key pair the server accepts (the secret must
// be at least 32 characters).
const (
	APIKey    = "devkey"
	APISecret = "secretsecretsecretsecretsecretsecret"
)

// InstallCommand builds the server where Binary looks for it.
const InstallCommand = "bash scripts/setup.sh (it runs GOBIN=${XDG_CACHE_HOME:-$HOME/.cache}/rtcbot/livekit-server-" + Version +
	" go install github.com/livekit/livekit-server/cmd/server@" + Version + ")"

// Binary is the path of the livekit-server executable: $RTCBOT_LIVEKIT_SERVER
// if set, else where scripts/setup.sh installs it.
func Binary() string {
	if p := os.Getenv("RTCBOT_LIVEKIT_SERVER"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	return filepath.Join(dir, "rtcbot", "livekit-server-"+Version, "server")
}

// Server is a livekit-server process on 127.0.0.1: HTTP and websocket
// signaling on one TCP port, media on one UDP port.
type Server struct {
	// URL is the server's HTTP address, http://127.0.0.1:PORT; its WHIP
	// endpoint is URL+"/whip/v1".
	URL string
	// WebsocketURL is the address clients join rooms at, ws://127.0.0.1:PORT.
	WebsocketURL string

	t        testing.TB
	config   string
	httpPort int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	output *lockedBuffer
}

// Start starts a server on free ports and waits until it answers; it is
// stopped when the test ends. A missing binary fails the test, naming
// InstallCommand.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no livekit-server at %s: %s", bin, InstallCommand)
	}
	httpPort, udpPort := freeTCPPort(t), freeUDPPort(t)
	config := filepath.Join(t.TempDir(), "livekit.yaml")
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
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{
		URL:          "http://127.0.0.1:" + strconv.Itoa(httpPort),
		WebsocketURL: "ws://127.0.0.1:" + strconv.Itoa(httpPort),
		t:            t,
		config:       config,
		httpPort:     httpPort,
	}
	t.Cleanup(func() { s.Stop() })
	s.Restart()
	return s
}

// Restart starts the server again on the same ports after Kill or Stop (it
// does nothing if the server runs), and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	out := &lockedBuffer{}
	cmd := exec.Command(Binary(), "--dev", "--config", s.config)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start livekit-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.output = cmd, exited, out
	deadline := time.Now().Add(60 * time.Second)
	for {
		// The server answers "OK" at / once it serves; there is no event
		// to wait for from outside the process.
		resp, err := http.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			s.t.Fatalf("livekit-server exited at start: %s\n%s", cmd.ProcessState, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("livekit-server did not answer at %s within 60 s:\n%s", s.URL, out.String())
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

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	if s.t.Failed() {
		s.t.Logf("livekit-server output:\n%s", s.output.String())
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

// Token returns a join token for identity in room, valid for validFor,
// allowed to publish, subscribe and send data.
func Token(t testing.TB, room, identity string, validFor time.Duration) string {
	t.Helper()
	yes := true
	at := auth.NewAccessToken(APIKey, APISecret)
	at.SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &yes, CanSubscribe: &yes, CanPublishData: &yes}).
		SetIdentity(identity).SetValidFor(validFor)
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func freeTCPPort(t testing.TB) int {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDPPort(t testing.TB) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
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

// Participant is what the server's RoomService lists of a participant.
type Participant struct {
	Identity string  `json:"identity"`
	Tracks   []Track `json:"tracks"`
}

// Track is what the server lists of a published track.
type Track struct {
	Type     string `json:"type"`      // "VIDEO" or "AUDIO"
	MimeType string `json:"mime_type"` // "video/VP8"
	// Width and Height are what the publisher announced through LiveKit's
	// own signaling, 0 for a WHIP publisher.
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Participants lists the participants of room, through the server's
// RoomService (Twirp, JSON), with an admin token.
func (s *Server) Participants(t testing.TB, room string) []Participant {
	t.Helper()
	at := auth.NewAccessToken(APIKey, APISecret)
	at.SetVideoGrant(&auth.VideoGrant{RoomAdmin: true, Room: room}).SetValidFor(time.Minute)
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"room": room})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/twirp/livekit.RoomService/ListParticipants", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ListParticipants: %v", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ListParticipants: %s: %s", resp.Status, reply)
	}
	var list struct {
		Participants []Participant `json:"participants"`
	}
	if err := json.Unmarshal(reply, &list); err != nil {
		t.Fatalf("ListParticipants: %v: %s", err, reply)
	}
	return list.Participants
}

// ExpiredToken returns a join token for identity in room that expired
// two minutes ago, beyond the server's minute of leeway; package auth
// makes none such.
func ExpiredToken(room, identity string) string {
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": APIKey, "sub": identity, "nbf": now - 3600, "exp": now - 120,
		"video": map[string]any{"roomJoin": true, "room": room, "canPublish": true},
	})
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(APISecret))
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}
