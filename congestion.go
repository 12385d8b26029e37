package rtcbot

import (
	"fmt"
	"math"
	"strings"
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
// follows the lowest estimate among the connections sending it, kept
// between VideoSettings.MinBitrate and the bitrate it would use on a good
// link (VideoSettings.Bitrate, or its default for the picture size): it
// never sends more than it was asked to, and a viewer whose link carries
// less than the floor gets the floor, and loses what does not fit (it asks
// for the missing packets, or a keyframe).

// DefaultMinBitrate is VideoSettings.MinBitrate when left at zero.
const DefaultMinBitrate = 100_000

// gccStartBitrate is where the estimate starts when VideoSettings.Bitrate
// is left to its default (unknown until the first frame's size).
const gccStartBitrate = 1_000_000

// registerCongestionControl adds the TWCC and abs-send-time header
// extensions and the send-side estimator to an API being built; onTarget receives the
// estimate, in bits per second, each time it changes.
func registerCongestionControl(m *webrtc.MediaEngine, ir *interceptor.Registry, s VideoSettings, onTarget func(bps int)) error {
	start, top := s.Bitrate, s.Bitrate
	if start == 0 {
		start, top = gccStartBitrate, math.MaxInt32
	}
	floor := s.minBitrate()
	start = max(start, floor)
	estimator, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		// No pacer: packets leave as they are encoded, for the least
		// latency; the encoder's rate control keeps frames near the target.
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(start), gcc.SendSideBWEMinBitrate(floor),
			gcc.SendSideBWEMaxBitrate(max(top, floor)), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
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
	ir.Add(&absSendTime{})
	return nil
}

// minBitrate returns the floor of congestion control.
func (s VideoSettings) minBitrate() int {
	if s.MinBitrate > 0 {
		return s.MinBitrate
	}
	return DefaultMinBitrate
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
	c.video.setTarget(c.estimate.target())
}

// peerSendsTWCC reports whether the negotiated session has transport-wide
// congestion control feedback.
func (c *Connection) peerSendsTWCC() bool {
	remote := c.pc.RemoteDescription()
	return remote != nil && strings.Contains(remote.SDP, sdp.TransportCCURI)
}

// goodLinkBitrate is what a video encoder sends when the link allows:
// VideoSettings.Bitrate, or 0.1 bits per pixel per frame and at least
// 100 kbit/s (codec/vp8's default).
func (s VideoSettings) goodLinkBitrate(width, height int) int {
	if s.Bitrate > 0 {
		return s.Bitrate
	}
	fps := s.FPS
	if fps <= 0 {
		fps = 30
	}
	return max(width*height*fps/10, 100_000)
}

// absSendTime is an interceptor that stamps outgoing video packets with the
// abs-send-time header extension, from which a receiver without
// transport-wide feedback (aiortc, so Python RTCBot) estimates the link
// and sends REMB. pion has the extension's format (rtp.AbsSendTimeExtension)
// but no interceptor that adds it.
type absSendTime struct{ interceptor.NoOp }

// NewInterceptor makes absSendTime its own factory: it has no state.
func (a *absSendTime) NewInterceptor(string) (interceptor.Interceptor, error) { return a, nil }

// BindLocalStream stamps a video stream's packets if the extension was
// negotiated.
func (a *absSendTime) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	id := 0
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.ABSSendTimeURI {
			id = e.ID
		}
	}
	if id == 0 || !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		if ext, err := rtp.NewAbsSendTimeExtension(time.Now()).Marshal(); err == nil {
			if err := header.SetExtension(uint8(id), ext); err != nil {
				return 0, err
			}
		}
		return w.Write(header, payload, attrs)
	})
}
