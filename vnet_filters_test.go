package rtcbot

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

// Two impairments of pion's virtual network that it lacks: losses in
// bursts, and reordering. vnet.LossFilter is a NIC wrapper overriding
// onInboundChunk, but vnet.NIC (like vnet.Discipline and
// vnet.LossFilterHandler) has unexported methods, so such a wrapper can only
// be written inside package vnet. Each is therefore built on what vnet
// exports: burstLoss is a vnet.ChunkFilter for the router, and reorderNet
// wraps the desktop's vnet.Net, reordering what its UDP sockets read.

// vnetMu makes the tests build their virtual networks one at a time:
// vnet.NewRouter and vnet.NewNet number their MAC addresses with an
// unguarded global counter (pion/transport v5.1.4), a data race when
// parallel tests build networks at once.
var vnetMu sync.Mutex

// newRouter is vnet.NewRouter under vnetMu.
func newRouter(c *vnet.RouterConfig) (*vnet.Router, error) {
	vnetMu.Lock()
	defer vnetMu.Unlock()
	return vnet.NewRouter(c)
}

// newNet is vnet.NewNet under vnetMu.
func newNet(c *vnet.NetConfig) (*vnet.Net, error) {
	vnetMu.Lock()
	defer vnetMu.Unlock()
	return vnet.NewNet(c)
}

// burstLoss drops runs of consecutive packets on their way to one address,
// as a Wi-Fi link does while it roams or a mobile one at a handover: each
// packet to that address that is not already in a run starts one with
// probability chance, and a run drops length packets. The draws come from a
// seeded source, so the runs are the same for the same packets.
//
// Its filter method is given to vnet.Router.AddChunkFilter; the router calls
// it from its one goroutine, before the destination's NIC (and so before
// any loss filter or rate queue on it).
type burstLoss struct {
	to     net.IP  // only packets to this address are dropped
	length int     // packets dropped by a run
	chance float64 // of a run starting, per packet not in one

	mu   sync.Mutex
	rng  *rand.Rand
	left int // packets the current run has still to drop

	runs, dropped atomic.Uint64
}

// newBurstLoss returns a burstLoss of runs of length packets to the address
// to, a run starting with probability chance, its draws seeded with seed.
func newBurstLoss(to net.IP, length int, chance float64, seed uint64) *burstLoss {
	return &burstLoss{to: to, length: length, chance: chance, rng: rand.New(rand.NewPCG(seed, seed))}
}

// filter is a vnet.ChunkFilter: it reports whether to pass c on.
func (b *burstLoss) filter(c vnet.Chunk) bool {
	if a, ok := c.DestinationAddr().(*net.UDPAddr); !ok || !a.IP.Equal(b.to) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 && b.rng.Float64() < b.chance {
		b.left = b.length
		b.runs.Add(1)
	}
	if b.left == 0 {
		return true
	}
	b.left--
	b.dropped.Add(1)
	return false
}

// reorderNet is a vnet.Net whose UDP sockets deliver some of the packets
// they receive late: each packet, while none is held, is held back with
// probability chance, and is delivered after the next after packets, or
// once it has been held for hold if fewer come by then. So nothing stays
// held longer than hold while the socket is read, and there is no
// goroutine: the wait runs in ReadFrom, on the socket's read deadline.
// Closing the socket drops a held packet, as a network would.
//
// Only the sockets of ListenUDP reorder, which is what pion's ICE agent
// opens for its host candidates. The reordering owns the read deadline of
// those sockets: a deadline set by their user is overridden while a packet
// is held.
type reorderNet struct {
	*vnet.Net
	chance float64
	after  int
	hold   time.Duration
	seed   uint64

	sockets   atomic.Uint64 // opened so far: each seeds its draws with seed + its number
	held      atomic.Uint64 // packets held back
	overtaken atomic.Uint64 // held packets delivered after one or more later ones
}

// ListenUDP opens a UDP socket on the virtual network whose reads reorder.
func (n *reorderNet) ListenUDP(network string, locAddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, locAddr)
	if err != nil {
		return nil, err
	}
	seed := n.seed + n.sockets.Add(1)
	return &reorderConn{UDPConn: c, net: n, rng: rand.New(rand.NewPCG(seed, seed))}, nil
}

// reorderConn is a socket of a reorderNet.
type reorderConn struct {
	transport.UDPConn
	net *reorderNet

	mu       sync.Mutex // held across a read: one at a time
	rng      *rand.Rand
	holding  bool
	held     []byte
	heldFrom net.Addr
	due      time.Time // when the held packet is delivered at the latest
	passed   int       // packets delivered since it was held
}

// ReadFrom returns the next packet, or the held one when its turn has come.
func (c *reorderConn) ReadFrom(p []byte) (int, net.Addr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.holding && (c.passed >= c.net.after || !time.Now().Before(c.due)) {
			return c.release(p)
		}
		if c.holding {
			if err := c.UDPConn.SetReadDeadline(c.due); err != nil {
				return 0, nil, err
			}
		}
		n, from, err := c.UDPConn.ReadFrom(p)
		if c.holding {
			if err := c.UDPConn.SetReadDeadline(time.Time{}); err != nil {
				return 0, nil, err
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // its time has come
			}
		}
		if err != nil {
			return n, from, err
		}
		if !c.holding && c.rng.Float64() < c.net.chance {
			c.holding, c.passed, c.due = true, 0, time.Now().Add(c.net.hold)
			c.held, c.heldFrom = append(c.held[:0], p[:n]...), from
			c.net.held.Add(1)
			continue
		}
		if c.holding {
			c.passed++
		}
		return n, from, nil
	}
}

// release delivers the held packet into p.
func (c *reorderConn) release(p []byte) (int, net.Addr, error) {
	c.holding = false
	if c.passed > 0 {
		c.net.overtaken.Add(1)
	}
	n := copy(p, c.held)
	if n < len(c.held) {
		return n, c.heldFrom, io.ErrShortBuffer
	}
	return n, c.heldFrom, nil
}

// Read reads a packet as ReadFrom does.
func (c *reorderConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFrom(p)
	return n, err
}

// ReadFromUDP reads a packet as ReadFrom does.
func (c *reorderConn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	n, from, err := c.ReadFrom(p)
	a, _ := from.(*net.UDPAddr)
	return n, a, err
}

// newTestVNet starts a router on 10.0.1.0/24 with a vnet.Net for each IP,
// stopped at the test's end.
func newTestVNet(t *testing.T, filter vnet.ChunkFilter, ips ...string) []*vnet.Net {
	t.Helper()
	r, err := newRouter(&vnet.RouterConfig{CIDR: "10.0.1.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	if filter != nil {
		r.AddChunkFilter(filter)
	}
	var nets []*vnet.Net
	for _, ip := range ips {
		n, err := newNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	return nets
}

// listen opens a UDP socket on n at port 5000, closed at the test's end.
func listen(t *testing.T, n interface {
	ListenUDP(string, *net.UDPAddr) (transport.UDPConn, error)
}, ip string) transport.UDPConn {
	t.Helper()
	c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: 5000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readSeq reads one packet numbered by sendSeq, failing the test after
// waitTime.
func readSeq(t *testing.T, c transport.UDPConn) int {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(waitTime)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, _, err := c.ReadFrom(buf)
	if err != nil || n != 2 {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return int(binary.BigEndian.Uint16(buf))
}

// sendSeq sends packets numbered from 0 to n-1 from c to the address to.
func sendSeq(t *testing.T, c transport.UDPConn, to net.Addr, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.WriteTo(binary.BigEndian.AppendUint16(nil, uint16(i)), to); err != nil {
			t.Fatal(err)
		}
	}
}

// burstLoss drops whole runs of its length, only to its address, and
// nothing else.
func TestBurstLossDropsRuns(t *testing.T) {
	const sent, length = 1000, 10
	bursts := newBurstLoss(net.ParseIP("10.0.1.2"), length, 0.02, 1)
	nets := newTestVNet(t, bursts.filter, "10.0.1.1", "10.0.1.2", "10.0.1.3")
	a, b, other := listen(t, nets[0], "10.0.1.1"), listen(t, nets[1], "10.0.1.2"), listen(t, nets[2], "10.0.1.3")
	sendSeq(t, a, b.LocalAddr(), sent)
	sendSeq(t, a, other.LocalAddr(), sent)
	// The router passes packets on in order: once the last one to other
	// has come, every one to b has been filtered, and those let through
	// wait in b's socket.
	for i := range sent {
		if got := readSeq(t, other); got != i {
			t.Fatalf("packet %d to the other address came as %d: packets not to the filter's address were dropped", i, got)
		}
	}
	runs, dropped := int(bursts.runs.Load()), int(bursts.dropped.Load())
	if runs == 0 || dropped <= (runs-1)*length || dropped > runs*length {
		t.Fatalf("%d runs dropped %d packets, want at least one run of %d each (the last may be cut short)", runs, dropped, length)
	}
	next := 0
	for range sent - dropped {
		got := readSeq(t, b)
		if got < next || (got-next)%length != 0 {
			t.Fatalf("packet %d came after %d: the gap is not whole runs of %d", got, next-1, length)
		}
		next = got + 1
	}
	t.Logf("%d runs, %d packets dropped of %d", runs, dropped, sent)
}

// A reorderNet socket delivers each held packet after the next ones, or
// after its hold when none come, and loses nothing.
func TestReorderNetDelaysPackets(t *testing.T) {
	const hold = 100 * time.Millisecond
	nets := newTestVNet(t, nil, "10.0.1.1", "10.0.1.2")
	// Every packet that can be held is.
	rn := &reorderNet{Net: nets[1], chance: 1, after: 3, hold: hold, seed: 1}
	a, b := listen(t, nets[0], "10.0.1.1"), listen(t, rn, "10.0.1.2")
	sendSeq(t, a, b.LocalAddr(), 10)
	start := time.Now()
	var got []int
	for range 10 {
		got = append(got, readSeq(t, b))
	}
	// 0 is held while 1, 2 and 3 pass, 4 while 5, 6 and 7 do, and 8 until
	// its hold runs out, as only 9 comes after it.
	if want := []int{1, 2, 3, 0, 5, 6, 7, 4, 9, 8}; !slices.Equal(got, want) {
		t.Errorf("packets came in order %v, want %v", got, want)
	}
	if elapsed := time.Since(start); elapsed < hold {
		t.Errorf("the last packet came after %v, before its hold of %v ran out", elapsed, hold)
	}
	if held, overtaken := rn.held.Load(), rn.overtaken.Load(); held != 3 || overtaken != 3 {
		t.Errorf("%d packets held, %d overtaken; want 3 and 3", held, overtaken)
	}
}
