package rtcbot

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// LinkStats is what a connection's video has met on its link, for seeing a
// bad link: Connection.LinkStats returns it, and ConnectionSettings.
// StatsInterval logs it. Counts are totals since the connection started.
type LinkStats struct {
	// RTT is the round-trip time ICE last measured to the peer.
	RTT time.Duration

	// TargetBitrate is what congestion control estimates the link to the
	// peer carries, in bits per second (0 until an estimate came); the
	// encoder follows it, within VideoSettings.
	TargetBitrate int
	// VideoBytesSent counts the video payload bytes sent to the peer.
	VideoBytesSent uint64
	// NACKsReceived and KeyframeRequestsReceived count the peer's requests
	// for lost packets and for keyframes (PLI and FIR).
	NACKsReceived, KeyframeRequestsReceived uint64

	// VideoPacketsReceived counts the packets of the peer's video,
	// retransmissions included.
	VideoPacketsReceived uint64
	// NACKsSent and KeyframeRequestsSent count this side's requests.
	NACKsSent, KeyframeRequestsSent uint64
	// PacketsRepaired counts missing packets that came later (resent, or
	// reordered) in time to be used; PacketsGivenUp those waited for in
	// vain, whose frames were dropped.
	PacketsRepaired, PacketsGivenUp uint64
	// FramesDecoded counts the frames delivered to subscribers;
	// FramesDropped those that were not: incomplete, waiting for a
	// keyframe after a loss, or refused by the decoder.
	FramesDecoded, FramesDropped uint64
}

// String formats the stats as one log line.
func (s LinkStats) String() string {
	return fmt.Sprintf("rtt %v, target %d kbit/s, sent %d kB (nacks %d, keyframe requests %d received); "+
		"received %d packets, %d repaired, %d given up (nacks %d, keyframe requests %d sent); frames %d decoded, %d dropped",
		s.RTT.Round(time.Millisecond), s.TargetBitrate/1000, s.VideoBytesSent/1000, s.NACKsReceived, s.KeyframeRequestsReceived,
		s.VideoPacketsReceived, s.PacketsRepaired, s.PacketsGivenUp, s.NACKsSent, s.KeyframeRequestsSent,
		s.FramesDecoded, s.FramesDropped)
}

// LinkStats returns what the connection's video has met on its link so far.
func (c *Connection) LinkStats() LinkStats {
	s := LinkStats{
		TargetBitrate:            c.estimate.target(),
		KeyframeRequestsSent:     c.plisSent.Load(),
		NACKsSent:                c.counter.nacksSent.Load(),
		NACKsReceived:            c.counter.nacksReceived.Load(),
		KeyframeRequestsReceived: c.counter.keyframeRequests.Load(),
		VideoBytesSent:           c.counter.videoBytes.Load(),
	}
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

// receiveCounters counts what a stream's incoming video met, for
// LinkStats.
type receiveCounters struct {
	packets, repaired, givenUp, decoded, dropped atomic.Uint64
}

func (r *receiveCounters) addTo(s *LinkStats) {
	s.VideoPacketsReceived += r.packets.Load()
	s.PacketsRepaired += r.repaired.Load()
	s.PacketsGivenUp += r.givenUp.Load()
	s.FramesDecoded += r.decoded.Load()
	s.FramesDropped += r.dropped.Load()
}

// counted is a snapshot of one track's counts, so that only what changed
// is added to the stream's counters.
type counted struct{ packets, repaired, givenUp, decoded, dropped uint64 }

// update adds what changed since last to r and returns the new snapshot.
func (r *receiveCounters) update(last, now counted) counted {
	if now != last {
		r.packets.Add(now.packets - last.packets)
		r.repaired.Add(now.repaired - last.repaired)
		r.givenUp.Add(now.givenUp - last.givenUp)
		r.decoded.Add(now.decoded - last.decoded)
		r.dropped.Add(now.dropped - last.dropped)
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
	nacksSent, nacksReceived, keyframeRequests, videoBytes atomic.Uint64
}

// NewInterceptor makes the counter its own factory: one API, one
// connection, one counter.
func (r *linkCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return r, nil }

// BindLocalStream counts the bytes of an outgoing video stream.
func (r *linkCounter) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(info.MimeType, "video/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		n, err := w.Write(header, payload, attrs)
		if err == nil {
			r.videoBytes.Add(uint64(len(payload)))
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
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					r.keyframeRequests.Add(1)
				}
			}
		}
		return n, attrs, nil
	})
}

func countNACKs(pkts []rtcp.Packet) uint64 {
	var n uint64
	for _, p := range pkts {
		if _, ok := p.(*rtcp.TransportLayerNack); ok {
			n++
		}
	}
	return n
}
