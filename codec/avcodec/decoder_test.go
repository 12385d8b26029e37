//go:build cgo

package avcodec

import (
	"errors"
	"image"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// checkPicture checks that a decoded picture is frame seq of the pattern
// want: same size, time code readable, luma PSNR at least 30 dB.
func checkPicture(t *testing.T, i int, want, got *image.YCbCr, seq uint32) float64 {
	t.Helper()
	if got == nil {
		t.Fatalf("frame %d: no picture", i)
	}
	if got.Rect != want.Rect || got.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("frame %d: decoded %v %v, want %v 4:2:0", i, got.Rect, got.SubsampleRatio, want.Rect)
	}
	if s, err := timecode.Read(got); err != nil || s.Seq != seq {
		t.Errorf("frame %d: time code %+v, %v; want sequence %d", i, s, err, seq)
	}
	p := lumaPSNR(want, got)
	if p < 30 {
		t.Errorf("frame %d: luma PSNR %.1f dB, want >= 30", i, p)
	}
	return p
}

// TestDecodePattern decodes x264 streams of the moving pattern, with a
// keyframe every 20 frames, and checks every picture after the whole
// stream is decoded (so a picture aliasing FFmpeg's buffers would show).
func TestDecodePattern(t *testing.T) {
	// 322x242 is encoded as 322x242 in 21x16 macroblocks, cropped.
	for _, sz := range []image.Point{{320, 240}, {640, 480}, {322, 242}} {
		t.Run("", func(t *testing.T) {
			const n = 45
			pics := pictures(sz.X, sz.Y, n)
			aus := encode(t, pics, 20)
			d := newDecoder(t)
			got := make([]*image.YCbCr, n)
			for i, au := range aus {
				img, err := d.Decode(au)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				got[i] = img
			}
			worst := 99.0
			for i := range got {
				worst = min(worst, checkPicture(t, i, pics[i], got[i], uint32(i)))
			}
			t.Logf("%v: %d frames, worst luma PSNR %.1f dB", sz, n, worst)
		})
	}
}

// TestDecodeSizeChange switches the stream to a new size at a keyframe.
func TestDecodeSizeChange(t *testing.T) {
	small, big := pictures(320, 240, 10), pictures(640, 480, 10)
	a, b := encode(t, small, 0), encode(t, big, 0)
	d := newDecoder(t)
	for i := range 20 {
		au, want := a[i%10], small[i%10]
		if i >= 10 {
			au, want = b[i%10], big[i%10]
		}
		img, err := d.Decode(au)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		checkPicture(t, i, want, img, uint32(i%10))
	}
}

func TestDecodeParameterSetsOnly(t *testing.T) {
	pics := pictures(320, 240, 2)
	aus := encode(t, pics, 0)
	sps, pps, slices := splitKeyframe(t, aus[0])
	d := newDecoder(t)
	for _, au := range [][]byte{annexB(sps), annexB(sps, pps), annexB(pps)} {
		if img, err := d.Decode(au); img != nil || err != nil {
			t.Fatalf("parameter sets only: %v, %v; want nil, nil", img, err)
		}
	}
	// The IDR slices alone now decode with the parameter sets seen before,
	// and so does the next frame.
	img, err := d.Decode(annexB(slices...))
	if err != nil {
		t.Fatal(err)
	}
	checkPicture(t, 0, pics[0], img, 0)
	img, err = d.Decode(aus[1])
	if err != nil {
		t.Fatal(err)
	}
	checkPicture(t, 1, pics[1], img, 1)
}

// TestDecodeNoLatencyAfterGarbage: a garbage SPS that declares reordering
// (or whose P slice jumps in picture order) raises FFmpeg's reorder depth,
// which never falls by itself; every later picture would come out one
// access unit late. The next IDR must restore immediate output. The input
// is what FuzzDecode found (testdata/fuzz/FuzzDecode/b7223413e4d68d84).
func TestDecodeNoLatencyAfterGarbage(t *testing.T) {
	garbage := []byte("\x00\x00\x01'000\xda2\xe8\f7\xa8\x00\x00\x01(\xce1\x00\x00\x01A100")
	pics := pictures(64, 48, 10)
	aus := encode(t, pics, 5)
	d := newDecoder(t)
	for round := range 3 {
		for i, au := range aus {
			img, err := d.Decode(au)
			if err != nil {
				t.Fatalf("round %d, frame %d: %v", round, i, err)
			}
			checkPicture(t, i, pics[i], img, uint32(i))
		}
		if img, err := d.Decode(garbage); img != nil {
			t.Fatalf("garbage decoded to %v (%v)", img.Rect, err)
		}
		// The next round starts with an IDR.
	}
}

// TestDecodeAfterCorruptSlice: after these corrupt slices (which Decode
// rejects), FFmpeg 5.1 decodes the next IDR picture wrongly even after
// avcodec_flush_buffers: one 4x4 luma block differs, or most of the
// picture (17.7 dB). FuzzDecode found them. Decode replaces the FFmpeg
// decoder at every IDR, so the IDR must decode bit-exactly.
func TestDecodeAfterCorruptSlice(t *testing.T) {
	pics := pictures(64, 48, 1)
	key := encode(t, pics, 0)[0]
	ref, err := newDecoder(t).Decode(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, garbage := range []string{
		"\x00\x00\x01%#\x84\x04(1\v\x830\x000A10$1z0",                       // IDR slice (testdata/fuzz/FuzzDecode/69a0fc7207fa8730)
		"\x00\x00\x01A7A$n1,ABA\x82\xca0a1000",                              // P slice (f5acad0972833707)
		"\x00\x00\x01A7C2\xf1\xb0z\xb69\xe4x20\x8e\x1e)UY8\b\x00 000000000", // P slice (cfabae1153ced3b6)
	} {
		d := newDecoder(t)
		if _, err := d.Decode(key); err != nil {
			t.Fatal(err)
		}
		if img, err := d.Decode([]byte(garbage)); err == nil || img != nil {
			t.Errorf("corrupt slice %q: %v, %v; want an error", garbage, img, err)
		}
		for i := range 2 {
			img, err := d.Decode(key)
			if err != nil || img == nil {
				t.Fatalf("keyframe %d after %q: %v, %v", i, garbage, img, err)
			}
			diff := 0
			for j := range ref.Y {
				if img.Y[j] != ref.Y[j] {
					diff++
				}
			}
			t.Logf("keyframe %d after %q: %d luma samples differ from a clean decode, PSNR %.1f dB (clean %.1f dB)",
				i, garbage, diff, lumaPSNR(pics[0], img), lumaPSNR(pics[0], ref))
			if diff != 0 {
				t.Errorf("keyframe %d after %q: %d luma samples differ from a clean decode", i, garbage, diff)
			}
		}
	}
}

func TestDecodeEmpty(t *testing.T) {
	d := newDecoder(t)
	for _, in := range [][]byte{nil, {}} {
		if img, err := d.Decode(in); err == nil || img != nil {
			t.Errorf("Decode(%#v) = %v, %v; want error", in, img, err)
		}
	}
}

// TestDecodeDeltaBeforeIDR starts decoding in the middle of a stream: the
// P frames before the first keyframe give an error or no picture, and the
// stream decodes from the keyframe on.
func TestDecodeDeltaBeforeIDR(t *testing.T) {
	pics := pictures(320, 240, 20)
	aus := encode(t, pics, 10)
	sps, pps, _ := splitKeyframe(t, aus[0])
	d := newDecoder(t)
	// Without parameter sets, then with them (as a receiver that got the
	// SPS and PPS of an earlier keyframe but lost its slices).
	for i := 1; i < 10; i++ {
		if i == 5 {
			if img, err := d.Decode(annexB(sps, pps)); img != nil || err != nil {
				t.Fatalf("parameter sets: %v, %v", img, err)
			}
		}
		img, err := d.Decode(aus[i])
		if img != nil {
			t.Fatalf("P frame %d before any IDR decoded to %v", i, img.Rect)
		}
		t.Logf("P frame %d before any IDR: %v", i, err)
	}
	for i := 10; i < 20; i++ {
		img, err := d.Decode(aus[i])
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		checkPicture(t, i, pics[i], img, uint32(i))
	}
}

func TestDecodeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := newDecoder(t)
	errs := 0
	for i := range 1000 {
		buf := make([]byte, rng.IntN(2000)+1)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if i%2 == 1 { // a NAL unit of random type and content
			buf = append([]byte{0, 0, 0, 1}, buf...)
		}
		img, err := d.Decode(buf)
		if img != nil {
			t.Fatalf("input %d (%d random bytes): decoded %v", i, len(buf), img.Rect)
		}
		if err != nil {
			errs++
		}
	}
	t.Logf("%d of 1000 random inputs rejected with an error, the others gave no picture", errs)
	if errs < 900 {
		t.Errorf("only %d of 1000 random inputs rejected", errs)
	}
}

// TestDecodeGarbageAfterKeyframe feeds random slices (P and IDR NAL
// headers, random payload) to a decoder that has a reference picture: they
// may decode or not, but must not crash, and the next keyframe must decode.
func TestDecodeGarbageAfterKeyframe(t *testing.T) {
	pics := pictures(320, 240, 1)
	key := encode(t, pics, 0)[0]
	rng := rand.New(rand.NewPCG(3, 4))
	d := newDecoder(t)
	failed := 0
	for i := range 200 {
		img, err := d.Decode(key)
		if err != nil {
			t.Fatalf("keyframe after garbage %d: %v", i, err)
		}
		checkPicture(t, i, pics[0], img, 0)
		buf := make([]byte, rng.IntN(800)+2)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		buf[0] = []byte{0x41, 0x21, 0x65, 0x25}[i%4] // P or IDR slice, nal_ref_idc 1..3
		if _, err := d.Decode(annexB(buf)); err != nil {
			failed++
		}
	}
	t.Logf("%d of 200 random slices rejected", failed)
	if failed == 0 {
		t.Error("no random slice was rejected")
	}
}

func TestDecodeTruncated(t *testing.T) {
	pics := pictures(320, 240, 2)
	aus := encode(t, pics, 0)
	key := aus[0]
	// Offset of the IDR slice's payload; before it (SPS, PPS and x264's
	// SEI) a truncated access unit has no slice and may give no picture
	// and no error.
	slice := -1
	for i := 0; i+4 < len(key); i++ {
		if key[i] == 0 && key[i+1] == 0 && key[i+2] == 1 && key[i+3]&0x1f == nalIDR {
			slice = i + 4
			break
		}
	}
	if slice < 0 {
		t.Fatal("no IDR slice in the keyframe")
	}
	d := newDecoder(t)
	step := max(len(key)/300, 1)
	for n := 1; n < len(key); n += step {
		img, err := d.Decode(key[:n])
		if img != nil {
			t.Fatalf("keyframe truncated to %d of %d bytes decoded to %v", n, len(key), img.Rect)
		}
		if n > slice && err == nil {
			t.Errorf("keyframe truncated to %d of %d bytes (inside the slice): no error", n, len(key))
		}
	}
	if img, err := d.Decode(key); err != nil {
		t.Fatalf("intact keyframe after truncated ones: %v", err)
	} else {
		checkPicture(t, 0, pics[0], img, 0)
	}
	// Truncated P frames after a good keyframe.
	p := aus[1]
	for n := 1; n < len(p); n += max(len(p)/100, 1) {
		if _, err := d.Decode(key); err != nil {
			t.Fatal(err)
		}
		if img, err := d.Decode(p[:n]); img != nil || (n > 6 && err == nil) {
			t.Errorf("P frame truncated to %d of %d bytes: %v, %v; want an error", n, len(p), img, err)
		}
	}
	// Any single corrupted byte must not crash.
	corrupt := make([]byte, len(key))
	for i := 0; i < len(key); i += step {
		copy(corrupt, key)
		corrupt[i] ^= 0x5a
		_, _ = d.Decode(corrupt)
	}
	if img, err := d.Decode(key); err != nil {
		t.Errorf("intact keyframe after corrupt input: %v", err)
	} else {
		checkPicture(t, 0, pics[0], img, 0)
	}
}

// TestDecodeHugeSPSRefused declares 8192x8192 in a real SPS (the slices
// belong to a 64x48 picture): the decoder must refuse before allocating
// the picture, and decode the real stream afterwards.
func TestDecodeHugeSPSRefused(t *testing.T) {
	pics := pictures(64, 48, 1)
	key := encode(t, pics, 0)[0]
	sps, pps, slices := splitKeyframe(t, key)
	for _, c := range []struct {
		size image.Point
		ours bool // refused by this package, not by FFmpeg's SPS parser
	}{
		{image.Pt(8192, 8192), true},
		{image.Pt(4096, 4112), true},
		{image.Pt(1024, 16400), true},
		// FFmpeg drops an SPS whose picture exceeds its own limit (about
		// 2^28 pixels) while parsing it; the slices then refer to an SPS
		// the decoder does not have.
		{image.Pt(16384, 16384), false},
	} {
		sz := c.size
		big, err := resizeSPS(sps, sz.X, sz.Y)
		if err != nil {
			t.Fatal(err)
		}
		d := newDecoder(t)
		img, err := d.Decode(annexB(append([][]byte{big, pps}, slices...)...))
		if err == nil || img != nil {
			t.Fatalf("%v SPS: %v, %v; want an error", sz, img, err)
		}
		if c.ours != strings.Contains(err.Error(), "exceeds") {
			t.Errorf("%v SPS: unexpected error %v", sz, err)
		}
		t.Logf("%v SPS: %v", sz, err)
		img, err = d.Decode(key)
		if err != nil {
			t.Fatalf("valid keyframe after the %v SPS: %v", sz, err)
		}
		checkPicture(t, 0, pics[0], img, 0)
	}
}

// TestDecodeLimit decodes real streams at the size limit and just above it.
func TestDecodeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 4096x4096 pictures")
	}
	d := newDecoder(t)
	pics := pictures(4096, 4096, 1)
	img, err := d.Decode(encode(t, pics, 0)[0])
	if err != nil {
		t.Fatalf("4096x4096: %v", err)
	}
	checkPicture(t, 0, pics[0], img, 0)
	// 4080x4112 is within the limit, but FFmpeg counts its width rounded
	// up to 4096 when it checks max_pixels for the buffers.
	pics = pictures(4080, 4112, 1)
	img, err = d.Decode(encode(t, pics, 0)[0])
	if err != nil {
		t.Fatalf("4080x4112: %v", err)
	}
	checkPicture(t, 0, pics[0], img, 0)
	img, err = d.Decode(encode(t, pictures(4096, 4112, 1), 0)[0])
	if err == nil || img != nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("4096x4112: %v, %v; want the size refused", img, err)
	}
}

func TestDecoderClose(t *testing.T) {
	key := encode(t, pictures(64, 64, 1), 0)[0]
	d, err := NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	if img, err := d.Decode(key); err != nil || img == nil {
		t.Fatal(img, err)
	}
	for range 2 {
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if img, err := d.Decode(key); !errors.Is(err, ErrClosed) || img != nil {
		t.Errorf("Decode after Close: %v, %v; want ErrClosed", img, err)
	}
}

func TestDecoderCloseWhileDecoding(t *testing.T) {
	key := encode(t, pictures(320, 240, 1), 0)[0]
	d, err := NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var wg sync.WaitGroup
	var loopErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			if i == 3 {
				close(started)
			}
			if _, loopErr = d.Decode(key); loopErr != nil {
				return
			}
		}
	}()
	<-started
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !errors.Is(loopErr, ErrClosed) {
		t.Errorf("Decode during Close ended with %v, want ErrClosed", loopErr)
	}
}

func TestScanNALs(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want bool // parameter sets only
		idr  int
	}{
		{nil, false, 0},
		{[]byte{1, 2, 3}, false, 0},
		{[]byte{0, 0, 1}, false, 0},
		{[]byte{0, 0, 1, 0x67, 1, 2}, true, 0},
		{[]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 5}, true, 0},
		{[]byte{0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 5}, true, 0}, // AUD, SEI
		{[]byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 5}, false, 1},   // IDR slice
		{[]byte{0, 0, 1, 0x41, 1}, false, 0},                     // P slice
		{[]byte{0, 0, 1, 0xe7, 1}, false, 0},                     // forbidden bit
		{[]byte{0, 0, 1, 0x7f, 1}, false, 0},                     // type 31
		{[]byte{0, 0, 1, 0x60, 1}, false, 0},                     // type 0
		{[]byte{0, 0, 1, 0}, false, 0},                           // a zero header, then nothing (FuzzDecode)
		{[]byte{0, 0, 1, 0, 0, 0, 1, 0x67, 0}, false, 0},
	} {
		if idr, got, _ := scanNALs(c.in); got != c.want || idr != c.idr {
			t.Errorf("scanNALs(% x) = %v, %v; want %v, %v", c.in, idr, got, c.idr, c.want)
		}
	}
}

func TestResizeSPS(t *testing.T) {
	// The test helper itself: a resized SPS must parse back to the new size
	// and keep the fields after the size.
	key := encode(t, pictures(64, 48, 1), 0)[0]
	sps, _, _ := splitKeyframe(t, key)
	same, err := resizeSPS(sps, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	if string(same) != string(sps) {
		t.Errorf("resizing to the same size changed the SPS:\n% x\n% x", sps, same)
	}
}
