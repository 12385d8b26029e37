package rtcbot

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// pionDepacketise joins what pion's depacketiser makes of payloads: the
// reference h264Assembler.appendPayload is checked against.
func pionDepacketise(payloads [][]byte) ([]byte, bool) {
	var d codecs.H264Packet
	var out []byte
	for _, p := range payloads {
		nalus, err := d.Unmarshal(p)
		if err != nil {
			return nil, false
		}
		out = append(out, nalus...)
	}
	return out, true
}

// appendAll feeds payloads to a fresh assembler's appendPayload; it reports
// false if one was refused or a fragmented unit was left open.
func appendAll(payloads [][]byte, maxAU int) ([]byte, bool) {
	a := &h264Assembler{maxAU: maxAU}
	for _, p := range payloads {
		if !a.appendPayload(p) {
			return a.au, false
		}
		if len(a.au) > maxAU {
			panic("access unit over its bound")
		}
	}
	return a.au, !a.inFU
}

// randomAccessUnit returns an Annex-B access unit: SPS and PPS (sometimes),
// then slices of random sizes, some larger than an MTU.
func randomAccessUnit(r *rand.Rand) []byte {
	var au []byte
	nal := func(header byte, n int) {
		au = append(au, 0, 0, 0, 1, header)
		for range n {
			au = append(au, byte(r.IntN(256))|1) // no accidental start codes
		}
	}
	if r.IntN(2) == 0 {
		nal(0x67, 10+r.IntN(20)) // SPS
		nal(0x68, 3+r.IntN(5))   // PPS
		nal(0x65, 1+r.IntN(6000))
	} else {
		for range 1 + r.IntN(3) {
			nal(0x41, 1+r.IntN(3000))
		}
	}
	return au
}

// TestH264AppendPayloadMatchesPion packetises random access units with
// pion's payloader (single NAL units, STAP-A with the parameter sets, FU-A)
// at several MTUs and checks that the assembler rebuilds exactly what
// pion's depacketiser does.
func TestH264AppendPayloadMatchesPion(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		au := randomAccessUnit(r)
		mtu := []uint16{1200, 100, 20}[i%3]
		payloads := (&codecs.H264Payloader{}).Payload(mtu, au)
		want, ok := pionDepacketise(payloads)
		if !ok {
			t.Fatalf("access unit %d: pion refuses its own packets", i)
		}
		got, ok := appendAll(payloads, maxVP8FrameBytes)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("access unit %d (MTU %d, %d packets): ok %v, %d bytes, pion %d bytes", i, mtu, len(payloads), ok, len(got), len(want))
		}
	}
}

// TestH264AppendPayloadRefuses lists what the assembler refuses.
func TestH264AppendPayloadRefuses(t *testing.T) {
	fuStart := []byte{0x7c, 0x85, 1, 2} // FU-A, start of an IDR slice
	fuMiddle := []byte{0x7c, 0x05, 3}
	fuEnd := []byte{0x7c, 0x45, 4}
	for _, tc := range []struct {
		name     string
		payloads [][]byte
		maxAU    int
	}{
		{"empty payload", [][]byte{{}}, 1000},
		{"NAL type 0", [][]byte{{0x00, 1}}, 1000},
		{"STAP-B", [][]byte{{0x19, 0, 1, 0x41}}, 1000},
		{"MTAP16", [][]byte{{0x1a, 0, 1}}, 1000},
		{"FU-B", [][]byte{{0x1d, 0x85, 1}}, 1000},
		{"reserved type 30", [][]byte{{0x1e, 1}}, 1000},
		{"STAP-A unit longer than the packet", [][]byte{{0x18, 0, 5, 0x67, 1}}, 1000},
		{"FU-A without its header", [][]byte{{0x7c}}, 1000},
		{"FU-A continuation without a start", [][]byte{fuMiddle}, 1000},
		{"FU-A end without a start", [][]byte{fuEnd}, 1000},
		{"FU-A started twice", [][]byte{fuStart, fuStart}, 1000},
		{"single NAL unit inside an FU-A", [][]byte{fuStart, {0x41, 1}, fuEnd}, 1000},
		{"FU-A left open", [][]byte{fuStart, fuMiddle}, 1000},
		{"FU-A fragments of another type", [][]byte{fuStart, {0x7c, 0x41, 4}}, 1000},
		{"FU-A fragments of another NRI", [][]byte{fuStart, {0x5c, 0x45, 4}}, 1000},
		{"single NAL unit over the bound", [][]byte{{0x41, 1, 2, 3, 4, 5}}, 9},
		{"STAP-A over the bound", [][]byte{{0x18, 0, 3, 0x67, 1, 2, 0, 2, 0x68, 3}}, 12},
		{"FU-A fragment over the bound", [][]byte{fuStart, fuMiddle, fuMiddle, fuEnd}, 9},
	} {
		if _, ok := appendAll(tc.payloads, tc.maxAU); ok {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// Within the bound exactly.
	if au, ok := appendAll([][]byte{{0x41, 1, 2, 3, 4}}, 9); !ok || len(au) != 9 {
		t.Errorf("a 9-byte access unit within a bound of 9: ok %v, %d bytes", ok, len(au))
	}
	// A trailing byte after a STAP-A's last unit is ignored, as pion does.
	stap := [][]byte{{0x18, 0, 2, 0x67, 1, 0}}
	want, _ := pionDepacketise(stap)
	if got, ok := appendAll(stap, 1000); !ok || !bytes.Equal(got, want) {
		t.Errorf("STAP-A with a trailing byte: %x, %v; pion %x", got, ok, want)
	}
}

// TestH264AssemblerFUOpenAtMarker drops an access unit whose last packet
// leaves a fragmented NAL unit open, and asks for a keyframe.
func TestH264AssemblerFUOpenAtMarker(t *testing.T) {
	a := &h264Assembler{dec: failingDecoder{t}, maxAU: 1000}
	p := func(seq uint16, marker bool, payload []byte) packet {
		return packet{&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: 90, Marker: marker}, Payload: payload}}
	}
	emit := func(image.Image) { t.Fatal("emitted a picture") }
	if a.push(p(1, false, []byte{0x7c, 0x85, 1}), emit) {
		t.Fatal("a keyframe asked for mid-unit")
	}
	if !a.push(p(2, true, []byte{0x7c, 0x05, 2}), emit) {
		t.Fatal("no keyframe asked for after a unit left open")
	}
	if c := a.frames(); c.incomplete != 1 || c.decoded != 0 {
		t.Errorf("counts %+v, want one incomplete", c)
	}
}

// failingDecoder fails a test that decodes anything.
type failingDecoder struct{ t *testing.T }

func (d failingDecoder) Decode([]byte) (*image.YCbCr, error) {
	d.t.Fatal("decoded an access unit")
	return nil, nil
}

func (failingDecoder) Close() error { return nil }

// FuzzH264AppendPayload feeds the assembler arbitrary payloads (each
// behind a length byte): it must not panic nor exceed its bound, and
// whenever it accepts every payload (and no fragmented unit is left open),
// it must have rebuilt what pion's depacketiser does.
func FuzzH264AppendPayload(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		var in []byte
		au := randomAccessUnit(r)
		for _, p := range (&codecs.H264Payloader{}).Payload(60, au[:min(len(au), 200)]) {
			in = append(in, byte(len(p)))
			in = append(in, p...)
		}
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var payloads [][]byte
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			payloads = append(payloads, data[1:1+n])
			data = data[1+n:]
		}
		got, ok := appendAll(payloads, 4096)
		if len(got) > 4096 {
			t.Fatalf("access unit of %d bytes over a bound of 4096", len(got))
		}
		if !ok {
			return
		}
		if want, pionOK := pionDepacketise(payloads); !pionOK || !bytes.Equal(got, want) {
			t.Fatalf("rebuilt %x; pion %x (ok %v)", got, want, pionOK)
		}
	})
}
