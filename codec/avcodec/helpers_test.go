//go:build cgo

package avcodec

import (
	"errors"
	"image"
	"math"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/codec/x264"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// t0 is the capture time of frame 0 of the test sequences.
var t0 = time.UnixMilli(1_700_000_000_000)

// ptsOf returns the presentation time of frame n at fps.
func ptsOf(n, fps int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(fps)
}

// pictures returns n consecutive frames of the moving timecode pattern at
// w x h, frame i with sequence number i.
func pictures(w, h, n int) []*image.YCbCr {
	p := timecode.NewPattern(w, h)
	pics := make([]*image.YCbCr, n)
	for i := range pics {
		pics[i] = p.Frame(uint32(i), t0.Add(ptsOf(i, 30)))
	}
	return pics
}

// encode encodes pics with x264 at 30 fps, a keyframe every keyInterval
// frames (0: only the first), and returns one access unit per picture.
func encode(t testing.TB, pics []*image.YCbCr, keyInterval int) [][]byte {
	t.Helper()
	r := pics[0].Rect
	enc, err := x264.NewEncoder(x264.EncoderSettings{Width: r.Dx(), Height: r.Dy()})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	aus := make([][]byte, len(pics))
	for i, pic := range pics {
		force := keyInterval > 0 && i > 0 && i%keyInterval == 0
		au, key, err := enc.Encode(pic, ptsOf(i, 30), force)
		if err != nil {
			t.Fatalf("encode frame %d: %v", i, err)
		}
		if want := i == 0 || force; key != want {
			t.Fatalf("frame %d: keyframe %v, want %v", i, key, want)
		}
		aus[i] = au
	}
	return aus
}

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// lumaPSNR returns the luma PSNR in dB of got against want (same size).
func lumaPSNR(want, got *image.YCbCr) float64 {
	var sse float64
	w, h := want.Rect.Dx(), want.Rect.Dy()
	for y := range h {
		for x := range w {
			d := float64(want.Y[want.YOffset(want.Rect.Min.X+x, want.Rect.Min.Y+y)]) - float64(got.Y[y*got.YStride+x])
			sse += d * d
		}
	}
	if sse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255*float64(w*h)/sse)
}

// NAL unit types used here (ITU-T H.264 table 7-1).
const (
	nalSlice = 1
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
)

// nalUnits splits an Annex-B stream at its start codes and returns the
// non-empty NAL units, without start codes.
func nalUnits(stream []byte) [][]byte {
	var nals [][]byte
	start, zeros := -1, 0
	for i, b := range stream {
		switch {
		case b == 0:
			zeros++
			continue
		case b == 1 && zeros >= 2:
			if start >= 0 {
				if end := i - zeros; end > start {
					nals = append(nals, stream[start:end])
				}
			}
			start = i + 1
		}
		zeros = 0
	}
	if start >= 0 && start < len(stream) {
		nals = append(nals, stream[start:])
	}
	return nals
}

// annexB joins NAL units with four-byte start codes.
func annexB(nals ...[]byte) []byte {
	var out []byte
	for _, n := range nals {
		out = append(out, 0, 0, 0, 1)
		out = append(out, n...)
	}
	return out
}

// splitKeyframe returns the SPS, the PPS and the rest (the IDR slices and
// whatever else) of a keyframe access unit.
func splitKeyframe(t testing.TB, au []byte) (sps, pps []byte, rest [][]byte) {
	t.Helper()
	for _, n := range nalUnits(au) {
		switch n[0] & 0x1f {
		case nalSPS:
			sps = n
		case nalPPS:
			pps = n
		default:
			rest = append(rest, n)
		}
	}
	if sps == nil || pps == nil || len(rest) == 0 {
		t.Fatalf("access unit without SPS, PPS and slices: %d NAL units", len(nalUnits(au)))
	}
	return sps, pps, rest
}

// resizeSPS returns a copy of a Baseline SPS NAL unit (as x264 writes it:
// pic_order_cnt_type 0 or 2, no frame cropping) that declares a w x h
// picture (multiples of 16) instead. Every other field keeps its bits.
func resizeSPS(sps []byte, w, h int) ([]byte, error) {
	rbsp := unescape(sps[1:])
	if len(rbsp) < 4 || rbsp[0] != 66 {
		return nil, errors.New("not a Baseline SPS")
	}
	r := &bitReader{b: rbsp, pos: 24}
	r.ue() // seq_parameter_set_id
	r.ue() // log2_max_frame_num_minus4
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 2:
	default:
		return nil, errors.New("pic_order_cnt_type 1 not handled")
	}
	r.ue()    // max_num_ref_frames
	r.bits(1) // gaps_in_frame_num_value_allowed_flag
	sizeAt := r.pos
	r.ue() // pic_width_in_mbs_minus1
	r.ue() // pic_height_in_map_units_minus1
	if r.bits(1) != 1 {
		return nil, errors.New("frame_mbs_only_flag 0 not handled")
	}
	r.bits(1) // direct_8x8_inference_flag
	if r.bits(1) != 0 {
		return nil, errors.New("frame cropping not handled")
	}
	restAt := sizeAt
	{
		q := &bitReader{b: rbsp, pos: sizeAt}
		q.ue()
		q.ue()
		restAt = q.pos
	}
	if r.err {
		return nil, errors.New("SPS truncated")
	}
	var bw bitWriter
	src := &bitReader{b: rbsp}
	for range sizeAt {
		bw.bit(src.bits(1))
	}
	bw.ue(w/16 - 1)
	bw.ue(h/16 - 1)
	// The rest of the SPS, through the rbsp_stop_one_bit and its alignment
	// zeros; drop the zero bits left over at the end, then realign.
	src.pos = restAt
	var tail []int
	for src.pos < 8*len(rbsp) {
		tail = append(tail, src.bits(1))
	}
	for len(tail) > 0 && tail[len(tail)-1] == 0 {
		tail = tail[:len(tail)-1]
	}
	for _, b := range tail {
		bw.bit(b)
	}
	for bw.n%8 != 0 {
		bw.bit(0)
	}
	return append([]byte{sps[0]}, escape(bw.b)...), nil
}

// unescape removes emulation prevention bytes (00 00 03 -> 00 00).
func unescape(nal []byte) []byte {
	var out []byte
	zeros := 0
	for _, b := range nal {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, b)
	}
	return out
}

// escape inserts emulation prevention bytes.
func escape(rbsp []byte) []byte {
	var out []byte
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, b)
	}
	return out
}

// bitReader reads an RBSP MSB first.
type bitReader struct {
	b   []byte
	pos int // in bits
	err bool
}

func (r *bitReader) bits(n int) int {
	v := 0
	for range n {
		if r.pos >= 8*len(r.b) {
			r.err = true
			return 0
		}
		v = v<<1 | int(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// ue reads an unsigned Exp-Golomb code.
func (r *bitReader) ue() int {
	zeros := 0
	for r.bits(1) == 0 {
		if r.err || zeros > 31 {
			r.err = true
			return 0
		}
		zeros++
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

// bitWriter writes bits MSB first.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) bit(v int) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	if v != 0 {
		w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
	}
	w.n++
}

// ue writes an unsigned Exp-Golomb code.
func (w *bitWriter) ue(v int) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	for range n {
		w.bit(0)
	}
	for i := n; i >= 0; i-- {
		w.bit(v >> i & 1)
	}
}
