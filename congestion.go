package rtcbot

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Congestion control for outgoing video. Each connection estimates what
// its link carries: with transport-wide congestion control (Google
// Congestion Control on TWCC feedback) when the peer supports it (browsers,
// Go peers), and from REMB messages when the peer sends them (aiortc, so
// Python RTCBot); with both, the lower one counts. The encoder of a source
// starts at VideoSettings.StartBitrate and follows the estimate, never above
// VideoSettings.MaxBitrate; below VideoSettings.MinBitrate it keeps the
// estimate's bitrate and sends a smaller picture, or fewer frames, as
// VideoSettings.Degradation says.
//
// One encoder serves every connection sending a source, so it follows the
// slowest of their links, with one exception: it does not degrade below
// MinBitrate for one slow viewer while another's link carries more. That
// viewer (a phone on a weak 4G link, say, watching with a desktop on
// Wi-Fi) gets the stream at the floor and loses what its link does not
// carry: it asks for the missing packets and, when a frame cannot be
// repaired, for a keyframe, which the encoder sends at most every
// keyframeSpacing, so the others' picture stays smooth.

// DefaultStartBitrate is VideoSettings.StartBitrate when left at zero (or
// MaxBitrate, if lower).
const DefaultStartBitrate = 1_000_000

// DefaultMinBitrate is the least of VideoSettings.MinBitrate's default,
// which is a sixth of MaxBitrate's default for the picture size: 100 kbit/s
// up to 640x480, 460 kbit/s at 1280x720, at 30 fps.
const DefaultMinBitrate = 100_000

// lowestBitrate is the least congestion control estimates and an encoder
// is given (libwebrtc's floor too): below it, video is not worth sending.
const lowestBitrate = 30_000

// registerCongestionControl adds the TWCC and abs-send-time header
// extensions and the send-side estimator to an API being built; onTarget receives the
// estimate, in bits per second, each time it changes.
func registerCongestionControl(m *webrtc.MediaEngine, ir *interceptor.Registry, s VideoSettings, onTarget func(bps int)) error {
	start, top := s.startBitrate(0, 0), s.MaxBitrate
	if top == 0 {
		top = math.MaxInt32 // the encoder's default follows the picture size
	}
	estimator, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		// No pacer: packets leave as they are encoded, for the least
		// latency; the encoder's rate control keeps frames near the target.
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(start), gcc.SendSideBWEMinBitrate(lowestBitrate),
			gcc.SendSideBWEMaxBitrate(max(top, lowestBitrate)), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return fmt.Errorf("rtcbot: congestion control: %w", err)
	}
	estimator.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		// GCC calls back on a goroutine of its own for each change, so
		// calls may overtake each other: read the latest estimate instead
		// of trusting the one passed.
		e.OnTargetBitrateChange(func(int) { onTarget(e.GetTargetBitrate()) })
	})
	ir.Add(estimator)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return fmt.Errorf("rtcbot: congestion control: %w", err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.ABSSendTimeURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return fmt.Errorf("rtcbot: congestion control: %w", err)
	}
	ir.Add(&videoExtension{uri: sdp.ABSSendTimeURI, value: absSendTimeNow})
	return nil
}

// maxBitrate returns VideoSettings.MaxBitrate, or its default for a picture
// of width by height: 0.1 bits per pixel per frame and at least 100 kbit/s
// (codec/vp8's default too).
func (s VideoSettings) maxBitrate(width, height int) int {
	if s.MaxBitrate > 0 {
		return max(s.MaxBitrate, lowestBitrate)
	}
	return max(width*height*s.fps()/10, 100_000)
}

// startBitrate returns VideoSettings.StartBitrate or its default, within
// the settings' bounds; width and height are 0 before the picture size is
// known.
func (s VideoSettings) startBitrate(width, height int) int {
	top := s.MaxBitrate
	if width > 0 || top > 0 {
		top = s.maxBitrate(width, height)
	}
	start := s.StartBitrate
	if start <= 0 {
		start = DefaultStartBitrate
	}
	if top > 0 {
		start = min(start, top)
	}
	return max(start, lowestBitrate)
}

// minBitrate returns VideoSettings.MinBitrate, or its default for a picture
// of width by height, below the maximum.
func (s VideoSettings) minBitrate(width, height int) int {
	floor := s.MinBitrate
	if floor <= 0 {
		floor = max(width*height*s.fps()/60, DefaultMinBitrate)
	}
	return max(min(floor, s.maxBitrate(width, height)), lowestBitrate)
}

// fps returns VideoSettings.FPS or its default.
func (s VideoSettings) fps() int {
	if s.FPS > 0 {
		return s.FPS
	}
	return 30
}

// linkEstimate combines a connection's two estimates of its link.
type linkEstimate struct {
	gcc, remb atomic.Int64 // bits per second, 0 until known
}

// target returns the lower known estimate, 0 if none is known.
func (e *linkEstimate) target() int {
	g, r := e.gcc.Load(), e.remb.Load()
	switch {
	case g == 0:
		return int(r)
	case r == 0:
		return int(g)
	}
	return int(min(g, r))
}

// setEstimate records one of the connection's estimates of its link and
// hands the combined one to the outgoing video. A GCC estimate counts only
// if the peer sends the TWCC feedback it is made from.
func (c *Connection) setEstimate(which *atomic.Int64, bps int) {
	if which == &c.estimate.gcc && !c.peerSendsTWCC() {
		return
	}
	which.Store(int64(bps))
	c.video.setTarget(c.videoTarget())
}

// videoTarget returns the bitrate the encoder may use on the connection's
// link, 0 while the link is not measured: the estimate less what the
// packets' headers and the retransmissions sent lately take (the latter
// held to a share of the estimate by resendLimiter), at least half the
// estimate; and three quarters of that while the round trip shows a queue
// (queueThreshold over the least round trip seen lately), half beyond
// three times that, so that the queue drains in seconds. GCC's estimate
// after a drop in bandwidth is about what the link carries, which would
// leave the queue full for as long.
func (c *Connection) videoTarget() linkTarget {
	t := c.estimate.target()
	if t == 0 {
		return linkTarget{}
	}
	now := time.Now()
	queue := c.queueDelay(now)
	target := linkTarget{bps: max(t*headerShare/100-c.counter.resent.rate(now), t/2), queueing: queue > queueThreshold}
	switch {
	case queue > 3*queueThreshold:
		target.bps /= 2
	case queue > queueThreshold:
		target.bps = target.bps * 3 / 4
	}
	return target
}

// linkTarget is what a connection's link carries for its video: the
// bitrate, and whether the link holds a queue now.
type linkTarget struct {
	bps      int // 0 while the link is not measured
	queueing bool
}

// refreshVideoTarget hands the outgoing video a new videoTarget if the last
// is targetRefresh old: the estimate may stay put while the retransmissions
// or the queue change. The RTCP readers call it as reports come.
func (c *Connection) refreshVideoTarget() {
	now := time.Now()
	c.rttMu.Lock()
	due := now.Sub(c.targetAt) >= targetRefresh
	if due {
		c.targetAt = now
	}
	c.rttMu.Unlock()
	if due {
		c.video.setTarget(c.videoTarget())
	}
}

// targetRefresh is how often refreshVideoTarget recomputes the target.
const targetRefresh = 200 * time.Millisecond

// headerShare is the percentage of a video packet's bits that are payload,
// about: RTP, SRTP and UDP headers take some 50 of 1200 bytes.
const headerShare = 95

// queueThreshold is how far the round trip may rise above its least before
// the link counts as queueing. The least round trip is taken over the last
// one or two baseRTTSpans, so that it follows a route that changes.
const (
	queueThreshold = 100 * time.Millisecond
	baseRTTSpan    = 15 * time.Second
)

// queueDelay returns how long packets queue on the link to the peer: how
// far the last round trip ICE measured is over the least seen lately.
func (c *Connection) queueDelay(now time.Time) time.Duration {
	sctp := c.pc.SCTP()
	if sctp == nil {
		return 0
	}
	rtt := roundTrip(sctp.Transport())
	if rtt <= 0 {
		return 0
	}
	c.rtt.Store(int64(rtt))
	c.rttMu.Lock()
	defer c.rttMu.Unlock()
	if c.rttSpanAt.IsZero() || now.Sub(c.rttSpanAt) > baseRTTSpan {
		c.lastSpanRTT, c.spanRTT, c.rttSpanAt = c.spanRTT, rtt, now
	}
	c.spanRTT = min(c.spanRTT, rtt)
	base := c.spanRTT
	if c.lastSpanRTT > 0 {
		base = min(base, c.lastSpanRTT)
	}
	return rtt - base
}

// peerSendsTWCC reports whether the negotiated session has transport-wide
// congestion control feedback.
func (c *Connection) peerSendsTWCC() bool {
	remote := c.pc.RemoteDescription()
	return remote != nil && strings.Contains(remote.SDP, sdp.TransportCCURI)
}

// resendShare is the most of a link's estimate that retransmissions may
// take, and resendBurst how much of it they may spend at once. pion's NACK
// responder resends whatever is asked (it holds resends to the estimate
// only when congestion control sits below it in the chain, where GCC then
// misreads the resends); on a congested link, resends beyond the estimate
// keep the queue full that caused the loss. What is resent is taken off the
// encoder's target (videoTarget).
const (
	resendShare = 0.5
	resendBurst = 250 * time.Millisecond
)

// resendLimiter is an interceptor that drops the retransmissions of
// outgoing video that repeat a packet already sent twice within the last
// round trip, and those beyond resendShare of the link's estimate (a token
// bucket). The receiver asks every nackInterval until the packet comes,
// and pion's responder, which spaces resends by an RTT it takes from RTCP
// reports, resent each lost packet some five times on a 100 ms link; one
// copy more than needed guards against losing the resend too, which the
// receiver could not wait a second round trip for. It goes
// below the NACK responder, which takes a dropped resend as sent and
// resends it again if asked later.
type resendLimiter struct {
	interceptor.NoOp
	estimate func() int           // the link's estimate, bits per second, 0 if unknown
	rtt      func() time.Duration // the link's round trip, 0 if unknown

	mu      sync.Mutex
	tokens  float64 // bytes that may be resent now
	updated time.Time
	dropped atomic.Uint64
}

// NewInterceptor makes the limiter its own factory: one per connection.
func (l *resendLimiter) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

// BindLocalStream limits a video stream's retransmissions.
func (l *resendLimiter) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	var resends resendDetector
	var mu sync.Mutex
	var last [resendLogSize]struct {
		seq    uint16
		at     time.Time // of the first resend within the round trip
		copies int
	}
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		seq := header.SequenceNumber
		if !resends.isResend(seq) {
			return w.Write(header, payload, attrs)
		}
		now := time.Now()
		rtt := l.rtt()
		if rtt <= 0 {
			rtt = 100 * time.Millisecond
		}
		mu.Lock()
		entry := &last[seq%resendLogSize]
		if entry.seq != seq || entry.at.IsZero() || now.Sub(entry.at) >= rtt+resendJitter {
			entry.seq, entry.at, entry.copies = seq, now, 0
		}
		repeat := entry.copies >= 2
		mu.Unlock()
		if repeat || !l.allow(len(payload), now) {
			l.dropped.Add(1)
			return header.MarshalSize() + len(payload), nil
		}
		mu.Lock()
		entry.copies++
		mu.Unlock()
		return w.Write(header, payload, attrs)
	})
}

// resendLogSize is how many recent resends a stream remembers, by sequence
// number: more than a round trip's worth. resendJitter is added to the
// round trip before a request counts as asking again.
const (
	resendLogSize = 1024
	resendJitter  = 10 * time.Millisecond
)

// allow takes n bytes from the bucket at now, if it holds them.
func (l *resendLimiter) allow(n int, now time.Time) bool {
	estimate := l.estimate()
	if estimate <= 0 {
		estimate = DefaultStartBitrate
	}
	rate := resendShare * float64(estimate) / 8 // bytes per second
	l.mu.Lock()
	defer l.mu.Unlock()
	depth := max(rate*resendBurst.Seconds(), 1500)
	if l.updated.IsZero() {
		l.tokens = depth
	} else {
		l.tokens = min(l.tokens+rate*now.Sub(l.updated).Seconds(), depth)
	}
	l.updated = now
	if l.tokens < float64(n) {
		return false
	}
	l.tokens -= float64(n)
	return true
}

// videoExtension is an interceptor that adds a header extension to every
// outgoing video packet, if the extension was negotiated: abs-send-time,
// from which a receiver without transport-wide feedback (aiortc, so Python
// RTCBot) estimates the link and sends REMB, and playout-delay. pion has
// the extensions' formats (rtp.AbsSendTimeExtension,
// rtp.PlayoutDelayExtension) but no interceptor that adds them.
type videoExtension struct {
	interceptor.NoOp
	uri   string
	value func() []byte // the extension's payload for a packet sent now
}

// NewInterceptor makes videoExtension its own factory: it has no state.
func (v *videoExtension) NewInterceptor(string) (interceptor.Interceptor, error) { return v, nil }

// BindLocalStream stamps a video stream's packets if the extension was
// negotiated.
func (v *videoExtension) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	id := 0
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == v.uri {
			id = e.ID
		}
	}
	if id == 0 || !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		if err := header.SetExtension(uint8(id), v.value()); err != nil {
			return 0, err
		}
		return w.Write(header, payload, attrs)
	})
}

// absSendTimeNow is abs-send-time's payload for a packet sent now.
func absSendTimeNow() []byte {
	ext, _ := rtp.NewAbsSendTimeExtension(time.Now()).Marshal() // fixed size: never fails
	return ext
}

// playoutDelayURI names the playout-delay RTP header extension
// (webrtc.org/experiments/rtp-hdrext/playout-delay).
const playoutDelayURI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

// registerPlayoutDelay adds the playout-delay header extension to an API
// being built, unless the settings leave the delay to the receiver.
func registerPlayoutDelay(m *webrtc.MediaEngine, ir *interceptor.Registry, s VideoSettings) error {
	if s.PlayoutDelay < 0 {
		return nil
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: playoutDelayURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return fmt.Errorf("rtcbot: playout delay: %w", err)
	}
	steps := uint16(min(s.PlayoutDelay, maxPlayoutDelay) / (10 * time.Millisecond))
	ext, err := rtp.PlayoutDelayExtension{MinDelay: 0, MaxDelay: steps}.Marshal()
	if err != nil {
		return fmt.Errorf("rtcbot: playout delay: %w", err)
	}
	ir.Add(&videoExtension{uri: playoutDelayURI, value: func() []byte { return ext }})
	return nil
}
