package rtcbot

import (
	"reflect"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
)

// rembLink simulates a sender at 30 fps over a link of capacity bits per
// second (0: unlimited) with a 20 ms path, into an arrivalEstimator. Each
// frame's packets (1200 bytes) leave back to back; the link queues what
// it cannot carry. follow makes the sender take each estimate sent as its
// new rate, as aiortc's encoder does.
type rembLink struct {
	t        *testing.T
	e        *arrivalEstimator
	rate     float64 // the sender's bits per second
	capacity float64
	follow   bool

	clock     time.Duration // send time since the start
	lastOut   time.Duration // when the link finished sending its last packet
	sent      []int         // the estimates sent, in order
	lastQueue time.Duration // the last packet's time in the queue
}

// abs-send-time starts 0.5 s before it wraps, so that every run crosses it.
const rembSendBase = 64*time.Second - 500*time.Millisecond

func newREMBLink(t *testing.T, rate, capacity float64, follow bool) *rembLink {
	return &rembLink{t: t, e: newArrivalEstimator(), rate: rate, capacity: capacity, follow: follow}
}

// run sends d of frames.
func (l *rembLink) run(d time.Duration) {
	start := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for end := l.clock + d; l.clock < end; l.clock += time.Second / 30 {
		frame := int(l.rate / 8 / 30)
		for i := 0; frame > 0; i++ {
			size := min(frame, 1200)
			frame -= size
			send := l.clock + time.Duration(i)*10*time.Microsecond
			out := send
			if l.capacity > 0 {
				out = max(send, l.lastOut) + time.Duration(float64(size*8)/l.capacity*float64(time.Second))
				l.lastQueue = out - send
			}
			l.lastOut = out
			abs := uint32(int64(rembSendBase+send)*absSendTimeTicks/int64(time.Second)) & 0xFFFFFF
			bps, ok := l.e.add(abs, start.Add(out+20*time.Millisecond), size)
			if ok {
				l.sent = append(l.sent, bps)
				if l.follow {
					l.rate = float64(bps)
				}
			}
		}
	}
}

func (l *rembLink) last() int {
	if len(l.sent) == 0 {
		l.t.Fatal("no estimate sent")
	}
	return l.sent[len(l.sent)-1]
}

// On a link with room to spare the estimate grows from what arrives to
// 1.5 times it (the most it claims without proof), one message a second,
// and is never cut.
func TestREMBGrowsOnAFreeLink(t *testing.T) {
	l := newREMBLink(t, 500_000, 0, false)
	l.run(12 * time.Second)
	if n := len(l.sent); n < 10 || n > 12 {
		t.Errorf("%d estimates sent in 12 s, want one a second", n)
	}
	for i, bps := range l.sent {
		if bps < 480_000 {
			t.Fatalf("estimate %d is %d bit/s, under the 500 kbit/s that arrives: %v", i, bps, l.sent)
		}
	}
	if bps := l.last(); bps < 700_000 || bps > 770_000 {
		t.Errorf("estimate %d bit/s after 12 s, want 1.5 times the 500 kbit/s arriving: %v", bps, l.sent)
	}
}

// When the sender exceeds the link, the queue's growing delay cuts the
// estimate under the link's capacity at once, and the cut is sent at once.
func TestREMBCutsWhenTheLinkQueues(t *testing.T) {
	l := newREMBLink(t, 1_000_000, 600_000, false)
	l.run(3 * time.Second)
	if bps := l.last(); bps >= 600_000 || bps < 400_000 {
		t.Errorf("estimate %d bit/s after 3 s at 1 Mbit/s into 600 kbit/s, want 0.85 of what arrives: %v", bps, l.sent)
	}
	if len(l.sent) < 2 {
		t.Errorf("the cut was not sent before the next second: %v", l.sent)
	}
}

// A sender that follows the estimate settles near a link's capacity
// without filling its queue, from below and from above: over the last
// half minute of a minute it probes a little above the capacity and backs
// off, 0.8 to 1.1 times it in this simulation.
func TestREMBFollowerSettles(t *testing.T) {
	for _, start := range []float64{300_000, 3_000_000} {
		l := newREMBLink(t, start, 1_000_000, true)
		l.run(30 * time.Second)
		settled := len(l.sent)
		var worstQueue time.Duration
		for range 30 {
			l.run(time.Second)
			worstQueue = max(worstQueue, l.lastQueue)
		}
		sum := 0
		for _, bps := range l.sent[settled:] {
			sum += bps
		}
		if mean := sum / (len(l.sent) - settled); mean < 800_000 || mean > 1_050_000 {
			t.Errorf("from %.0f bit/s: the estimate settled at %d bit/s on average over a 1 Mbit/s link: %v", start, mean, l.sent)
		}
		if worstQueue > 300*time.Millisecond {
			t.Errorf("from %.0f bit/s: up to %v queued after settling: %v", start, worstQueue, l.sent)
		}
	}
}

// The estimate is made only for video that carries abs-send-time and asks
// for REMB, and not when the peer gets transport-wide feedback.
func TestREMBOnlyWhereNeeded(t *testing.T) {
	abs := interceptor.RTPHeaderExtension{URI: sdp.ABSSendTimeURI, ID: 2}
	twcc := interceptor.RTPHeaderExtension{URI: sdp.TransportCCURI, ID: 3}
	remb := []interceptor.RTCPFeedback{{Type: "goog-remb"}, {Type: "nack"}}
	for _, tc := range []struct {
		name string
		info interceptor.StreamInfo
		want bool
	}{
		{"aiortc's video", interceptor.StreamInfo{MimeType: "video/VP8", RTPHeaderExtensions: []interceptor.RTPHeaderExtension{abs}, RTCPFeedback: remb}, true},
		{"with transport-wide feedback", interceptor.StreamInfo{MimeType: "video/VP8", RTPHeaderExtensions: []interceptor.RTPHeaderExtension{abs, twcc}, RTCPFeedback: remb}, false},
		{"no abs-send-time", interceptor.StreamInfo{MimeType: "video/VP8", RTCPFeedback: remb}, false},
		{"no REMB", interceptor.StreamInfo{MimeType: "video/VP8", RTPHeaderExtensions: []interceptor.RTPHeaderExtension{abs}}, false},
		{"retransmissions", interceptor.StreamInfo{MimeType: "video/rtx", RTPHeaderExtensions: []interceptor.RTPHeaderExtension{abs}, RTCPFeedback: remb}, false},
		{"audio", interceptor.StreamInfo{MimeType: "audio/opus", RTPHeaderExtensions: []interceptor.RTPHeaderExtension{abs}, RTCPFeedback: remb}, false},
	} {
		var r rembSender
		in := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) { return 0, a, nil })
		out := r.BindRemoteStream(&tc.info, in)
		// The reader comes back as it was unless the stream is estimated.
		if got := reflect.ValueOf(out).Pointer() != reflect.ValueOf(in).Pointer(); got != tc.want {
			t.Errorf("%s: estimated %v, want %v", tc.name, got, tc.want)
		}
	}
}
