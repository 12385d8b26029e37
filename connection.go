package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// DefaultChannelLabel is the label of the data channel every RTCBot
// connection carries its messages on.
const DefaultChannelLabel = "default"

// ConnectionSettings configures a Connection. The zero value is ready to use
// on a local network.
type ConnectionSettings struct {
	// ICEServers are the STUN and TURN servers used to find a route through
	// NATs. RTCBot defaults to Google's public STUN server; rtcbot defaults to
	// none, which is enough on one network. Unreachable servers delay a
	// description by at most STUNTimeout.
	ICEServers []webrtc.ICEServer
	// STUNTimeout bounds the wait for STUN answers while gathering
	// candidates; default 2 s.
	STUNTimeout time.Duration
	// RelayOnly uses TURN relay candidates only (ICE's "relay" transport
	// policy): every packet goes through a TURN server of ICEServers, none
	// straight to the peer, which then never learns the robot's addresses.
	// Without a TURN server no connection forms. TURN itself needs no
	// setting: a TURN server in ICEServers is used when no direct route
	// works, as for a robot behind a carrier's NAT.
	RelayOnly bool
	// UDPPortMin and UDPPortMax, if set, are the range of local UDP ports
	// ICE uses, both included, for a robot behind a firewall that lets only
	// those through. Each connection takes ports of its own from the range
	// (one per local address), so the range bounds the connections open at
	// once. Zero for both: any port.
	UDPPortMin, UDPPortMax uint16
	// DefaultChannelUnordered makes the default data channel unordered (still
	// reliable), RTCBot's defaultChannelOrdered=False.
	DefaultChannelUnordered bool
	// MessageQueueCapacity bounds each subscription to received messages and
	// the queue of outgoing ones (default DefaultMessageQueueCapacity, 64); a
	// full queue drops its oldest message and counts it.
	MessageQueueCapacity int
	// MaxDataChannels bounds the data channels the peer may open over the
	// connection's life, the default one included (default 64). Channels
	// beyond it, a second "default" channel, a label already in use and
	// labels over 1024 bytes are refused: closed at once, logged once, the
	// rest of the connection untouched.
	MaxDataChannels int
	// Video configures the encoding of outgoing video.
	Video VideoSettings
	// PeerLossTimeout is how long the peer may be silent before the
	// connection closes as lost (ICE failed); default 6 s. RTCBot takes about
	// 27 s.
	PeerLossTimeout time.Duration
	// LoopbackOnly keeps the connection on 127.0.0.1: it offers no other
	// address and uses no multicast DNS. For a robot and desktop on one
	// machine, demos and tests. It combines with IPFilter: an address is
	// offered only if it is 127.0.0.1 and IPFilter accepts it.
	LoopbackOnly bool
	// IPFilter, if set, limits the local addresses offered as candidates to
	// those it returns true for. With LoopbackOnly, a candidate must pass
	// both: IPFilter is asked only about the IPv4 loopback addresses.
	IPFilter func(net.IP) bool
	// IncludeLoopback offers loopback addresses as candidates too, so two
	// peers on one machine can use 127.0.0.1.
	IncludeLoopback bool
	// DisableMDNS turns off multicast DNS, which browsers use to hide host
	// addresses behind .local names; leave it on to talk to browsers.
	DisableMDNS bool
	// StatsInterval, if set, logs the connection's LinkStats this often.
	StatsInterval time.Duration
	// Net, if set, is the network the connection uses instead of the
	// machine's: for tests on pion's virtual network (transport/v5/vnet),
	// with loss, delay and bandwidth limits.
	Net transport.Net
	// Logger receives the connection's diagnostics; default slog.Default().
	Logger *slog.Logger
}

// SessionDescription is an offer or answer in the JSON shape RTCBot
// exchanges: exactly the keys "sdp" and "type".
type SessionDescription struct {
	SDP  string `json:"sdp"`
	Type string `json:"type"`
}

// Connection is a WebRTC connection to one peer, the Go mirror of RTCBot's
// RTCConnection, speaking its wire protocol: a Go robot works with a Python
// RTCBot desktop or browser client, and a Go desktop with a Python robot.
//
// Signaling is one round trip without trickle ICE. The offering side calls
// GetLocalDescription(ctx, nil) and sends the offer to the peer, which
// answers with GetLocalDescription(ctx, &offer); the offerer then applies the
// answer with SetRemoteDescription. Handler and Connect carry this over HTTP
// as RTCBot's tutorials do. A Connection is used once: every track, receive
// slot and data channel exists before the description is made.
//
// Messages travel on the "default" data channel, which the offerer creates:
// conn.Put(msg) sends on it and conn.Subscribe() yields its messages (the
// channel itself is DataChannelByName(DefaultChannelLabel)). Video() and
// Audio() carry media.
//
// The connection is ready when the default channel opens, and closes when
// Close is called, the peer closes, or the peer is lost (PeerLossTimeout).
// Closing frees every goroutine and subscription it made.
type Connection struct {
	channel *DataChannel // the default channel

	settings ConnectionSettings
	codecs   videoCodecSet // the video codecs registered when it was made
	log      *slog.Logger
	events   *Events
	pc       *webrtc.PeerConnection
	video    *MediaStream[image.Image]
	audio    *MediaStream[AudioChunk]

	mu            sync.Mutex
	channels      map[string]*DataChannel
	peerChannels  int // channels the peer opened, refused ones excluded
	refused       warnOnce
	onDataChannel []func(*DataChannel)
	described     bool
	plisSent      atomic.Uint64 // keyframe requests sent
	estimate      linkEstimate  // what the link to the peer carries
	counter       *linkCounter
	limiter       *resendLimiter
	rttMu         sync.Mutex
	spanRTT       time.Duration // the least round trip seen since rttSpanAt
	lastSpanRTT   time.Duration // the least in the span before
	rttSpanAt     time.Time
	targetAt      time.Time    // when refreshVideoTarget last ran
	rtt           atomic.Int64 // the last round trip measured, for resendLimiter
	closing       bool
	wg            sync.WaitGroup // goroutines reading tracks and RTCP

	// mediaSession marks a connection signalled over WHIP or WHEP (see
	// whip.go): it is ready when media can flow, not when the default
	// channel opens (a media server or WHEP player may open none), and
	// an offer's tracks are sendonly, as WHIP asks.
	mediaSession atomic.Bool
	// endSession, if set, tells a WHIP or WHEP server that the session
	// ends; Close calls it before closing the peer connection, so that the
	// server hears it from the request rather than from the peer going.
	endSession func()

	pcClosed     chan struct{} // closed when pion reports the peer connection closed
	pcClosedOnce sync.Once
}

// withDefaults fills in the settings left at zero.
func (s ConnectionSettings) withDefaults() ConnectionSettings {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.STUNTimeout <= 0 {
		s.STUNTimeout = 2 * time.Second
	}
	if s.PeerLossTimeout <= 0 {
		s.PeerLossTimeout = 6 * time.Second
	}
	if s.MaxDataChannels <= 0 {
		s.MaxDataChannels = 64
	}
	return s
}

// NewConnection creates a connection with the given settings.
func NewConnection(settings ConnectionSettings) (*Connection, error) {
	settings = settings.withDefaults()
	var made atomic.Pointer[Connection] // for the estimator, which starts with the peer connection
	counter := &linkCounter{}
	limiter := &resendLimiter{
		estimate: func() int {
			if c := made.Load(); c != nil {
				return c.estimate.target()
			}
			return 0
		},
		rtt: func() time.Duration {
			if c := made.Load(); c != nil {
				return time.Duration(c.rtt.Load())
			}
			return 0
		},
	}
	codecs := registeredVideoCodecs()
	api, err := newAPI(settings, codecs, counter, limiter, func(bps int) {
		if c := made.Load(); c != nil {
			c.setEstimate(&c.estimate.gcc, bps)
		}
	})
	if err != nil {
		return nil, err
	}
	config := webrtc.Configuration{ICEServers: settings.ICEServers}
	if settings.RelayOnly {
		config.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(config)
	if err != nil {
		return nil, fmt.Errorf("rtcbot: create peer connection: %w", err)
	}
	c := &Connection{
		channel:  newDataChannel(DefaultChannelLabel, settings.MessageQueueCapacity, false, settings.Logger),
		settings: settings,
		codecs:   codecs,
		log:      settings.Logger,
		events:   NewEvents(),
		pc:       pc,
		channels: make(map[string]*DataChannel),
		pcClosed: make(chan struct{}),
		counter:  counter,
		limiter:  limiter,
	}
	c.video = newVideoStream(c)
	c.audio = newAudioStream(c)
	made.Store(c)
	if settings.StatsInterval > 0 {
		c.goTracked(func() { c.logStats(settings.StatsInterval) })
	}
	c.channel.OnReady(c.events.SetReady)
	c.channel.OnError(c.events.SetError)
	pc.OnDataChannel(c.adoptDataChannel)
	pc.OnTrack(c.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.log.Debug("rtcbot: connection state", "state", s)
		switch s {
		case webrtc.PeerConnectionStateConnected:
			c.video.peerConnected()
			c.audio.peerConnected()
			if c.mediaSession.Load() {
				c.events.SetReady()
			}
		case webrtc.PeerConnectionStateFailed:
			c.events.SetError(ErrPeerLost)
			go c.Close()
		case webrtc.PeerConnectionStateClosed:
			c.pcClosedOnce.Do(func() { close(c.pcClosed) })
			go c.Close()
		}
	})
	return c, nil
}

// newAPI builds the pion API: RTCBot's codecs (VP8, H.264 baseline if the
// connection can decode it or sends it, Opus), the default interceptors
// (NACK, RTCP reports), and the ICE settings.
func newAPI(s ConnectionSettings, codecs videoCodecSet, counter *linkCounter, limiter *resendLimiter, onEstimate func(bps int)) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	name, _, _ := videoCodec(s.Video)
	// H.264 is offered to send (an encoder's, or encoded frames) or to
	// receive (a decoder's).
	h264 := codecs.canDecode(codecH264) || name == codecH264
	if err := registerCodecs(m, h264); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	ir.Add(counter) // first: see counter's doc
	ir.Add(limiter) // below the NACK responder: see limiter's doc
	// NACKs for a hole every nackInterval, at most maxNacks times: the
	// receiver holds later packets for a retransmission only briefly, so
	// ask soon and often (pion's default is every 100 ms).
	nacks := webrtc.WithNackGeneratorOptions(nack.GeneratorInterval(nackInterval), nack.GeneratorMaxNacksPerPacket(maxNacks))
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(m, ir, nacks); err != nil {
		return nil, fmt.Errorf("rtcbot: register interceptors: %w", err)
	}
	if err := registerCongestionControl(m, ir, s.Video, onEstimate); err != nil {
		return nil, err
	}
	ir.Add(&counter.remb)
	if err := registerPlayoutDelay(m, ir, s.Video); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetSTUNGatherTimeout(s.STUNTimeout)
	disconnected := min(s.PeerLossTimeout/3, 2*time.Second)
	se.SetICETimeouts(disconnected, s.PeerLossTimeout-disconnected, min(disconnected/4, 500*time.Millisecond))
	if s.LoopbackOnly {
		s.IncludeLoopback, s.DisableMDNS = true, true
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if f := candidateFilter(s); f != nil {
		se.SetIPFilter(f)
	}
	se.SetIncludeLoopbackCandidate(s.IncludeLoopback)
	if s.DisableMDNS {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if s.Net != nil {
		se.SetNet(s.Net)
	}
	if s.UDPPortMin != 0 || s.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(s.UDPPortMin, s.UDPPortMax); err != nil || s.UDPPortMin == 0 {
			return nil, fmt.Errorf("%w: UDP ports %d to %d: want 1 <= UDPPortMin <= UDPPortMax", ErrInvalidSettings, s.UDPPortMin, s.UDPPortMax)
		}
	}
	if s.RelayOnly {
		// pion holds relay pairs back for 2 s in case a direct one works:
		// there is none to wait for.
		se.SetRelayAcceptanceMinWait(0)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// candidateFilter is the filter of the local addresses s offers as
// candidates, nil for all of them: LoopbackOnly's (IPv4 loopback) and
// IPFilter combined, so an address must pass both.
func candidateFilter(s ConnectionSettings) func(net.IP) bool {
	user := s.IPFilter
	if !s.LoopbackOnly {
		return user
	}
	return func(ip net.IP) bool {
		return ip.IsLoopback() && ip.To4() != nil && (user == nil || user(ip))
	}
}

// Put sends msg on the default data channel without blocking (RTCBot's
// conn.put_nowait): JSON-encoded as one text message, or binary if it is a
// []byte. See DataChannel.Put.
func (c *Connection) Put(msg any) { c.channel.Put(msg) }

// Send is Put, under the name RTCBot also uses.
func (c *Connection) Send(msg any) { c.channel.Put(msg) }

// PutSubscription sends every item src yields on the default data channel,
// replacing the previous input (RTCBot's conn.putSubscription).
func (c *Connection) PutSubscription(src Getter[any]) { c.channel.PutSubscription(src) }

// StopSubscription stops sending from the active PutSubscription.
func (c *Connection) StopSubscription() { c.channel.StopSubscription() }

// Subscribe returns a new queue of the messages received on the default
// data channel.
func (c *Connection) Subscribe() Subscription[any] { return c.channel.Subscribe() }

// SubscribeWith registers s to receive every message of the default data
// channel and returns it.
func (c *Connection) SubscribeWith(s Subscription[any]) Subscription[any] {
	return c.channel.SubscribeWith(s)
}

// SubscribeFunc calls f with every message received on the default data
// channel, in order, on a goroutine of its own (RTCBot's @conn.subscribe).
func (c *Connection) SubscribeFunc(f func(msg any)) *Callback[any] {
	return c.channel.SubscribeFunc(f)
}

// Unsubscribe removes and closes s; it reports whether s was subscribed.
func (c *Connection) Unsubscribe(s Subscription[any]) bool { return c.channel.Unsubscribe(s) }

// UnsubscribeAll removes and closes every subscription to received
// messages.
func (c *Connection) UnsubscribeAll() { c.channel.UnsubscribeAll() }

// Get returns the next message received on the default data channel,
// through a default subscription.
func (c *Connection) Get(ctx context.Context) (any, error) { return c.channel.Get(ctx) }

// Flush waits until every message put on the default data channel so far
// has been sent and acknowledged, or ctx ends, or the connection closes
// (see DataChannel.Flush).
func (c *Connection) Flush(ctx context.Context) error { return c.channel.Flush(ctx) }

// Video returns the connection's video: put a source of frames into it to
// send (conn.Video().PutSubscription(camera)), subscribe to it to receive
// the peer's first video track.
func (c *Connection) Video() *MediaStream[image.Image] { return c.video }

// Audio returns the connection's audio: put a source of audio chunks into
// it to send, subscribe to it to receive the peer's first audio track.
func (c *Connection) Audio() *MediaStream[AudioChunk] { return c.audio }

// GetLocalDescription makes this side's session description, waiting until
// every ICE candidate is gathered (no trickle ICE). With offer nil it makes an
// offer, creating the default data channel; with the peer's offer it applies
// it and returns the answer.
func (c *Connection) GetLocalDescription(ctx context.Context, offer *SessionDescription) (SessionDescription, error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return SessionDescription{}, ErrClosed
	}
	if c.described {
		c.mu.Unlock()
		return SessionDescription{}, ErrConnectionUsed
	}
	c.described = true
	c.mu.Unlock()

	if err := c.video.prepare(offer == nil); err != nil {
		return SessionDescription{}, err
	}
	if err := c.audio.prepare(offer == nil); err != nil {
		return SessionDescription{}, err
	}
	var desc webrtc.SessionDescription
	var err error
	if offer == nil {
		ordered := !c.settings.DefaultChannelUnordered
		dc, err := c.pc.CreateDataChannel(DefaultChannelLabel, &webrtc.DataChannelInit{Ordered: &ordered})
		if err != nil {
			return SessionDescription{}, fmt.Errorf("rtcbot: create default data channel: %w", err)
		}
		c.channel.bind(dc)
		if desc, err = c.pc.CreateOffer(nil); err != nil {
			return SessionDescription{}, fmt.Errorf("rtcbot: create offer: %w", err)
		}
	} else {
		if offer.Type != "offer" {
			return SessionDescription{}, fmt.Errorf("%w: expected an offer, got type %q", ErrInvalidDescription, offer.Type)
		}
		if err := c.setRemote(*offer); err != nil {
			return SessionDescription{}, err
		}
		if desc, err = c.pc.CreateAnswer(nil); err != nil {
			return SessionDescription{}, c.explainCodecError(fmt.Errorf("rtcbot: create answer: %w", err), offer.SDP)
		}
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err = c.pc.SetLocalDescription(desc); err != nil {
		err = fmt.Errorf("rtcbot: set local description: %w", err)
		if offer != nil {
			err = c.explainCodecError(err, offer.SDP)
		}
		return SessionDescription{}, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return SessionDescription{}, fmt.Errorf("rtcbot: gathering ICE candidates: %w", ctx.Err())
	case <-c.events.Done():
		return SessionDescription{}, ErrClosed
	}
	local := c.pc.LocalDescription()
	return SessionDescription{SDP: local.SDP, Type: local.Type.String()}, nil
}

// SetRemoteDescription applies the peer's answer to this side's offer (or,
// unusually, the peer's offer; GetLocalDescription does that for you). It
// does not wait for the network, so it takes no context: the connection
// then reaches the peer in the background, and is ready when its default
// channel opens (Ready, OnReady). A description the connection cannot use
// is an error wrapping ErrInvalidDescription, or a codec error; on a closed
// connection it is ErrClosed.
func (c *Connection) SetRemoteDescription(desc SessionDescription) error {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return ErrClosed
	}
	return c.setRemote(desc)
}

// Limits on a peer's session description, which bound what one peer can
// make this side allocate: a description over them is refused with
// ErrInvalidDescription. RTCBot's peers and browsers stay far below them.
const (
	// MaxMediaSections is the most m= sections (tracks and the data
	// channel) a peer's description may have.
	MaxMediaSections = 16
	// MaxCandidates is the most ICE candidates a peer's description may
	// carry.
	MaxCandidates = 256
)

func (c *Connection) setRemote(desc SessionDescription) error {
	var t webrtc.SDPType
	switch desc.Type {
	case "offer":
		t = webrtc.SDPTypeOffer
	case "answer":
		t = webrtc.SDPTypeAnswer
	default:
		return fmt.Errorf("%w: type %q is neither offer nor answer", ErrInvalidDescription, desc.Type)
	}
	if err := checkDescriptionLimits(desc.SDP); err != nil {
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: t, SDP: desc.SDP}); err != nil {
		if !errors.Is(err, webrtc.ErrUnsupportedCodec) && !errors.Is(err, webrtc.ErrSenderWithNoCodecs) {
			return fmt.Errorf("%w: %w", ErrInvalidDescription, err)
		}
		return c.explainCodecError(fmt.Errorf("rtcbot: set remote description: %w", err), desc.SDP)
	}
	return nil
}

// checkDescriptionLimits refuses an SDP with no media section, or over
// MaxMediaSections or MaxCandidates, before pion allocates for it.
func checkDescriptionLimits(sdp string) error {
	var sections, candidates int
	for line := range strings.Lines(sdp) {
		switch {
		case strings.HasPrefix(line, "m="):
			sections++
		case strings.HasPrefix(line, "a=candidate:"):
			candidates++
		}
	}
	switch {
	case sections == 0:
		return fmt.Errorf("%w: no media section (m= line): an RTCBot peer offers at least its data channel", ErrInvalidDescription)
	case sections > MaxMediaSections:
		return fmt.Errorf("%w: %d media sections, over MaxMediaSections (%d)", ErrInvalidDescription, sections, MaxMediaSections)
	case candidates > MaxCandidates:
		return fmt.Errorf("%w: %d ICE candidates, over MaxCandidates (%d)", ErrInvalidDescription, candidates, MaxCandidates)
	}
	return nil
}

// AddDataChannel opens another data channel named name (RTCBot's
// addDataChannel), reliable, ordered or not. Add it before making the offer,
// or once the connection is ready.
func (c *Connection) AddDataChannel(name string, ordered bool) (*DataChannel, error) {
	return c.addDataChannel(name, &webrtc.DataChannelInit{Ordered: &ordered}, false)
}

// AddLatestChannel opens a latest-only data channel named name, for
// commands where only the newest matters, such as a drive speed sent many
// times a second: the channel is unordered with no retransmissions (a lost
// message is not resent, the next one replaces it), and both its outgoing
// buffer and every subscription to it hold only the newest message. The peer
// sees an unordered channel with maxRetransmits 0, which a Go peer makes
// latest-only too.
func (c *Connection) AddLatestChannel(name string) (*DataChannel, error) {
	ordered, retransmits := false, uint16(0)
	return c.addDataChannel(name, &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retransmits}, true)
}

func (c *Connection) addDataChannel(name string, init *webrtc.DataChannelInit, latest bool) (*DataChannel, error) {
	if name == DefaultChannelLabel {
		return nil, fmt.Errorf("%w: %q is the connection's own", ErrChannelExists, name)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if _, ok := c.channels[name]; ok {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrChannelExists, name)
	}
	d := newDataChannel(name, c.settings.MessageQueueCapacity, latest, c.log)
	c.channels[name] = d
	c.mu.Unlock()
	dc, err := c.pc.CreateDataChannel(name, init)
	if err != nil {
		c.mu.Lock()
		delete(c.channels, name)
		c.mu.Unlock()
		d.Close()
		return nil, fmt.Errorf("rtcbot: create data channel %q: %w", name, err)
	}
	d.bind(dc)
	d.OnClose(func() { c.forgetChannel(d) })
	return d, nil
}

// DataChannelByName returns the data channel named name, opened by either
// side, or nil (RTCBot's getDataChannel). A StatsChannelLabel channel the
// peer opened is not returned: it is the connection's own.
func (c *Connection) DataChannelByName(name string) *DataChannel {
	if name == DefaultChannelLabel {
		return c.channel
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[name]
}

// OnDataChannel runs f for every data channel the peer opens, other than the
// default one and StatsChannelLabel ones, which the connection keeps for
// itself (RTCBot's onDataChannel).
func (c *Connection) OnDataChannel(f func(*DataChannel)) {
	c.mu.Lock()
	c.onDataChannel = append(c.onDataChannel, f)
	c.mu.Unlock()
}

// maxLabelLength bounds the label of a channel the peer opens.
const maxLabelLength = 1024

// adoptDataChannel takes a channel the peer opened, or refuses it (closing
// it, and saying so in the log once) if it would replace a channel in use or
// exceed MaxDataChannels. A StatsChannelLabel channel is kept apart and
// sent the connection's stats (sendStats).
func (c *Connection) adoptDataChannel(dc *webrtc.DataChannel) {
	label := dc.Label()
	stats := label == StatsChannelLabel // the connection's own: not registered, not given to onDataChannel
	c.mu.Lock()
	reason := ""
	switch {
	case c.closing:
		reason = "the connection is closing"
	case len(label) > maxLabelLength:
		reason = fmt.Sprintf("label of %d bytes, over %d", len(label), maxLabelLength)
	case c.peerChannels >= c.settings.MaxDataChannels:
		reason = fmt.Sprintf("more than MaxDataChannels (%d) channels", c.settings.MaxDataChannels)
	case label != DefaultChannelLabel && !stats && c.channels[label] != nil:
		reason = "a channel with this label is open already"
	}
	var d *DataChannel
	if reason == "" {
		if label == DefaultChannelLabel {
			d = c.channel
			if !d.bind(dc) {
				d, reason = nil, "a channel with this label is open already"
			}
		} else {
			d = newDataChannel(label, c.settings.MessageQueueCapacity, isLatestOnly(dc), c.log)
			d.bind(dc)
			if !stats {
				c.channels[label] = d
			}
		}
	}
	if reason != "" {
		c.mu.Unlock()
		c.refused.log(c.log, "rtcbot: refused a data channel the peer opened", "label", truncate(label, 64), "reason", reason)
		dc.Close()
		return
	}
	c.peerChannels++
	fs := c.onDataChannel
	c.mu.Unlock()
	if d == c.channel {
		return
	}
	if stats {
		if !c.goTracked(func() { c.sendStats(d) }) {
			d.Close()
		}
		return
	}
	d.OnClose(func() { c.forgetChannel(d) }) // outside c.mu: it may run at once
	for _, f := range fs {
		f(d)
	}
}

// forgetChannel removes a closed channel, so its label can be used again.
func (c *Connection) forgetChannel(d *DataChannel) {
	c.mu.Lock()
	if c.channels[d.label] == d {
		delete(c.channels, d.label)
	}
	c.mu.Unlock()
}

// truncate shortens s to at most n bytes for the log.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// onTrack routes an incoming track to the video or audio stream. It runs on
// a goroutine of pion's; the stream counts it as one Close waits for only
// once the OnTrack callbacks have returned (see MediaStream.receive).
func (c *Connection) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return
	}
	switch track.Kind() {
	case webrtc.RTPCodecTypeVideo:
		c.video.receive(track, receiver)
	case webrtc.RTPCodecTypeAudio:
		c.audio.receive(track, receiver)
	}
}

// isDescribed reports whether the session description was made.
func (c *Connection) isDescribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.described
}

// requestKeyframe asks the peer for a keyframe on the track with the given
// SSRC (its receiver spaces the requests: keyframeAsker).
func (c *Connection) requestKeyframe(ssrc uint32) {
	if err := c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		c.log.Debug("rtcbot: keyframe request not sent", "err", err)
		return
	}
	c.plisSent.Add(1)
}

// goTracked runs f on a goroutine that Close waits for; it reports false
// (and does not run f) once the connection is closing.
func (c *Connection) goTracked(f func()) bool {
	if !c.enter() {
		return false
	}
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// enter counts the calling goroutine as one Close waits for, until it calls
// c.wg.Done; it reports false, counting nothing, once the connection is
// closing.
func (c *Connection) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	return true
}

// Ready returns a channel closed when the connection is ready: its default
// data channel is open.
func (c *Connection) Ready() <-chan struct{} { return c.events.Ready() }

// IsReady reports whether the connection is ready.
func (c *Connection) IsReady() bool { return c.events.IsReady() }

// OnReady runs f once the connection is ready (at once if it is).
func (c *Connection) OnReady(f func()) { c.events.OnReady(f) }

// Done returns a channel closed once the connection has closed.
func (c *Connection) Done() <-chan struct{} { return c.events.Done() }

// OnClose runs f once the connection has closed (at once if it has).
func (c *Connection) OnClose(f func()) { c.events.OnClose(f) }

// OnError runs f with the connection's error (the peer lost, ICE failed) when
// there is one.
func (c *Connection) OnError(f func(error)) { c.events.OnError(f) }

// Err returns the connection's error, nil if it had none.
func (c *Connection) Err() error { return c.events.Err() }

// Wait blocks until the connection closes or ctx ends, returning the
// connection's error or ctx's.
func (c *Connection) Wait(ctx context.Context) error { return c.events.Wait(ctx) }

// Close closes the connection: its media tracks, data channels and the peer
// connection, every subscription it produced (readers get ErrClosed), and
// every goroutine it started. It is idempotent.
func (c *Connection) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.events.Done()
		return nil
	}
	c.closing = true
	channels := c.channels
	c.channels = map[string]*DataChannel{}
	endSession := c.endSession
	c.mu.Unlock()

	if endSession != nil {
		endSession()
	}

	c.channel.Close()
	for _, d := range channels {
		d.Close()
	}
	err := c.pc.Close() // ends track reads and RTCP reads
	// If the peer closed first, pion is closing already and Close returned
	// at once: wait until it has let go of its socket and goroutines. pion
	// reports the closed state once, on a goroutine of its own.
	<-c.pcClosed
	c.video.close()
	c.audio.close()
	c.wg.Wait()
	c.events.SetClosed()
	if err != nil {
		return fmt.Errorf("rtcbot: close peer connection: %w", err)
	}
	return nil
}
