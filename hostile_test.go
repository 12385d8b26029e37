package rtcbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// newRawPeer returns a bare pion peer connection kept on 127.0.0.1, for
// tests that must send what an rtcbot Connection never would. The test
// closes it at its end.
func newRawPeer(t *testing.T, m *webrtc.MediaEngine) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if m == nil {
		m = &webrtc.MediaEngine{}
		if err := m.RegisterDefaultCodecs(); err != nil {
			t.Fatal(err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// rawOffer makes pc's offer with every candidate gathered.
func rawOffer(t *testing.T, pc *webrtc.PeerConnection) SessionDescription {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return SessionDescription{SDP: pc.LocalDescription().SDP, Type: "offer"}
}

// postOffer posts body to url and returns the status and the response body.
func postOffer(t *testing.T, url string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(mediaCtx(t), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(reply)
}

// connectRaw posts pc's offer to url and applies the answer; it fails the
// test unless the handler answered.
func connectRaw(t *testing.T, pc *webrtc.PeerConnection, url string) {
	t.Helper()
	body, _ := json.Marshal(rawOffer(t, pc))
	status, reply := postOffer(t, url, body, nil)
	if status != http.StatusOK {
		t.Fatalf("offer refused: %d %s", status, reply)
	}
	var answer SessionDescription
	if err := json.Unmarshal([]byte(reply), &answer); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
}

// robotServer serves a Handler that makes a fresh loopback connection per
// offer, echoing every message on its default channel back to the peer. The
// connections it made arrive on the returned channel.
func robotServer(t *testing.T, settings HandlerSettings, setup func(*Connection)) (*httptest.Server, <-chan *Connection) {
	t.Helper()
	made := make(chan *Connection, 100)
	var mu sync.Mutex
	var conns []*Connection
	srv := httptest.NewServer(NewHandler(settings, func(*http.Request) (*Connection, error) {
		c, err := NewConnection(loopbackSettings())
		if err != nil {
			return nil, err
		}
		c.SubscribeFunc(func(msg any) { c.Put(msg) })
		if setup != nil {
			setup(c)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		made <- c
		return c, nil
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return srv, made
}

// openChannel makes a data channel on pc whose received messages and open
// and close events the test can wait for.
type openChannel struct {
	dc       *webrtc.DataChannel
	opened   chan struct{}
	closed   chan struct{}
	messages chan string
}

func newOpenChannel(t *testing.T, pc *webrtc.PeerConnection, label string) *openChannel {
	t.Helper()
	dc, err := pc.CreateDataChannel(label, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &openChannel{dc: dc, opened: make(chan struct{}), closed: make(chan struct{}), messages: make(chan string, 16)}
	var openOnce, closeOnce sync.Once
	dc.OnOpen(func() { openOnce.Do(func() { close(c.opened) }) })
	dc.OnClose(func() { closeOnce.Do(func() { close(c.closed) }) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case c.messages <- string(m.Data):
		default:
		}
	})
	return c
}

// echoes checks that a message sent on c comes back: the robot still works.
func (c *openChannel) echoes(t *testing.T, text string) {
	t.Helper()
	closedWithin(t, c.opened, "channel "+truncate(c.dc.Label(), 16)+" open")
	if err := c.dc.SendText(text); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := recv(t, c.messages); got != text {
		t.Fatalf("echo %q, want %q", got, text)
	}
}

// isOpen reports whether c is open now.
func (c *openChannel) isOpen() bool {
	select {
	case <-c.closed:
		return false
	default:
		return c.dc.ReadyState() == webrtc.DataChannelStateOpen
	}
}

// A peer that opens two channels labelled "default" used to crash the robot
// (close of a closed channel). The second is refused; the first keeps
// working.
func TestDuplicateDefaultChannelRefused(t *testing.T) {
	srv, made := robotServer(t, HandlerSettings{}, nil)
	pc := newRawPeer(t, nil)
	first, second := newOpenChannel(t, pc, DefaultChannelLabel), newOpenChannel(t, pc, DefaultChannelLabel)
	connectRaw(t, pc, srv.URL)
	robot := recv(t, made)
	closedWithin(t, robot.Ready(), "robot ready")

	// One of the two is refused, whichever the robot saw second.
	var kept, refused *openChannel
	select {
	case <-first.closed:
		kept, refused = second, first
	case <-second.closed:
		kept, refused = first, second
	case <-mediaCtx(t).Done():
		t.Fatal("neither duplicate channel was refused")
	}
	kept.echoes(t, `"still here"`)
	if refused.isOpen() || !kept.isOpen() {
		t.Fatal("the kept channel closed, or the refused one reopened")
	}
	notClosed(t, robot.Done(), "robot connection")
}

// The peer may open at most MaxDataChannels channels; the rest are refused
// and the connection goes on. Oversized labels and a label in use are
// refused too.
func TestPeerChannelsBeyondLimitRefused(t *testing.T) {
	var adopted atomic.Int32
	srv, made := robotServer(t, HandlerSettings{}, func(c *Connection) {
		c.OnDataChannel(func(*DataChannel) { adopted.Add(1) })
	})
	pc := newRawPeer(t, nil)
	def := newOpenChannel(t, pc, DefaultChannelLabel)
	long := newOpenChannel(t, pc, strings.Repeat("x", 4000))
	connectRaw(t, pc, srv.URL)
	robot := recv(t, made)
	def.echoes(t, `1`)
	closedWithin(t, long.closed, "channel with a 4000-byte label refused")

	dup := []*openChannel{newOpenChannel(t, pc, "twin"), newOpenChannel(t, pc, "twin")}
	select {
	case <-dup[0].closed:
	case <-dup[1].closed:
	case <-mediaCtx(t).Done():
		t.Fatal("a second channel labelled twin was not refused")
	}

	const extra = 200
	more := make([]*openChannel, extra)
	for i := range more {
		more[i] = newOpenChannel(t, pc, fmt.Sprintf("c%d", i))
	}
	for _, c := range more {
		select {
		case <-c.opened:
		case <-c.closed:
		case <-mediaCtx(t).Done():
			t.Fatal("channel neither opened nor refused")
		}
	}
	// Every refused channel is closed by the robot; wait for the refusals
	// that are on their way, then count.
	const limit = 64            // ConnectionSettings.MaxDataChannels by default
	wantOpen := limit - 2       // the default channel and one twin count too
	wantAdopted := wantOpen + 1 // OnDataChannel saw the twin too
	eventually(t, "channels beyond the limit refused", func() bool {
		open := 0
		for _, c := range more {
			if c.isOpen() {
				open++
			}
		}
		return open == wantOpen
	})
	if got := adopted.Load(); int(got) != wantAdopted {
		t.Errorf("robot adopted %d channels, want %d", got, wantAdopted)
	}
	def.echoes(t, `2`)
	notClosed(t, robot.Done(), "robot connection")
}

// A channel whose opening message is larger than pion reads (a 60000-byte
// label) is never opened; pion then accepts no further channel from that
// peer, which harms only the peer's own connection: the robot's connection
// and its default channel go on.
func TestOversizedChannelOpenHarmless(t *testing.T) {
	var adopted atomic.Int32
	srv, made := robotServer(t, HandlerSettings{}, func(c *Connection) {
		c.OnDataChannel(func(*DataChannel) { adopted.Add(1) })
	})
	pc := newRawPeer(t, nil)
	def := newOpenChannel(t, pc, DefaultChannelLabel)
	connectRaw(t, pc, srv.URL)
	robot := recv(t, made)
	def.echoes(t, `1`)
	huge := newOpenChannel(t, pc, strings.Repeat("y", 60000))
	huge.dc.SendText("hello")
	def.echoes(t, `2`)
	if n := adopted.Load(); n != 0 {
		t.Errorf("the robot adopted %d channels, want none", n)
	}
	notClosed(t, robot.Done(), "robot connection")
}

// TestHostileOffers posts offers no RTCBot peer would make to a running
// Handler: each is refused with a 4xx and a reason, or answered with a
// connection that works; afterwards the server still answers a good offer.
func TestHostileOffers(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120, FPS: 30})
	defer cam.Close()
	srv, _ := robotServer(t, HandlerSettings{}, func(c *Connection) {
		c.Video().PutSubscription(cam)
	})

	good := func(t *testing.T) string {
		pc := newRawPeer(t, nil)
		newOpenChannel(t, pc, DefaultChannelLabel)
		return rawOffer(t, pc).SDP
	}
	withLines := func(sdp string, lines []string) string {
		return strings.TrimRight(sdp, "\r\n") + "\r\n" + strings.Join(lines, "\r\n") + "\r\n"
	}
	candidates := func(n int) []string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = fmt.Sprintf("a=candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 10000+i%50000)
		}
		return lines
	}
	tests := []struct {
		name   string
		sdp    func(t *testing.T) string
		status int
		reason string
	}{
		{"no media sections", func(t *testing.T) string {
			return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		}, http.StatusBadRequest, "no media section"},
		{"only unsupported codecs", func(t *testing.T) string {
			m := &webrtc.MediaEngine{}
			if err := m.RegisterCodec(webrtc.RTPCodecParameters{
				RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/NOTACODEC", ClockRate: 90000},
				PayloadType:        120,
			}, webrtc.RTPCodecTypeVideo); err != nil {
				t.Fatal(err)
			}
			pc := newRawPeer(t, m)
			newOpenChannel(t, pc, DefaultChannelLabel)
			if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
			return rawOffer(t, pc).SDP
		}, http.StatusBadRequest, "does not accept VP8 video"},
		{"10,000 candidates", func(t *testing.T) string {
			return withLines(good(t), candidates(10000))
		}, http.StatusBadRequest, "ICE candidates, over MaxCandidates"},
		{"too many media sections", func(t *testing.T) string {
			lines := []string{}
			for range MaxMediaSections + 1 {
				lines = append(lines, "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=rtpmap:96 VP8/90000", "a=recvonly")
			}
			return withLines(good(t), lines)
		}, http.StatusBadRequest, "media sections, over MaxMediaSections"},
		{"binary junk", func(t *testing.T) string {
			junk := make([]byte, 4096)
			for i := range junk {
				junk[i] = byte(i*7919 + i>>3)
			}
			return good(t) + string(junk)
		}, http.StatusBadRequest, "invalid session description"},
		{"junk inside a media section", func(t *testing.T) string {
			return strings.Replace(good(t), "a=ice-ufrag:", "a=ice-ufrag\x00\xff\xfe:", 1)
		}, http.StatusBadRequest, "invalid session description"},
		{"huge attribute", func(t *testing.T) string {
			return withLines(good(t), []string{"a=x-junk:" + strings.Repeat("z", MaxOfferSize/2)})
		}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(SessionDescription{SDP: tt.sdp(t), Type: "offer"})
			status, reply := postOffer(t, srv.URL, body, nil)
			if status != tt.status || !strings.Contains(reply, tt.reason) {
				t.Fatalf("got %d %q, want %d with %q", status, truncate(reply, 300), tt.status, tt.reason)
			}
			if status >= 400 && !strings.HasPrefix(reply, "rtcbot: ") {
				t.Fatalf("refusal without a reason: %q", reply)
			}
		})
	}

	// The server is still up and answers a well-formed offer.
	pc := newRawPeer(t, nil)
	def := newOpenChannel(t, pc, DefaultChannelLabel)
	connectRaw(t, pc, srv.URL)
	def.echoes(t, `{"after":"hostile offers"}`)
}

// A peer that posts an offer and never connects (it takes the answer and
// goes away) does not hold its connection, or its slot, for ever.
func TestAnsweredPeerThatNeverConnects(t *testing.T) {
	srv, made := robotServer(t, HandlerSettings{MaxConnections: 1}, nil)
	pc := newRawPeer(t, nil)
	newOpenChannel(t, pc, DefaultChannelLabel)
	body, _ := json.Marshal(rawOffer(t, pc))
	pc.Close() // gone before the answer
	if status, reply := postOffer(t, srv.URL, body, nil); status != http.StatusOK {
		t.Fatalf("got %d %q", status, reply)
	}
	robot := recv(t, made)
	start := time.Now()
	select {
	case <-robot.Done():
	case <-time.After(4 * robot.settings.PeerLossTimeout):
		t.Fatalf("connection to a peer that never came still open after %v", 4*robot.settings.PeerLossTimeout)
	}
	t.Logf("closed %v after the answer (PeerLossTimeout %v): %v", time.Since(start).Round(time.Millisecond), robot.settings.PeerLossTimeout, robot.Err())
	if robot.Err() == nil {
		t.Error("closed without an error")
	}
	next := newRawPeer(t, nil)
	def := newOpenChannel(t, next, DefaultChannelLabel)
	connectRaw(t, next, srv.URL)
	def.echoes(t, `"next"`)
}
