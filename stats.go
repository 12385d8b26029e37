package rtcbot

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// LinkStats is what a connection's video has met on its link, for seeing a
// bad link: Connection.LinkStats returns it, and ConnectionSettings.
// StatsInterval logs it. Counts are totals since the connection started.
//
// In JSON (MarshalJSON, UnmarshalJSON) it is an object whose names are the
// field names in lower camel case, as the struct tags say, except RTT,
// which is "rttMs", in milliseconds: what a connection sends on a
// StatsChannelLabel channel.
type LinkStats struct {
	// RTT is the round-trip time ICE last measured to the peer.
	RTT time.Duration `json:"-"` // "rttMs" in JSON: see MarshalJSON

	// TargetBitrate is what congestion control estimates the link to the
	// peer carries, in bits per second (0 until an estimate came); the
	// encoder follows it, within VideoSettings.
	TargetBitrate int `json:"targetBitrate"`
	// SentBitrate is the video sent to the peer over the last second, in
	// bits per second of payload, retransmissions included.
	SentBitrate int `json:"sentBitrate"`
	// ResentBitrate is the part of SentBitrate that was retransmissions,
	// which are held to the target (pion's NACK responder) and taken off
	// what the encoder is given.
	ResentBitrate int `json:"resentBitrate"`
	// VideoBytesSent counts the video payload bytes sent to the peer,
	// VideoBytesResent those of them that were retransmissions.
	VideoBytesSent   uint64 `json:"videoBytesSent"`
	VideoBytesResent uint64 `json:"videoBytesResent"`
	// PeerLoss is the share of this side's video packets the peer last
	// reported lost (RTCP receiver reports, before any retransmission),
	// 0 to 1.
	PeerLoss float64 `json:"peerLoss"`
	// NACKsReceived and KeyframeRequestsReceived count the peer's requests
	// for lost packets and for keyframes (PLI and FIR).
	NACKsReceived            uint64 `json:"nacksReceived"`
	KeyframeRequestsReceived uint64 `json:"keyframeRequestsReceived"`
	// ResendsDropped counts the retransmissions not sent: a third copy of
	// a packet within a round trip, or beyond half of the link's estimate.
	ResendsDropped uint64 `json:"resendsDropped"`
	// KeyframesSent counts the keyframes of the video sent to the peer
	// since it connected: the first, those it or another viewer of the
	// same source asked for, and those of a change of picture size.
	KeyframesSent uint64 `json:"keyframesSent"`
	// VideoFramesSent counts the video frames sent to the peer since it
	// connected, keyframes included: what the encoder made for it. Through
	// a media server it stays what one viewer costs however many watch.
	VideoFramesSent uint64 `json:"videoFramesSent"`

	// EstimateSent is the bitrate this side last estimated the peer's
	// video link carries and sent to the peer in a REMB message, in bits
	// per second. It is sent to a peer that has no feedback to estimate
	// from itself (aiortc, so Python RTCBot: abs-send-time, no
	// transport-wide sequence numbers), and 0 otherwise (Go peers and
	// browsers estimate for themselves).
	EstimateSent int `json:"estimateSent"`
	// VideoPacketsReceived counts the packets of the peer's video,
	// retransmissions included, and VideoBytesReceived their payload bytes.
	VideoPacketsReceived uint64 `json:"videoPacketsReceived"`
	VideoBytesReceived   uint64 `json:"videoBytesReceived"`
	// NACKsSent and KeyframeRequestsSent count this side's requests.
	NACKsSent            uint64 `json:"nacksSent"`
	KeyframeRequestsSent uint64 `json:"keyframeRequestsSent"`
	// PacketsRepaired counts missing packets that came later (resent, or
	// reordered) in time to be used; PacketsGivenUp those waited for in
	// vain, whose frames were dropped.
	PacketsRepaired uint64 `json:"packetsRepaired"`
	PacketsGivenUp  uint64 `json:"packetsGivenUp"`
	// FramesDecoded counts the frames delivered to subscribers. The others
	// were dropped: FramesIncomplete had a packet lost for good;
	// FramesSkipped were complete but came after a loss, waiting for a
	// keyframe; FramesRefused were malformed or refused by the decoder.
	FramesDecoded    uint64 `json:"framesDecoded"`
	FramesIncomplete uint64 `json:"framesIncomplete"`
	FramesSkipped    uint64 `json:"framesSkipped"`
	FramesRefused    uint64 `json:"framesRefused"`
}

// linkStatsFields is LinkStats without its methods, for its JSON form.
type linkStatsFields LinkStats

// linkStatsJSON is the JSON form of LinkStats: its tagged fields, and RTT
// in milliseconds.
type linkStatsJSON struct {
	RTTMillis float64 `json:"rttMs"`
	linkStatsFields
}

// MarshalJSON encodes the stats as a JSON object with stable lower camel
// case names (see LinkStats): the fields' tags, and "rttMs" for RTT in
// milliseconds (to the microsecond).
func (s LinkStats) MarshalJSON() ([]byte, error) {
	ms := math.Round(float64(s.RTT)/float64(time.Microsecond)) / 1000
	return json.Marshal(linkStatsJSON{RTTMillis: ms, linkStatsFields: linkStatsFields(s)})
}

// UnmarshalJSON decodes what MarshalJSON encodes, such as a message of a
// StatsChannelLabel channel; names it does not know are ignored.
func (s *LinkStats) UnmarshalJSON(b []byte) error {
	var v linkStatsJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = LinkStats(v.linkStatsFields)
	s.RTT = time.Duration(math.Round(v.RTTMillis * float64(time.Millisecond)))
	return nil
}

// String formats the stats as one log line.
func (s LinkStats) String() string {
	return fmt.Sprintf("rtt %v, target %d kbit/s, sending %d kbit/s (%d resent), sent %d kB, peer lost %.1f%% (nacks %d, keyframe requests %d received, %d resends dropped, %d frames sent, %d keyframes); "+
		"received %d packets (%d kB), %d repaired, %d given up (nacks %d, keyframe requests %d sent, estimate %d kbit/s sent); frames %d decoded, %d incomplete, %d skipped, %d refused",
		s.RTT.Round(time.Millisecond), s.TargetBitrate/1000, s.SentBitrate/1000, s.ResentBitrate/1000, s.VideoBytesSent/1000, 100*s.PeerLoss,
		s.NACKsReceived, s.KeyframeRequestsReceived, s.ResendsDropped, s.VideoFramesSent, s.KeyframesSent,
		s.VideoPacketsReceived, s.VideoBytesReceived/1000, s.PacketsRepaired, s.PacketsGivenUp, s.NACKsSent, s.KeyframeRequestsSent, s.EstimateSent/1000,
		s.FramesDecoded, s.FramesIncomplete, s.FramesSkipped, s.FramesRefused)
}

// LinkStats returns what the connection's video has met on its link so far.
func (c *Connection) LinkStats() LinkStats {
	now := time.Now()
	s := LinkStats{
		TargetBitrate:            c.estimate.target(),
		KeyframeRequestsSent:     c.plisSent.Load(),
		NACKsSent:                c.counter.nacksSent.Load(),
		NACKsReceived:            c.counter.nacksReceived.Load(),
		KeyframeRequestsReceived: c.counter.keyframeRequests.Load(),
		VideoBytesSent:           c.counter.videoBytes.Load(),
		VideoBytesResent:         c.counter.resentBytes.Load(),
		SentBitrate:              c.counter.sent.rate(now),
		ResentBitrate:            c.counter.resent.rate(now),
		ResendsDropped:           c.limiter.dropped.Load(),
		PeerLoss:                 float64(c.counter.peerLoss.Load()) / 256,
		EstimateSent:             int(c.counter.remb.sent.Load()),
	}
	sent := c.video.sentToPeer()
	s.VideoFramesSent, s.KeyframesSent = sent.frames, sent.keyframes
	c.video.recv.addTo(&s)
	// Not pc.GetStats, which races with a close in progress (pion 4.2.26).
	if sctp := c.pc.SCTP(); sctp != nil {
		s.RTT = roundTrip(sctp.Transport())
	}
	return s
}

// logStats logs the connection's LinkStats every interval until it closes.
func (c *Connection) logStats(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			c.log.Info("rtcbot: link", "stats", c.LinkStats().String())
		case <-c.pcClosed: // Close waits for this goroutine before its close event
			return
		}
	}
}

// StatsChannelLabel is the label of the data channel that carries a
// connection's LinkStats to its peer: when the peer opens a channel with
// this label, the connection sends its LinkStats on it, as JSON (see
// LinkStats.MarshalJSON), at once and then once a second, until the channel
// or the connection closes. The statistics page (StatsHandler) opens one.
//
// Such a channel is the connection's own: it is not given to OnDataChannel
// and DataChannelByName does not return it (it counts towards
// MaxDataChannels). To read a peer's stats, open one, with
// AddDataChannel(StatsChannelLabel, true), and decode its messages with
// DecodeMessage[LinkStats].
const StatsChannelLabel = "rtcbot.stats"

// statsChannelInterval is how often a StatsChannelLabel channel is sent
// the connection's LinkStats.
const statsChannelInterval = time.Second

// sendStats sends the connection's LinkStats on d, a StatsChannelLabel
// channel the peer opened, once it opens and then every
// statsChannelInterval, until d or the connection closes; then it closes
// d. It runs on a goroutine that Close waits for.
func (c *Connection) sendStats(d *DataChannel) {
	defer d.Close()
	select {
	case <-d.Ready():
	case <-d.Done():
		return
	case <-c.pcClosed: // Close waits for this goroutine after pcClosed
		return
	}
	tick := time.NewTicker(statsChannelInterval)
	defer tick.Stop()
	for {
		d.Put(c.LinkStats())
		select {
		case <-tick.C:
		case <-d.Done():
			return
		case <-c.pcClosed:
			return
		}
	}
}

// receiveCounters counts what a stream's incoming video met, for
// LinkStats.
type receiveCounters struct {
	packets, bytes, repaired, givenUp     atomic.Uint64
	decoded, incomplete, skipped, refused atomic.Uint64
}

func (r *receiveCounters) addTo(s *LinkStats) {
	s.VideoPacketsReceived += r.packets.Load()
	s.VideoBytesReceived += r.bytes.Load()
	s.PacketsRepaired += r.repaired.Load()
	s.PacketsGivenUp += r.givenUp.Load()
	s.FramesDecoded += r.decoded.Load()
	s.FramesIncomplete += r.incomplete.Load()
	s.FramesSkipped += r.skipped.Load()
	s.FramesRefused += r.refused.Load()
}

// counted is a snapshot of one track's counts, so that only what changed
// is added to the stream's counters.
type counted struct {
	packets, bytes, repaired, givenUp uint64
	frames                            frameCounts
}

// update adds what changed since last to r and returns the new snapshot.
func (r *receiveCounters) update(last, now counted) counted {
	if now != last {
		r.packets.Add(now.packets - last.packets)
		r.bytes.Add(now.bytes - last.bytes)
		r.repaired.Add(now.repaired - last.repaired)
		r.givenUp.Add(now.givenUp - last.givenUp)
		r.decoded.Add(now.frames.decoded - last.frames.decoded)
		r.incomplete.Add(now.frames.incomplete - last.frames.incomplete)
		r.skipped.Add(now.frames.skipped - last.frames.skipped)
		r.refused.Add(now.frames.refused - last.frames.refused)
	}
	return now
}

// linkCounter is an interceptor that counts, for LinkStats, the NACKs a
// connection sends and receives, the keyframe requests it receives and the
// video bytes it sends (pion's stats see none of the NACKs, and no
// outgoing stream). It goes first in the chain, below the NACK generator,
// so it sees what the generator writes; every interceptor sees what is
// read.
type linkCounter struct {
	interceptor.NoOp
	nacksSent, nacksReceived, keyframeRequests atomic.Uint64
	videoBytes, resentBytes                    atomic.Uint64
	peerLoss                                   atomic.Uint32 // the peer's last report on our video, in 256ths
	sent, resent                               rateMeter

	videoSSRCs sync.Map // of the outgoing video streams: uint32 -> struct{}

	remb rembSender // the estimate sent to a peer without transport-wide feedback
}

// rateMeter measures a bitrate over windows of a second.
type rateMeter struct {
	mu    sync.Mutex
	start time.Time // of the window being counted
	bytes uint64
	last  int // bits per second over the last full window
}

// rateWindow is the span a rateMeter measures over.
const rateWindow = time.Second

// add counts n bytes at now.
func (m *rateMeter) add(n int, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	m.bytes += uint64(n)
}

// rate returns the bitrate over the last full window.
func (m *rateMeter) rate(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	return m.last
}

// advance closes the window if it has run its span, under mu.
func (m *rateMeter) advance(now time.Time) {
	switch elapsed := now.Sub(m.start); {
	case m.start.IsZero():
		m.start = now
	case elapsed >= 2*rateWindow: // a whole window passed with nothing counted
		m.last, m.start, m.bytes = 0, now, 0
	case elapsed >= rateWindow:
		m.last = int(float64(m.bytes*8) / elapsed.Seconds())
		m.start, m.bytes = now, 0
	}
}

// NewInterceptor makes the counter its own factory: one API, one
// connection, one counter.
func (r *linkCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return r, nil }

// BindLocalStream counts the bytes of an outgoing video stream.
func (r *linkCounter) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	r.videoSSRCs.Store(info.SSRC, struct{}{})
	var resends resendDetector
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		n, err := w.Write(header, payload, attrs)
		if err != nil {
			return n, err
		}
		resent := resends.isResend(header.SequenceNumber)
		now := time.Now()
		r.videoBytes.Add(uint64(len(payload)))
		r.sent.add(len(payload), now)
		if resent {
			r.resentBytes.Add(uint64(len(payload)))
			r.resent.add(len(payload), now)
		}
		return n, err
	})
}

func (r *linkCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, attrs interceptor.Attributes) (int, error) {
		r.nacksSent.Add(countNACKs(pkts))
		return w.Write(pkts, attrs)
	})
}

func (r *linkCounter) BindRTCPReader(rd interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, attrs interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attrs, err := rd.Read(b, attrs)
		if err != nil {
			return n, attrs, err
		}
		if attrs == nil {
			attrs = make(interceptor.Attributes)
		}
		if pkts, err := attrs.GetRTCPPackets(b[:n]); err == nil { // parsed once for the whole chain
			r.nacksReceived.Add(countNACKs(pkts))
			for _, p := range pkts {
				switch p := p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					r.keyframeRequests.Add(1)
				case *rtcp.ReceiverReport:
					r.notePeerLoss(p.Reports)
				case *rtcp.SenderReport:
					r.notePeerLoss(p.Reports)
				}
			}
		}
		return n, attrs, nil
	})
}

// resendDetector tells one outgoing stream's retransmissions from its new
// packets: pion resends a packet as it was, on the stream's own SSRC, so a
// packet whose sequence number is not past the highest sent is a resend.
type resendDetector struct {
	mu      sync.Mutex
	highest uint16
	started bool
}

// isResend reports whether a packet with sequence number seq, being sent,
// is a retransmission.
func (d *resendDetector) isResend(seq uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started && int16(seq-d.highest) <= 0 {
		return true
	}
	d.highest, d.started = seq, true
	return false
}

// notePeerLoss keeps the loss the peer reports on this side's video.
func (r *linkCounter) notePeerLoss(reports []rtcp.ReceptionReport) {
	for _, rr := range reports {
		if _, ok := r.videoSSRCs.Load(rr.SSRC); ok {
			r.peerLoss.Store(uint32(rr.FractionLost))
		}
	}
}

// UnbindLocalStream forgets an outgoing stream's SSRC.
func (r *linkCounter) UnbindLocalStream(info *interceptor.StreamInfo) { r.videoSSRCs.Delete(info.SSRC) }

func countNACKs(pkts []rtcp.Packet) uint64 {
	var n uint64
	for _, p := range pkts {
		if _, ok := p.(*rtcp.TransportLayerNack); ok {
			n++
		}
	}
	return n
}
