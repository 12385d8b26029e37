//go:build cgo

package x264

import (
	"errors"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// pictures returns n consecutive frames of the moving test pattern at w x h.
func pictures(w, h, n int) []*image.YCbCr {
	p := timecode.NewPattern(w, h)
	t0 := time.UnixMilli(1_700_000_000_000)
	pics := make([]*image.YCbCr, n)
	for i := range pics {
		pics[i] = p.Frame(uint32(i), t0.Add(ptsOf(i, 30)))
	}
	return pics
}

// ptsOf returns the presentation time of frame n at fps.
func ptsOf(n, fps int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(fps)
}

func newEncoder(t testing.TB, s EncoderSettings) *Encoder {
	t.Helper()
	enc, err := NewEncoder(s)
	if err != nil {
		t.Fatalf("NewEncoder(%+v): %v", s, err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

// nalTypes returns the types of the NAL units in an Annex-B stream.
func nalTypes(stream []byte) []int {
	var types []int
	for _, nal := range nalUnits(stream) {
		types = append(types, int(nal[0]&0x1f))
	}
	return types
}

// sps is what the tests check of a sequence parameter set.
type sps struct {
	profileIDC  int
	constraints byte // constraint_set0..5 flags, set0 in the top bit
	levelIDC    int
	width       int
	height      int
}

// constrainedBaseline reports whether the SPS declares Constrained Baseline:
// Baseline (66) with constraint_set1 (ITU-T H.264 A.2.1.1; RFC 6184 counts
// profile_idc 66 with constraint_set1 as Constrained Baseline too).
func (s sps) constrainedBaseline() bool {
	return s.profileIDC == 66 && s.constraints&0x40 != 0
}

// findSPS returns the parsed SPS of an Annex-B stream.
func findSPS(stream []byte) (sps, error) {
	for _, nal := range nalUnits(stream) {
		if nal[0]&0x1f == nalSPS {
			return parseSPS(nal)
		}
	}
	return sps{}, errors.New("no SPS in stream")
}

// parseSPS parses the fields of a Baseline/Main SPS NAL unit (header
// included) up to the frame cropping, enough for the profile and size.
func parseSPS(nal []byte) (sps, error) {
	// Remove emulation prevention bytes (00 00 03 -> 00 00).
	var rbsp []byte
	zeros := 0
	for _, b := range nal[1:] {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		rbsp = append(rbsp, b)
	}
	if len(rbsp) < 4 {
		return sps{}, errors.New("SPS too short")
	}
	s := sps{profileIDC: int(rbsp[0]), constraints: rbsp[1], levelIDC: int(rbsp[2])}
	r := &bitReader{b: rbsp[3:]}
	r.ue() // seq_parameter_set_id
	switch s.profileIDC {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return s, fmt.Errorf("profile %d: high-profile SPS fields not parsed", s.profileIDC)
	}
	r.ue() // log2_max_frame_num_minus4
	switch pocType := r.ue(); pocType {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		return s, errors.New("pic_order_cnt_type 1 not parsed")
	}
	r.ue()    // max_num_ref_frames
	r.bits(1) // gaps_in_frame_num_value_allowed_flag
	wMbs := r.ue() + 1
	hMapUnits := r.ue() + 1
	frameMbsOnly := r.bits(1)
	if frameMbsOnly == 0 {
		r.bits(1) // mb_adaptive_frame_field_flag
	}
	r.bits(1) // direct_8x8_inference_flag
	s.width = wMbs * 16
	s.height = hMapUnits * 16 * (2 - frameMbsOnly)
	if r.bits(1) == 1 { // frame_cropping_flag; 4:2:0 crop units
		left, right, top, bottom := r.ue(), r.ue(), r.ue(), r.ue()
		s.width -= 2 * (left + right)
		s.height -= 2 * (2 - frameMbsOnly) * (top + bottom)
	}
	if r.err {
		return s, errors.New("SPS truncated")
	}
	return s, nil
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
