package rtcbot

// A receive-side estimate of the link, sent to the peer as REMB, for peers
// that get no other: aiortc (so Python RTCBot) sends abs-send-time and
// follows REMB, but has no transport-wide congestion feedback, which is how
// Go peers and browsers estimate for themselves. Without it an aiortc
// robot streams at its encoder's starting 500 kbit/s whatever the link.
//
// It is the delay-based half of libwebrtc's receive-side estimator
// (remote_bitrate_estimator_abs_send_time, which aiortc's own receiver
// ports too), written here because pion has only the send side (GCC,
// pkg/gcc, whose parts are not exported): packets are grouped by send
// time, the growth of their one-way delay is fitted by a trend line, and
// a rising trend (a queue building) cuts the estimate to 0.85 of what
// arrives, while a flat one lets it grow by 8% a second, up to 1.5 times
// what arrives.

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
)

const (
	// rembInterval is how often the estimate is sent while it holds; a
	// cut of rembCut or more is sent at once.
	rembInterval = time.Second
	rembCut      = 0.97
	// rembBurst is the span of send time whose packets form one group
	// (a frame's packets, sent back to back).
	rembBurst = 5 * time.Millisecond
	// The trend line's window, smoothing, gain and threshold are
	// libwebrtc's (TrendlineEstimator, OveruseDetector).
	trendWindow        = 20
	trendSmoothing     = 0.9
	trendGain          = 4.0
	trendMaxDeltas     = 60
	trendThresholdInit = 12.5 // ms
	trendOveruseTime   = 10 * time.Millisecond
	// rembBeta is the share of the arriving rate the estimate is cut to
	// when the link queues; rembGrowth its growth a second otherwise.
	rembBeta   = 0.85
	rembGrowth = 1.08
)

// absSendTimeTicks is abs-send-time's unit: 2^-18 s, in 24 bits that
// wrap every 64 s.
const absSendTimeTicks = 1 << 18

// bandwidthUsage is what the trend line says of the link.
type bandwidthUsage int

const (
	usageNormal bandwidthUsage = iota
	usageOver
	usageUnder
)

// rembSender is an interceptor that estimates the link a video stream
// comes over and sends the estimate to the peer in REMB messages, for a
// stream that carries abs-send-time and no transport-wide sequence number
// (the peer then has no feedback to estimate from itself).
type rembSender struct {
	interceptor.NoOp
	writer atomic.Value // of interceptor.RTCPWriter
	// sent is the last estimate sent, in bits per second, for LinkStats.
	sent atomic.Int64
}

// NewInterceptor makes the sender its own factory: one API, one
// connection, one sender.
func (r *rembSender) NewInterceptor(string) (interceptor.Interceptor, error) { return r, nil }

// BindRTCPWriter keeps the writer REMB messages are sent with.
func (r *rembSender) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	r.writer.Store(w)
	return w
}

// BindRemoteStream estimates the link of an incoming video stream that
// needs it.
func (r *rembSender) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	id := 0
	for _, e := range info.RTPHeaderExtensions {
		switch e.URI {
		case sdp.ABSSendTimeURI:
			id = e.ID
		case sdp.TransportCCURI:
			return reader // the peer estimates from transport-wide feedback
		}
	}
	remb := false
	for _, f := range info.RTCPFeedback {
		remb = remb || f.Type == "goog-remb"
	}
	// Retransmissions on a stream of their own (RTX) are left out: they
	// say nothing of the delay, and the peer's media SSRC has its own.
	if id == 0 || !remb || !strings.HasPrefix(info.MimeType, "video/") || strings.EqualFold(info.MimeType, "video/rtx") {
		return reader
	}
	var mu sync.Mutex // reads are one goroutine's, but a reader is not promised to be
	e := newArrivalEstimator()
	ssrc := info.SSRC
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = make(interceptor.Attributes)
		}
		header, err := a.GetRTPHeader(b[:n])
		if err != nil {
			return n, a, nil // not ours to refuse: the track's reader will
		}
		ext := header.GetExtension(uint8(id))
		if len(ext) < 3 {
			return n, a, nil
		}
		sendTime := uint32(ext[0])<<16 | uint32(ext[1])<<8 | uint32(ext[2])
		mu.Lock()
		bps, send := e.add(sendTime, time.Now(), n)
		mu.Unlock()
		if send {
			r.send(ssrc, bps)
		}
		return n, a, nil
	})
}

// send writes a REMB message of bps for ssrc.
func (r *rembSender) send(ssrc uint32, bps int) {
	w, ok := r.writer.Load().(interceptor.RTCPWriter)
	if !ok {
		return
	}
	r.sent.Store(int64(bps))
	w.Write([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(bps), SSRCs: []uint32{ssrc}}}, nil) // a lost REMB is followed by the next
}

// packetGroup is the packets sent within rembBurst of its first.
type packetGroup struct {
	firstSend, lastSend time.Duration // unwrapped abs-send-time
	arrival             time.Time     // of its last packet
}

// arrivalEstimator estimates one stream's link from its packets' send and
// arrival times. It is not safe for concurrent use.
type arrivalEstimator struct {
	// Send times, unwrapped from abs-send-time's 24 bits.
	lastRaw  uint32
	sendTime time.Duration
	started  bool

	group, prev packetGroup
	groups      int // completed so far, up to 2

	trend    trendline
	incoming rateMeter

	usage    bandwidthUsage
	estimate float64 // bits per second, 0 until the arriving rate is known
	updated  time.Time
	lastSent float64
	sentAt   time.Time
}

func newArrivalEstimator() *arrivalEstimator {
	return &arrivalEstimator{trend: trendline{threshold: trendThresholdInit}}
}

// add takes a packet of size bytes sent at abs-send-time sendTime and
// arriving at now, and returns the estimate in bits per second and
// whether it is time to send it.
func (e *arrivalEstimator) add(sendTime uint32, now time.Time, size int) (bps int, send bool) {
	e.incoming.add(size, now)
	if !e.started {
		e.started, e.lastRaw = true, sendTime
		e.group = packetGroup{firstSend: 0, lastSend: 0, arrival: now}
		return 0, false
	}
	// The signed distance from the last packet's send time, modulo 64 s.
	d := int32((sendTime-e.lastRaw)<<8) >> 8
	e.lastRaw = sendTime
	e.sendTime += time.Duration(d) * time.Second / absSendTimeTicks
	t := e.sendTime
	switch {
	case t < e.group.firstSend:
		// Sent before the group being gathered: reordered, no use for
		// the delay's trend.
	case t-e.group.firstSend <= rembBurst:
		e.group.lastSend = max(e.group.lastSend, t)
		e.group.arrival = now
	default:
		if e.groups > 0 {
			sendDelta := e.group.lastSend - e.prev.lastSend
			arrivalDelta := e.group.arrival.Sub(e.prev.arrival)
			e.usage = e.trend.update(float64(arrivalDelta-sendDelta)/float64(time.Millisecond), sendDelta, e.group.arrival)
		}
		e.prev, e.group = e.group, packetGroup{firstSend: t, lastSend: t, arrival: now}
		e.groups = min(e.groups+1, 2)
	}
	return e.update(now)
}

// update moves the estimate on to now by the link's usage and the
// arriving rate.
func (e *arrivalEstimator) update(now time.Time) (int, bool) {
	incoming := float64(e.incoming.rate(now))
	if incoming == 0 {
		return int(e.estimate), false // no full second of packets yet
	}
	if e.estimate == 0 {
		e.estimate, e.updated = incoming, now
	}
	dt := min(now.Sub(e.updated), time.Second).Seconds()
	e.updated = now
	switch e.usage {
	case usageOver:
		// What arrives is what the link carries: less, for the queue
		// to drain. Measured over the last second, it lags, so the cut
		// holds until the link is used normally again.
		e.estimate = min(e.estimate, rembBeta*incoming)
	case usageNormal:
		e.estimate = min(e.estimate*math.Pow(rembGrowth, dt), 1.5*incoming+10_000)
	case usageUnder:
		// The queue drains: hold.
	}
	e.estimate = max(e.estimate, lowestBitrate)
	if now.Sub(e.sentAt) >= rembInterval || e.estimate < rembCut*e.lastSent {
		e.lastSent, e.sentAt = e.estimate, now
		return int(e.estimate), true
	}
	return int(e.estimate), false
}

// trendline is libwebrtc's TrendlineEstimator and OveruseDetector: the
// slope of the smoothed, accumulated delay variation over the last
// trendWindow groups, against a threshold that adapts to the link's
// jitter.
type trendline struct {
	accumulated, smoothed float64 // ms
	first                 time.Time
	history               [trendWindow][2]float64 // (arrival ms since first, smoothed delay ms), a ring
	count, deltas         int

	threshold   float64 // ms
	lastAdapted time.Time
	overusing   time.Duration // -1 when not overusing
	overuses    int
	prevTrend   float64
	usage       bandwidthUsage // the last one detected
}

// update takes the delay variation of a group (ms), the send time between
// it and the last one, and its arrival, and returns the link's usage.
func (t *trendline) update(delayMs float64, sendDelta time.Duration, arrival time.Time) bandwidthUsage {
	if t.first.IsZero() {
		t.first, t.overusing = arrival, -1
	}
	t.deltas = min(t.deltas+1, 1000)
	t.accumulated += delayMs
	t.smoothed = trendSmoothing*t.smoothed + (1-trendSmoothing)*t.accumulated
	t.history[t.count%trendWindow] = [2]float64{float64(arrival.Sub(t.first)) / float64(time.Millisecond), t.smoothed}
	t.count++
	trend := t.prevTrend
	if t.count >= trendWindow {
		trend = slope(t.history[:])
	}
	return t.detect(trend, sendDelta, arrival)
}

// detect compares the trend with the threshold.
func (t *trendline) detect(trend float64, sendDelta time.Duration, now time.Time) bandwidthUsage {
	if t.deltas < 2 {
		return usageNormal
	}
	modified := float64(min(t.deltas, trendMaxDeltas)) * trend * trendGain
	switch {
	case modified > t.threshold:
		// Over the threshold long enough, and still rising: overuse,
		// until the trend falls back under it.
		if t.overusing < 0 {
			t.overusing = sendDelta / 2
		} else {
			t.overusing += sendDelta
		}
		t.overuses++
		if t.overusing > trendOveruseTime && t.overuses > 1 && trend >= t.prevTrend {
			t.overusing, t.overuses = 0, 0
			t.usage = usageOver
		}
	case modified < -t.threshold:
		t.overusing, t.overuses = -1, 0
		t.usage = usageUnder
	default:
		t.overusing, t.overuses = -1, 0
		t.usage = usageNormal
	}
	t.prevTrend = trend
	t.adapt(modified, now)
	return t.usage
}

// adapt moves the threshold towards the trend's size: quickly down, slowly
// up, not at all for a spike.
func (t *trendline) adapt(modified float64, now time.Time) {
	if t.lastAdapted.IsZero() {
		t.lastAdapted = now
	}
	size := math.Abs(modified)
	if size > t.threshold+15 {
		t.lastAdapted = now
		return
	}
	k := 0.0087
	if size < t.threshold {
		k = 0.039
	}
	dt := min(now.Sub(t.lastAdapted), 100*time.Millisecond)
	t.threshold += k * (size - t.threshold) * float64(dt) / float64(time.Millisecond)
	t.threshold = min(max(t.threshold, 6), 600)
	t.lastAdapted = now
}

// slope is the least-squares slope of points (x, y).
func slope(points [][2]float64) float64 {
	var sx, sy float64
	for _, p := range points {
		sx += p[0]
		sy += p[1]
	}
	n := float64(len(points))
	mx, my := sx/n, sy/n
	var num, den float64
	for _, p := range points {
		num += (p[0] - mx) * (p[1] - my)
		den += (p[0] - mx) * (p[0] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}
