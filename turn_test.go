package rtcbot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// The TURN tests' long-term credentials.
const turnUser, turnPassword, turnRealm = "robot", "secret", "rtcbot.test"

// startPionTURN runs pion's TURN server in the test, on 127.0.0.1 over
// UDP, and returns its URL.
func startPionTURN(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	startPionTURNOn(t, turn.ServerConfig{PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: conn, RelayAddressGenerator: loopbackRelays()}}})
	return "turn:" + conn.LocalAddr().String() + "?transport=udp"
}

// startPionTURNTCP runs pion's TURN server in the test, on 127.0.0.1 over
// TCP (as a TURN server on port 443 is reached through a firewall that
// passes only the web), and returns its URL. The relayed media is UDP on
// the server's side, as with any TURN server.
func startPionTURNTCP(t *testing.T) string {
	t.Helper()
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{Listener: tl}
	t.Cleanup(func() {
		if l.accepted.Load() == 0 {
			t.Error("no peer reached the TURN server over TCP")
		}
	})
	startPionTURNOn(t, turn.ServerConfig{ListenerConfigs: []turn.ListenerConfig{{Listener: l, RelayAddressGenerator: loopbackRelays()}}})
	return "turn:" + l.Addr().String() + "?transport=tcp"
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// loopbackRelays makes relay addresses on 127.0.0.1.
func loopbackRelays() turn.RelayAddressGenerator {
	return &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"}
}

// startPionTURNOn runs pion's TURN server with config's sockets and the
// tests' long-term user until the test ends.
func startPionTURNOn(t *testing.T, config turn.ServerConfig) {
	t.Helper()
	key := turn.GenerateAuthKey(turnUser, turnRealm, turnPassword)
	config.Realm = turnRealm
	config.AuthHandler = func(ra *turn.RequestAttributes) (string, []byte, bool) {
		return ra.Username, key, ra.Username == turnUser
	}
	server, err := turn.NewServer(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
}

// startCoturn runs Debian's coturn (turnserver) on a free port of
// 127.0.0.1 with a long-term user, until the test ends, and returns its
// URL once it answers STUN.
//
// The port is free when chosen but may be taken before coturn binds it (by
// any socket of a test running beside this one); coturn then retries the
// bind forever without failing, so a bind error in its log starts it again
// on another port.
func startCoturn(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("coturn's turnserver is not installed: sudo apt-get install coturn (or bash scripts/setup.sh): %v", err)
	}
	for attempt := 1; ; attempt++ {
		addr, log, err := tryCoturn(t, path)
		if err == nil {
			return "turn:" + addr + "?transport=udp"
		}
		if !errors.Is(err, errCoturnBind) || attempt == 3 {
			t.Fatalf("turnserver on %s: %v; its log ends:\n%s", addr, err, log)
		}
		t.Logf("turnserver on %s: %v; trying another port", addr, err)
	}
}

// errCoturnBind is coturn's log saying it cannot bind its listening port.
var errCoturnBind = errors.New("cannot bind its port")

// tryCoturn starts coturn on a port that is free now and waits until it
// answers STUN, logs a bind error, exits or takes 10 s. On failure it
// stops coturn and returns the last lines coturn logged.
func tryCoturn(t *testing.T, path string) (addr, log string, err error) {
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	// The flags that work here (../shared/reference/dependencies.md): a
	// foreground server on loopback, relaying to loopback peers, UDP only
	// (the tests ask for transport=udp; a TCP listener could also collide
	// with any connection's ephemeral port), no TLS, no CLI, logging to
	// stdout.
	cmd := exec.Command(path, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", fmt.Sprintf("--listening-port=%d", port),
		"--user="+turnUser+":"+turnPassword, "--realm="+turnRealm, "--lt-cred-mech", "--fingerprint",
		"--no-tcp", "--no-tcp-relay", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--min-port=49160", "--max-port=49400",
		"--pidfile="+filepath.Join(t.TempDir(), "turnserver.pid"), "--log-file=stdout", "--simple-log")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		tail []string // the last lines coturn logged
	)
	bindFailed, logged := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(logged)
		failed := false
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			line := lines.Text()
			mu.Lock()
			if tail = append(tail, line); len(tail) > 20 {
				tail = tail[1:]
			}
			mu.Unlock()
			if !failed && strings.Contains(line, "Cannot bind") {
				failed = true
				close(bindFailed)
			}
		}
	}()
	stop := func() {
		cmd.Process.Kill()
		<-logged
		cmd.Wait()
	}
	lastLines := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(tail, "\n")
	}
	// Ready when it answers a STUN binding request: coturn says nothing
	// outside its process when it is, so it is asked every 20 ms (a
	// refused request returns at once, and a loop without a pause would
	// take the CPU coturn needs to start).
	deadline := time.After(10 * time.Second)
	for {
		if stunAnswers(addr) {
			t.Cleanup(stop)
			return addr, "", nil
		}
		select {
		case <-bindFailed:
			stop()
			return addr, lastLines(), errCoturnBind
		case <-logged:
			stop()
			return addr, lastLines(), fmt.Errorf("exited: %v", cmd.ProcessState)
		case <-deadline:
			stop()
			return addr, lastLines(), errors.New("did not answer STUN within 10 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stunAnswers reports whether a STUN server at addr answers a binding
// request within 100 ms.
func stunAnswers(addr string) bool {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	msg := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := conn.Write(msg.Raw); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	return err == nil && stun.IsMessage(buf[:n])
}

// relaySettings are loopback settings that may only use the TURN server
// at url.
func relaySettings(url string) ConnectionSettings {
	s := loopbackSettings()
	s.RelayOnly = true
	s.ICEServers = []webrtc.ICEServer{{URLs: []string{url}, Username: turnUser, Credential: turnPassword}}
	return s
}

// selectedPair returns the candidate pair a connection's ICE chose.
func selectedPair(t *testing.T, c *Connection) *webrtc.ICECandidatePair {
	t.Helper()
	sctp := c.pc.SCTP()
	if sctp == nil {
		t.Fatal("no SCTP transport")
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("no selected candidate pair: %v", err)
	}
	return pair
}

// With RelayOnly on both sides, video and messages flow through a TURN
// server, pion's in the test (reached over UDP or TCP) or Debian's coturn,
// and both ends' chosen candidates are relay candidates.
func TestTURNRelayOnly(t *testing.T) {
	for name, start := range map[string]func(*testing.T) string{"pion": startPionTURN, "pion over TCP": startPionTURNTCP, "coturn": startCoturn} {
		t.Run(name, func(t *testing.T) {
			url := start(t)
			robot, desktop := newConnWith(t, relaySettings(url)), newConnWith(t, relaySettings(url))
			cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120})
			defer cam.Close()
			robot.Video().PutSubscription(cam)
			frames := desktop.Video().Subscribe()
			msgs := robot.Subscribe()
			connectPair(t, desktop, robot)
			for range 10 {
				if img := mustGet(t, frames); img.Bounds().Dx() != 160 {
					t.Fatalf("frame of %v", img.Bounds())
				}
			}
			desktop.Put(map[string]any{"forward": 1.0})
			if got, ok := mustGet(t, msgs).(map[string]any); !ok || got["forward"] != 1.0 {
				t.Fatalf("robot got %#v", got)
			}
			for _, c := range []*Connection{robot, desktop} {
				if pair := selectedPair(t, c); pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
					t.Fatalf("selected pair %s -> %s, want relay to relay", pair.Local.Typ, pair.Remote.Typ)
				}
			}
		})
	}
}

// Without credentials the TURN server refuses the allocation: a RelayOnly
// connection has no candidate and cannot connect; the description still
// comes (after the gathering timeout), without candidates.
func TestTURNWrongPassword(t *testing.T) {
	s := relaySettings(startPionTURN(t))
	s.ICEServers[0].Credential = "wrong"
	c := newConnWith(t, s)
	c.Video().Subscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offer, err := c.GetLocalDescription(ctx, nil)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if strings.Contains(offer.SDP, "typ relay") {
		t.Fatalf("a relay candidate with a wrong password:\n%s", offer.SDP)
	}
}

// UDPPortMin and UDPPortMax bound the ports ICE uses; a range that is
// not one is an ErrInvalidSettings error.
func TestUDPPortRange(t *testing.T) {
	// A range of ports free now: ten consecutive ones found by listening.
	var lo int
	for try := 0; lo == 0 && try < 50; try++ {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if base > 65000 {
			continue
		}
		free := true
		for p := base; p < base+10 && free; p++ {
			l, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			lo = base
		}
	}
	if lo == 0 {
		t.Fatal("no ten free consecutive UDP ports")
	}
	s := loopbackSettings()
	s.UDPPortMin, s.UDPPortMax = uint16(lo), uint16(lo+9)
	robot, desktop := newConnWith(t, s), newConn(t)
	desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	if port := selectedPair(t, robot).Local.Port; int(port) < lo || int(port) > lo+9 {
		t.Fatalf("robot's port %d, want %d to %d", port, lo, lo+9)
	}

	for _, r := range [][2]uint16{{10, 5}, {0, 5}} {
		s := loopbackSettings()
		s.UDPPortMin, s.UDPPortMax = r[0], r[1]
		if c, err := NewConnection(s); !errors.Is(err, ErrInvalidSettings) {
			if c != nil {
				c.Close()
			}
			t.Errorf("ports %d to %d: %v, want ErrInvalidSettings", r[0], r[1], err)
		}
	}
}
