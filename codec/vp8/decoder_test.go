//go:build cgo

package vp8

import (
	"errors"
	"image"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestDecodeEmpty(t *testing.T) {
	d := newDecoder(t)
	for _, in := range [][]byte{nil, {}} {
		if img, err := d.Decode(in); err == nil || img != nil {
			t.Errorf("Decode(%#v) = %v, %v; want error", in, img, err)
		}
	}
}

func TestDecodeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := newDecoder(t)
	for i := range 500 {
		buf := make([]byte, rng.IntN(2000)+1)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		// No keyframe has been decoded yet and random bytes do not carry
		// the keyframe start code, so every one of these must fail.
		if img, err := d.Decode(buf); err == nil || img != nil {
			t.Fatalf("input %d (%d random bytes): decoded %v", i, len(buf), img.Rect)
		}
	}
}

func TestDecodeGarbageAfterKeyframe(t *testing.T) {
	// Random bytes after a real keyframe are parsed as inter frames; they
	// may or may not decode, but must not crash, and the next keyframe
	// must decode cleanly.
	key := encodeKeyframe(t, 160, 120)
	rng := rand.New(rand.NewPCG(3, 4))
	d := newDecoder(t)
	failed := 0
	for i := range 200 {
		if _, err := d.Decode(key); err != nil {
			t.Fatalf("keyframe after garbage %d: %v", i, err)
		}
		buf := make([]byte, rng.IntN(500)+1)
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		buf[0] |= 1 // inter frame
		if _, err := d.Decode(buf); err != nil {
			failed++
		}
	}
	t.Logf("%d of 200 random inter frames rejected", failed)
	if failed == 0 {
		t.Error("no random inter frame was rejected")
	}
}

func TestDecodeTruncated(t *testing.T) {
	key := encodeKeyframe(t, 320, 240)
	// Cut inside the frame header and first partition: libvpx must notice.
	for _, n := range []int{1, 2, 3, 5, 9, 10, 11, 20, 50} {
		d := newDecoder(t)
		if img, err := d.Decode(key[:n]); err == nil {
			t.Errorf("keyframe truncated to %d of %d bytes decoded to %v", n, len(key), img.Rect)
		}
	}
	// libvpx 1.12 rejects every truncation of this keyframe (checked for
	// every length); sample about 300 of them. Then any single corrupted
	// byte must not crash.
	d := newDecoder(t)
	for n := 1; n < len(key); n += max(len(key)/300, 1) {
		if img, err := d.Decode(key[:n]); err == nil {
			t.Errorf("keyframe truncated to %d of %d bytes decoded to %v", n, len(key), img.Rect)
		}
	}
	corrupt := make([]byte, len(key))
	for i := 0; i < len(key); i += max(len(key)/300, 1) {
		copy(corrupt, key)
		corrupt[i] ^= 0x5a
		_, _ = d.Decode(corrupt) // only checking that it does not crash
	}
	if img, err := d.Decode(key); err != nil || img.Rect.Size() != image.Pt(320, 240) {
		t.Errorf("intact keyframe after corrupt input: %v, %v", img, err)
	}
}

func TestDecoderClose(t *testing.T) {
	key := encodeKeyframe(t, 64, 64)
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode(key); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := d.Decode(key); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v, want ErrClosed", err)
	}
}

func TestDecoderCloseWhileDecoding(t *testing.T) {
	key := encodeKeyframe(t, 320, 240)
	d, err := NewDecoder()
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

// FuzzDecode feeds arbitrary bytes to a fresh decoder and, as an inter
// frame, to a decoder that has just decoded a real keyframe. Whatever
// decodes must be a consistent 4:2:0 picture.
func FuzzDecode(f *testing.F) {
	const w, h = 64, 48
	key := encodeKeyframe(f, w, h)
	enc, err := NewEncoder(EncoderSettings{Width: w, Height: h})
	if err != nil {
		f.Fatal(err)
	}
	_, _, _ = enc.Encode(testPicture(w, h, 0), 0, false)
	inter, _, err := enc.Encode(testPicture(w, h, 1), ptsOf(1, 30), false)
	enc.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key)
	f.Add(inter)
	for _, n := range []int{1, 3, 10, 20, len(key) / 2, len(key) - 1} {
		f.Add(key[:n])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(img *image.YCbCr, err error) {
			if err != nil {
				if img != nil {
					t.Fatalf("image %v returned with error %v", img.Rect, err)
				}
				return
			}
			r := img.Rect
			cw, ch := (r.Dx()+1)/2, (r.Dy()+1)/2
			if r.Min != (image.Point{}) || r.Empty() || img.SubsampleRatio != image.YCbCrSubsampleRatio420 ||
				len(img.Y) < r.Dx()*r.Dy() || len(img.Cb) < cw*ch || len(img.Cr) < cw*ch {
				t.Fatalf("inconsistent image: rect %v, planes %d/%d/%d", r, len(img.Y), len(img.Cb), len(img.Cr))
			}
		}
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		check(d.Decode(data))

		p, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Decode(key); err != nil {
			t.Fatal(err)
		}
		check(p.Decode(data))
	})
}

func TestDecodeHugeKeyframeRejected(t *testing.T) {
	key := encodeKeyframe(t, 64, 48)
	// Bytes 6..9 of a keyframe hold the 14-bit width and height (plus
	// scaling bits); declare 16383x16383.
	big := append([]byte(nil), key...)
	big[6], big[7], big[8], big[9] = 0xff, 0x3f, 0xff, 0x3f
	d := newDecoder(t)
	if img, err := d.Decode(big); err == nil {
		t.Fatalf("16383x16383 keyframe decoded to %v", img.Rect)
	} else if !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("unexpected error %v", err)
	}
	if _, err := d.Decode(key); err != nil {
		t.Errorf("valid keyframe after rejected one: %v", err)
	}
}
