package rtcbot

import (
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// reorderRun feeds a reorder buffer: each step is a packet to push (seq >= 0)
// or, for a negative value, a clock advance of that many milliseconds
// followed by expire. It returns the released sequence numbers.
func reorderRun(b *reorderBuffer, wait time.Duration, steps ...int) []uint16 {
	var out []uint16
	release := func(p *rtp.Packet) { out = append(out, p.SequenceNumber) }
	now := time.Unix(1000, 0)
	for _, s := range steps {
		if s < 0 {
			now = now.Add(time.Duration(-s) * time.Millisecond)
			b.expire(now, wait, release)
			continue
		}
		b.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(s)}}, now, release)
	}
	return out
}

func seqs(from, to int) []uint16 { // from..to inclusive, modulo 2^16
	var s []uint16
	for i := from; i <= to; i++ {
		s = append(s, uint16(i))
	}
	return s
}

func TestReorderBuffer(t *testing.T) {
	const wait = 50 * time.Millisecond
	tests := []struct {
		name                 string
		steps                []int
		want                 []uint16
		repaired, lost, late uint64
	}{
		{"in order passes straight through", []int{10, 11, 12, 13}, seqs(10, 13), 0, 0, 0},
		{"a reordered packet is put back", []int{1, 3, 2, 4}, seqs(1, 4), 1, 0, 0},
		{"a hole filled by a retransmission", []int{1, 2, 4, 5, 6, -20, 3, 7}, seqs(1, 7), 1, 0, 0},
		{"a hole given up after the wait", []int{1, 2, 4, 5, -60, 6, 3}, []uint16{1, 2, 4, 5, 6}, 0, 1, 1},
		{"two holes, each with its own wait", []int{1, 3, -30, 5, -30, -30}, []uint16{1, 3, 5}, 0, 2, 0},
		{"the second hole's wait ran meanwhile", []int{1, 3, -30, 5, -30}, []uint16{1, 3}, 0, 1, 0},
		// Holes found together wait together, not one after the other:
		// on a link losing many packets, waiting in series held frames
		// for seconds.
		{"holes found together expire together", []int{1, 3, 5, -60}, []uint16{1, 3, 5}, 0, 2, 0},
		{"the wait has not run out", []int{1, 3, -20}, []uint16{1}, 0, 0, 0},
		{"a duplicate is dropped", []int{1, 2, 2, 4, 4, 3}, seqs(1, 4), 1, 0, 2},
		{"wrap-around", []int{65534, 65535, 1, 0, 2}, []uint16{65534, 65535, 0, 1, 2}, 1, 0, 0},
		{"a jump beyond the slots gives up what is missing", []int{1, 3, 3 + reorderSlots}, []uint16{1, 3, 3 + reorderSlots}, 0, reorderSlots, 0}, // 2 and 4 to 2+reorderSlots
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b reorderBuffer
			got := reorderRun(&b, wait, tt.steps...)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("released %v, want %v", got, tt.want)
			}
			if b.repaired != tt.repaired || b.lost != tt.lost || b.late != tt.late {
				t.Fatalf("repaired %d, lost %d, late %d; want %d, %d, %d", b.repaired, b.lost, b.late, tt.repaired, tt.lost, tt.late)
			}
		})
	}
}

// A sender that restarts its numbering far behind is followed after a
// short run of packets that look late.
func TestReorderBufferFollowsRestart(t *testing.T) {
	var b reorderBuffer
	steps := []int{30000, 30001}
	for i := range reorderSlots / 8 {
		steps = append(steps, 100+i)
	}
	steps = append(steps, 100+reorderSlots/8)
	got := reorderRun(&b, time.Second, steps...)
	want := []uint16{30000, 30001, uint16(100 + reorderSlots/8 - 1), uint16(100 + reorderSlots/8)}
	if !slices.Equal(got, want) {
		t.Fatalf("released %v, want %v", got, want)
	}
}

func TestReorderWait(t *testing.T) {
	for _, tt := range []struct{ rtt, want time.Duration }{
		{0, 190 * time.Millisecond}, // unknown: as for 100 ms
		{time.Millisecond, 41500 * time.Microsecond},
		{50 * time.Millisecond, 115 * time.Millisecond},
		{time.Second, maxReorderWait},
	} {
		if got := reorderWait(tt.rtt); got != tt.want {
			t.Errorf("reorderWait(%v) = %v, want %v", tt.rtt, got, tt.want)
		}
	}
}

// Having asked for a keyframe, a receiver asks again only once a keyframe
// has begun to arrive since (and a frame was lost after all), or after
// keyframeWait with none: not for every frame skipped while the keyframe is
// on its way.
func TestKeyframeAskerSpacesRequests(t *testing.T) {
	const rtt = 100 * time.Millisecond
	var k keyframeAsker
	at := time.Unix(1000, 0)
	if !k.ask(at, rtt, 0) {
		t.Fatal("the first request was not sent")
	}
	asked := 1
	for i := 1; at.Add(time.Duration(i) * time.Second / 30).Before(time.Unix(1000, 0).Add(keyframeWait(rtt))); i++ {
		if k.ask(at.Add(time.Duration(i)*time.Second/30), rtt, 0) {
			asked++
		}
	}
	if asked != 1 {
		t.Errorf("%d requests within keyframeWait with no keyframe arriving, want 1", asked)
	}
	if !k.ask(at.Add(keyframeWait(rtt)), rtt, 0) {
		t.Error("no request after keyframeWait without a keyframe")
	}
	at = at.Add(keyframeWait(rtt))
	if !k.ask(at.Add(time.Millisecond), rtt, 1) {
		t.Error("no request at once when the keyframe that came was lost")
	}
	if k.ask(at.Add(2*time.Millisecond), rtt, 1) {
		t.Error("asked again before the new request could be answered")
	}
	if w := keyframeWait(0); w != 2*keyframeSpacing {
		t.Errorf("keyframeWait(unknown) = %v, want %v", w, 2*keyframeSpacing)
	}
	if w := keyframeWait(10 * time.Second); w != 2*time.Second {
		t.Errorf("keyframeWait(10 s) = %v, want the 2 s bound", w)
	}
}

// startsKeyframe recognises the first packet of an H.264 keyframe in each
// packetization: a parameter set alone, a STAP-A starting with one, and
// the first fragment of an IDR slice.
func TestStartsKeyframe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"SPS", []byte{0x67, 0x42}, true},
		{"IDR slice", []byte{0x65, 0x88}, true},
		{"P slice", []byte{0x41, 0x9a}, false},
		{"STAP-A with SPS", []byte{0x78, 0x00, 0x05, 0x67, 0x42}, true},
		{"STAP-A with a P slice", []byte{0x78, 0x00, 0x05, 0x41, 0x9a}, false},
		{"FU-A start of IDR", []byte{0x7c, 0x85}, true},
		{"FU-A middle of IDR", []byte{0x7c, 0x05}, false},
		{"FU-A start of P slice", []byte{0x7c, 0x81}, false},
		{"short", []byte{0x67}, false},
		{"short STAP-A", []byte{0x78, 0x00}, false},
	} {
		if got := startsKeyframe(tc.payload); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
