package rtcbot

import (
	"time"

	"github.com/pion/rtp"
)

// Loss repair for received video. The NACK interceptor asks the sender to
// resend each missing packet, every nackInterval up to maxNacks times; the
// reorder buffer holds the packets after a hole until the hole is filled
// (by the retransmission, or by a packet that was only reordered) or its
// wait runs out, and then the assembler sees the gap and waits for a
// keyframe. Packets in order pass straight through, so a link without loss
// costs no delay.
const (
	nackInterval = 20 * time.Millisecond
	maxNacks     = 10

	// reorderSlots bounds the packets held behind a hole: about a second of
	// 640x480 video.
	reorderSlots = 512
	// The wait for a hole adapts to the round-trip time: a retransmission
	// needs one round trip, plus up to a NACK interval before it is asked
	// for; the wait allows for one more NACK and some jitter, within these
	// bounds.
	minReorderWait = 30 * time.Millisecond
	maxReorderWait = 300 * time.Millisecond
)

// reorderWait returns how long to hold packets behind a hole on a link of
// the given round-trip time (0 if unknown).
func reorderWait(rtt time.Duration) time.Duration {
	if rtt <= 0 {
		rtt = 100 * time.Millisecond
	}
	return min(max(rtt*3/2+2*nackInterval, minReorderWait), maxReorderWait)
}

// reorderBuffer puts one track's packets back in sequence order.
type reorderBuffer struct {
	slots   [reorderSlots]*rtp.Packet // held packets, by sequence number modulo reorderSlots
	arrived [reorderSlots]time.Time   // when each held packet came
	next    uint16                    // sequence number of the next packet to release
	started bool
	held    int       // packets in slots
	holeAt  time.Time // when the packet at next was found missing: a later one came (when held > 0)
	lateRun int       // late packets in a row

	repaired uint64 // holes filled late: by a retransmission or a reordered packet
	lost     uint64 // packets given up
	late     uint64 // packets that came after they were given up, or twice
}

// push takes a packet received at now and releases, through out, every
// packet that is now in order.
func (b *reorderBuffer) push(p *rtp.Packet, now time.Time, out func(*rtp.Packet)) {
	seq := p.SequenceNumber
	if !b.started {
		b.started, b.next = true, seq
	}
	ahead := int(int16(seq - b.next))
	switch {
	case ahead < 0:
		// Given up already, or a duplicate. Many in a row mean the stream
		// jumped back (the sender restarted its numbering): follow it.
		b.late++
		if b.lateRun++; b.lateRun < reorderSlots/8 {
			return
		}
		b.skipTo(seq, out)
	case ahead == 0:
		if b.held > 0 {
			b.repaired++
		}
	case ahead >= reorderSlots:
		b.skipTo(seq, out) // too far ahead to wait for what is missing
	default:
		slot := &b.slots[seq%reorderSlots]
		if *slot != nil {
			b.late++ // a duplicate of a held packet
			return
		}
		if b.held == 0 {
			b.holeAt = now
		}
		*slot = p
		b.arrived[seq%reorderSlots] = now
		b.held++
		return
	}
	b.lateRun = 0
	out(p)
	b.next = seq + 1
	b.release(now, out)
}

// release passes on the held packets that follow next without a hole.
func (b *reorderBuffer) release(now time.Time, out func(*rtp.Packet)) {
	for b.held > 0 {
		slot := &b.slots[b.next%reorderSlots]
		if *slot == nil {
			// A further hole: it has waited since the first packet after
			// it came, not since the hole before it closed, or holes in a
			// row would wait one after the other.
			b.holeAt = b.firstArrivalAfterNext()
			return
		}
		p := *slot
		*slot = nil
		b.held--
		out(p)
		b.next++
	}
}

// firstArrivalAfterNext returns when the first held packet after next came.
func (b *reorderBuffer) firstArrivalAfterNext() time.Time {
	for i := uint16(1); i < reorderSlots; i++ {
		if at := (b.next + i) % reorderSlots; b.slots[at] != nil {
			return b.arrived[at]
		}
	}
	return time.Time{} // not reached while held > 0
}

// skipTo gives up waiting for what is missing before seq: the held packets
// are released in order, and seq becomes the next packet. Jumping ahead, the
// packets skipped are counted lost.
func (b *reorderBuffer) skipTo(seq uint16, out func(*rtp.Packet)) {
	released := 0
	for i := 0; b.held > 0 && i < reorderSlots; i++ {
		slot := &b.slots[(b.next+uint16(i))%reorderSlots]
		if p := *slot; p != nil {
			*slot = nil
			b.held--
			released++
			out(p)
		}
	}
	if ahead := int(int16(seq - b.next)); ahead > 0 {
		b.lost += uint64(ahead - released)
	}
	b.next = seq
	b.lateRun = 0
}

// expire gives up a hole that has waited for longer than wait: the packets
// after it are released (the assembler then sees the gap). It returns when
// the next hole's wait runs out, or the zero time if nothing is held.
func (b *reorderBuffer) expire(now time.Time, wait time.Duration, out func(*rtp.Packet)) time.Time {
	for b.held > 0 && now.Sub(b.holeAt) >= wait {
		for b.slots[b.next%reorderSlots] == nil {
			b.lost++
			b.next++
		}
		b.release(now, out)
	}
	if b.held == 0 {
		return time.Time{}
	}
	return b.holeAt.Add(wait)
}

// keyframeAsker spaces one track's keyframe requests. Having asked, it
// asks again only once a keyframe has begun to arrive since (and was lost
// on the way, or a later frame was), or after keyframeWait with none: the
// request or the whole keyframe may have been lost. It does not ask while
// the keyframe is on its way, which on a slow link takes longer than many
// frame intervals: each new request would make the sender start another.
type keyframeAsker struct {
	askedAt   time.Time // zero before the first request
	keyframes uint64    // keyframes begun when it last asked
}

// ask reports whether to request a keyframe at now, for a track on which
// keyframes have begun to arrive so far.
func (k *keyframeAsker) ask(now time.Time, rtt time.Duration, keyframes uint64) bool {
	if !k.askedAt.IsZero() && keyframes == k.keyframes && now.Sub(k.askedAt) < keyframeWait(rtt) {
		return false
	}
	k.askedAt, k.keyframes = now, keyframes
	return true
}

// keyframeWait is how long a keyframe request may go unanswered before it
// is sent again, on a link of the given round-trip time (0 if unknown): the
// round trip twice, and the time the sender may wait between keyframes,
// within bounds.
func keyframeWait(rtt time.Duration) time.Duration {
	return min(max(2*rtt+keyframeSpacing, 2*keyframeSpacing), 2*time.Second)
}
