package rtcbot

import (
	"encoding/binary"
	"image"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// requireVP8 skips the test in builds without the cgo codecs.
func requireVP8(t testing.TB) {
	t.Helper()
	requireVideoCodec(t, codecVP8)
}

// encodeVP8 encodes n frames of the test pattern at w x h with the real
// encoder: a keyframe, then delta frames.
func encodeVP8(t testing.TB, w, h, n int) [][]byte {
	t.Helper()
	enc, err := newVP8Encoder(w, h, 30, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pattern := timecode.NewPattern(w, h)
	var frames [][]byte
	for i := range n {
		frame, key, err := enc.Encode(pattern.Frame(uint32(i), time.Unix(0, 0)), time.Duration(i)*time.Second/30, false)
		if err != nil || len(frame) == 0 || key != (i == 0) {
			t.Fatalf("frame %d: %d bytes, keyframe %v, err %v", i, len(frame), key, err)
		}
		frames = append(frames, frame)
	}
	return frames
}

// rtpSender packetises VP8 frames as a sender does: consecutive sequence
// numbers, one timestamp per frame, the marker bit on each frame's last
// packet.
type rtpSender struct {
	pay codecs.VP8Payloader
	seq uint16
	ts  uint32
}

func (s *rtpSender) packets(frame []byte, mtu uint16) []packet {
	var out []packet
	payloads := s.pay.Payload(mtu, frame)
	for i, p := range payloads {
		out = append(out, packet{&rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: payloadVP8, SequenceNumber: s.seq, Timestamp: s.ts, Marker: i == len(payloads)-1},
			Payload: p,
		}})
		s.seq++
	}
	s.ts += 3000
	return out
}

// countingDecoder counts the frames handed to the real decoder.
type countingDecoder struct {
	VideoDecoder
	calls int
}

func (d *countingDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	d.calls++
	return d.VideoDecoder.Decode(frame)
}

// newTestAssembler returns an assembler around a real VP8 decoder that
// counts its calls, closed at the test's end.
func newTestAssembler(t testing.TB, maxFrame int) (*vp8Assembler, *countingDecoder) {
	t.Helper()
	dec, err := newVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	cd := &countingDecoder{VideoDecoder: dec}
	a := newVP8Assembler(cd, maxFrame)
	t.Cleanup(a.close)
	return a, cd
}

// pushFrame pushes the packets of one frame and returns the pictures
// emitted and whether the last push asked for a keyframe. It fails the test
// if a packet before the last asks for one.
func pushFrame(t *testing.T, a *vp8Assembler, pkts []packet) (imgs []image.Image, needKey bool) {
	t.Helper()
	for i, p := range pkts {
		needKey = a.push(p, func(img image.Image) { imgs = append(imgs, img) })
		if needKey && i < len(pkts)-1 {
			t.Fatalf("packet %d of %d asked for a keyframe", i, len(pkts))
		}
	}
	return imgs, needKey
}

// wantRecovers checks that a good keyframe of w x h decodes after what the
// test pushed before.
func wantRecovers(t *testing.T, a *vp8Assembler, s *rtpSender, key []byte, w, h int) {
	t.Helper()
	imgs, needKey := pushFrame(t, a, s.packets(key, 1200))
	if len(imgs) != 1 || needKey {
		t.Fatalf("good keyframe: %d pictures, keyframe requested %v", len(imgs), needKey)
	}
	if b := imgs[0].Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("good keyframe decoded to %v, want %dx%d", b, w, h)
	}
}

func TestVP8AssemblerDecodesStream(t *testing.T) {
	requireVP8(t)
	const w, h = 160, 120
	frames := encodeVP8(t, w, h, 5)
	a, dec := newTestAssembler(t, maxVP8FrameBytes)
	var s rtpSender
	for i, f := range frames {
		imgs, needKey := pushFrame(t, a, s.packets(f, 200)) // several packets a frame
		if len(imgs) != 1 || needKey {
			t.Fatalf("frame %d: %d pictures, keyframe requested %v", i, len(imgs), needKey)
		}
	}
	if dec.calls != len(frames) || a.count.decoded != uint64(len(frames)) || a.count.dropped() != 0 {
		t.Errorf("decoder calls %d, decoded %d, dropped %d; want %d, %d, 0", dec.calls, a.count.decoded, a.count.dropped(), len(frames), len(frames))
	}
}

// A peer that sends a frame's packets without end must not grow the buffer
// past the bound: the frame is dropped as soon as it is too large, and a
// keyframe is requested without waiting for the marker bit.
func TestVP8AssemblerFrameOverBound(t *testing.T) {
	requireVP8(t)
	const w, h = 160, 120
	key := encodeVP8(t, w, h, 1)[0]
	a, dec := newTestAssembler(t, maxVP8FrameBytes)
	var s rtpSender
	wantRecovers(t, a, &s, key, w, h)

	// A keyframe's first packet, then continuation packets (S=0) with the
	// same timestamp and no marker bit.
	chunk := make([]byte, 1200)
	first := append([]byte{0x10}, key...) // S=1, PID 0
	cont := append([]byte{0x00}, chunk...)
	asked := false
	sent := len(key)
	for n := 0; sent <= maxVP8FrameBytes+len(chunk); n++ {
		payload := cont
		if n == 0 {
			payload = first
		}
		p := packet{&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.seq, Timestamp: s.ts}, Payload: payload}}
		s.seq++
		if n > 0 {
			sent += len(chunk)
		}
		if a.push(p, func(image.Image) { t.Fatal("a frame over the bound was decoded") }) {
			if sent <= maxVP8FrameBytes {
				t.Fatalf("keyframe requested after %d bytes, within the bound", sent)
			}
			asked = true
		}
		if len(a.frame) > maxVP8FrameBytes || cap(a.frame) > 2*maxVP8FrameBytes {
			t.Fatalf("assembling %d bytes (capacity %d), bound %d", len(a.frame), cap(a.frame), maxVP8FrameBytes)
		}
	}
	if !asked {
		t.Fatal("no keyframe requested for a frame over the bound")
	}
	// The marker bit finally comes: the frame is still not decoded.
	p := packet{&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.seq, Timestamp: s.ts, Marker: true}, Payload: cont}}
	s.seq++
	s.ts += 3000
	if !a.push(p, func(image.Image) { t.Fatal("a frame over the bound was decoded") }) {
		t.Error("marker of a frame over the bound: no keyframe requested")
	}
	if dec.calls != 1 || a.count.dropped() != 1 {
		t.Errorf("decoder calls %d, dropped %d; want 1, 1", dec.calls, a.count.dropped())
	}
	wantRecovers(t, a, &s, key, w, h)
}

// withKeyframeSize returns a copy of a keyframe whose header declares
// another size.
func withKeyframeSize(key []byte, w, h uint16) []byte {
	out := append([]byte(nil), key...)
	binary.LittleEndian.PutUint16(out[6:], w)
	binary.LittleEndian.PutUint16(out[8:], h)
	return out
}

// Keyframes whose header is malformed or declares an empty or huge picture
// never reach the decoder: the frame is dropped and a keyframe requested.
func TestVP8AssemblerRefusesKeyframeHeaders(t *testing.T) {
	requireVP8(t)
	const w, h = 160, 120
	frames := encodeVP8(t, w, h, 2)
	key, delta := frames[0], frames[1]
	noStartCode := append([]byte(nil), key...)
	noStartCode[4] = 0x02
	tests := []struct {
		name  string
		frame []byte
	}{
		{"16383x16383", withKeyframeSize(key, 16383, 16383)},
		{"16383x16383 with scaling bits", withKeyframeSize(key, 0xffff, 0xffff)},
		{"4097x4096", withKeyframeSize(key, 4097, 4096)},
		{"0x0", withKeyframeSize(key, 0, 0)},
		{"160x0", withKeyframeSize(key, 160, 0)},
		{"0x120 with scaling bits", withKeyframeSize(key, 0xc000, 120)},
		{"no start code", noStartCode},
		{"truncated header", key[:9]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, dec := newTestAssembler(t, maxVP8FrameBytes)
			var s rtpSender
			wantRecovers(t, a, &s, key, w, h)
			imgs, needKey := pushFrame(t, a, s.packets(tc.frame, 1200))
			if len(imgs) != 0 || !needKey {
				t.Fatalf("%d pictures, keyframe requested %v; want none, true", len(imgs), needKey)
			}
			if dec.calls != 1 || a.count.dropped() != 1 {
				t.Fatalf("decoder calls %d, dropped %d; want 1 (the good keyframe), 1", dec.calls, a.count.dropped())
			}
			// Delta frames wait for the next keyframe.
			imgs, needKey = pushFrame(t, a, s.packets(delta, 1200))
			if len(imgs) != 0 || !needKey || dec.calls != 1 {
				t.Fatalf("delta frame after a refused keyframe: %d pictures, keyframe requested %v, decoder calls %d", len(imgs), needKey, dec.calls)
			}
			wantRecovers(t, a, &s, key, w, h)
		})
	}
}

// A decoder that returns a picture of another size than the keyframe
// declared is not believed.
func TestVP8AssemblerChecksDecodedSize(t *testing.T) {
	requireVP8(t)
	key := encodeVP8(t, 160, 120, 1)[0]
	a := newVP8Assembler(fixedDecoder{image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)}, maxVP8FrameBytes)
	var s rtpSender
	imgs, needKey := pushFrame(t, a, s.packets(key, 1200))
	if len(imgs) != 0 || !needKey || a.count.dropped() != 1 {
		t.Fatalf("%d pictures, keyframe requested %v, dropped %d; want none, true, 1", len(imgs), needKey, a.count.dropped())
	}
}

// A decoder may decode a frame to no picture (nil and no error): nothing
// is delivered and nothing is dropped, and the frames after it decode.
func TestVP8AssemblerNoPicture(t *testing.T) {
	requireVP8(t)
	frames := encodeVP8(t, 160, 120, 2)
	a := newVP8Assembler(fixedDecoder{nil}, maxVP8FrameBytes)
	var s rtpSender
	for i, f := range frames {
		imgs, needKey := pushFrame(t, a, s.packets(f, 1200))
		if len(imgs) != 0 || needKey || a.count.dropped() != 0 {
			t.Fatalf("frame %d: %d pictures, keyframe requested %v, dropped %d; want none, false, 0", i, len(imgs), needKey, a.count.dropped())
		}
	}
}

// fixedDecoder "decodes" every frame to the same picture.
type fixedDecoder struct{ img *image.YCbCr }

func (d fixedDecoder) Decode([]byte) (*image.YCbCr, error) { return d.img, nil }
func (d fixedDecoder) Close() error                        { return nil }

// fuzzMaxFrame is the assembler's bound in FuzzVP8Assembler, small enough
// for fuzz inputs to exceed and large enough for the seeds' real frames.
const fuzzMaxFrame = 16 << 10

// vp8FuzzInput frames a packet stream as FuzzVP8Assembler reads it: per
// packet a 5-byte header (sequence number delta as int8, timestamp delta in
// units of 3000 as uint8, flags with the marker in bit 0, payload length as
// big-endian uint16), then the payload.
func vp8FuzzInput(pkts []packet) []byte {
	var out []byte
	var seq uint16
	var ts uint32
	for i, p := range pkts {
		dseq, dts := byte(1), byte(0)
		if i > 0 {
			dseq, dts = byte(int8(p.SequenceNumber-seq)), byte((p.Timestamp-ts)/3000)
		}
		seq, ts = p.SequenceNumber, p.Timestamp
		flags := byte(0)
		if p.Marker {
			flags = 1
		}
		out = append(out, dseq, dts, flags)
		out = binary.BigEndian.AppendUint16(out, uint16(len(p.Payload)))
		out = append(out, p.Payload...)
	}
	return out
}

// FuzzVP8Assembler feeds the assembler and a real libvpx decoder an
// arbitrary packet stream (framed as vp8FuzzInput describes): it must not
// panic, every picture it emits has the size of the last keyframe and
// within maxVP8Pixels, and the frame being assembled never exceeds the
// bound.
func FuzzVP8Assembler(f *testing.F) {
	requireVP8(f)
	const w, h = 64, 48
	frames := encodeVP8(f, w, h, 4)
	var s rtpSender
	var stream []packet
	for _, fr := range frames {
		stream = append(stream, s.packets(fr, 300)...)
	}
	f.Add(vp8FuzzInput(stream))
	f.Add(vp8FuzzInput(append(append([]packet{}, stream[1:]...), stream[0]))) // keyframe's first packet last
	f.Add(vp8FuzzInput(s.packets(withKeyframeSize(frames[0], 16383, 16383), 1200)))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := newVP8Decoder()
		if err != nil {
			t.Fatal(err)
		}
		a := newVP8Assembler(dec, fuzzMaxFrame)
		defer a.close()
		var seq uint16
		var ts uint32
		for len(data) >= 5 {
			seq += uint16(int8(data[0]))
			ts += uint32(data[1]) * 3000
			marker := data[2]&1 == 1
			n := min(int(binary.BigEndian.Uint16(data[3:5])), len(data)-5)
			payload := data[5 : 5+n]
			data = data[5+n:]
			p := packet{&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: marker}, Payload: payload}}
			a.push(p, func(img image.Image) {
				b := img.Bounds()
				if b.Min != (image.Point{}) || b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > maxVP8Pixels {
					t.Fatalf("emitted a picture of %v", b)
				}
				if b.Dx() != a.width || b.Dy() != a.height {
					t.Fatalf("emitted %v after a keyframe of %dx%d", b, a.width, a.height)
				}
			})
			if len(a.frame) > fuzzMaxFrame {
				t.Fatalf("assembling %d bytes, bound %d", len(a.frame), fuzzMaxFrame)
			}
		}
	})
}
