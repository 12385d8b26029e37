//go:build cgo

package x264

import (
	"bytes"
	"errors"
	"image"
	"slices"
	"sync"
	"testing"
)

func TestEncodePattern(t *testing.T) {
	for _, sz := range []image.Point{{320, 240}, {640, 480}} {
		t.Run("", func(t *testing.T) {
			const n, fps = 60, 30
			enc := newEncoder(t, EncoderSettings{Width: sz.X, Height: sz.Y})
			var steady int
			for i, pic := range pictures(sz.X, sz.Y, n) {
				frame, key, err := enc.Encode(pic, ptsOf(i, fps), false)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if len(frame) == 0 {
					t.Fatalf("frame %d: empty", i)
				}
				types := nalTypes(frame)
				if i == 0 {
					checkKeyframe(t, frame, key, sz)
					continue
				}
				if key || slices.Contains(types, nalIDR) || slices.Contains(types, nalSPS) {
					t.Errorf("frame %d: unrequested keyframe (NAL types %v, keyframe %v)", i, types, key)
				}
				if i >= 10 {
					steady += len(frame)
				}
			}
			// The default bitrate is 0.1 bits per pixel per frame. The pattern
			// is easy to predict, so x264 may spend less; it must not spend
			// much more.
			target := float64(sz.X*sz.Y) * 0.1 / 8
			avg := float64(steady) / (n - 10)
			t.Logf("%v: %.0f bytes per P frame, target %.0f", sz, avg, target)
			if avg < 0.2*target || avg > 1.3*target {
				t.Errorf("%v: %.0f bytes per frame, want about %.0f (0.2x..1.3x)", sz, avg, target)
			}
		})
	}
}

// checkKeyframe checks that frame is a keyframe that a decoder can start
// with: SPS, PPS, then IDR slices, Constrained Baseline at a level within
// 3.1 (what profile-level-id 42e01f allows), of the given size.
func checkKeyframe(t *testing.T, frame []byte, key bool, size image.Point) {
	t.Helper()
	types := nalTypes(frame)
	sp, pp, idr := slices.Index(types, nalSPS), slices.Index(types, nalPPS), slices.Index(types, nalIDR)
	if !key || sp < 0 || pp < sp || idr < pp {
		t.Fatalf("keyframe %v with NAL types %v, want SPS, PPS, then IDR", key, types)
	}
	if slices.Contains(types, nalSlice) {
		t.Errorf("keyframe with non-IDR slices: NAL types %v", types)
	}
	s, err := findSPS(frame)
	if err != nil {
		t.Fatalf("SPS: %v", err)
	}
	if !s.constrainedBaseline() {
		t.Errorf("SPS profile_idc %d, constraint flags %08b: not Constrained Baseline", s.profileIDC, s.constraints)
	}
	if s.levelIDC > 31 {
		t.Errorf("SPS level_idc %d, above the 3.1 of profile-level-id 42e01f", s.levelIDC)
	}
	if s.width != size.X || s.height != size.Y {
		t.Errorf("SPS size %dx%d, want %v", s.width, s.height, size)
	}
}

func TestBitrateFollowsFPS(t *testing.T) {
	// mediadevices gives x264 no frame rate (x264 then assumes 25 fps); the
	// Encoder scales the bitrate so that each frame gets Bitrate/FPS bits.
	const w, h, bitrate, n = 640, 480, 300_000, 90
	pics := pictures(w, h, n)
	for _, fps := range []int{10, 30, 60} {
		enc := newEncoder(t, EncoderSettings{Width: w, Height: h, FPS: fps, Bitrate: bitrate})
		total := 0
		for i, pic := range pics {
			frame, _, err := enc.Encode(pic, ptsOf(i, fps), false)
			if err != nil {
				t.Fatal(err)
			}
			if i >= 30 {
				total += len(frame)
			}
		}
		got := float64(total) / (n - 30) * 8 * float64(fps)
		t.Logf("%d fps: %.0f bit/s for a %d bit/s target", fps, got, bitrate)
		if got < 0.5*bitrate || got > 1.25*bitrate {
			t.Errorf("%d fps: %.0f bit/s, want about %d", fps, got, bitrate)
		}
	}
}

func TestForceKeyframe(t *testing.T) {
	const w, h = 320, 240
	enc := newEncoder(t, EncoderSettings{Width: w, Height: h})
	forced := map[int]bool{0: false, 10: true, 11: true, 20: true}
	for i, pic := range pictures(w, h, 30) {
		force := forced[i]
		frame, key, err := enc.Encode(pic, ptsOf(i, 30), force)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		_, want := forced[i]
		if key != want {
			t.Errorf("frame %d (forced %v): keyframe %v, want %v; NAL types %v", i, force, key, want, nalTypes(frame))
		}
		if key {
			checkKeyframe(t, frame, key, image.Pt(w, h))
		}
	}
}

func TestResize(t *testing.T) {
	enc := newEncoder(t, EncoderSettings{Width: 320, Height: 240})
	n := 0
	steps := []struct {
		size, encoded image.Point
		reinit        bool // the size changes: the first frame is a keyframe
	}{
		{image.Pt(320, 240), image.Pt(320, 240), true}, // the stream's first frame
		{image.Pt(640, 480), image.Pt(640, 480), true},
		{image.Pt(321, 241), image.Pt(320, 240), true}, // odd: last column and row dropped
		{image.Pt(320, 240), image.Pt(320, 240), false},
		{image.Pt(160, 120), image.Pt(160, 120), true},
	}
	for _, st := range steps {
		for i, pic := range pictures(st.size.X, st.size.Y, 5) {
			frame, key, err := enc.Encode(pic, ptsOf(n, 30), false)
			n++
			if err != nil {
				t.Fatalf("%v frame %d: %v", st.size, i, err)
			}
			if wantKey := i == 0 && st.reinit; key != wantKey {
				t.Errorf("%v frame %d: keyframe %v, want %v", st.size, i, key, wantKey)
			}
			if key {
				checkKeyframe(t, frame, key, st.encoded)
			}
		}
	}
}

func TestSubImage(t *testing.T) {
	// A sub-image has strides wider than the picture (and a non-zero
	// Rect.Min): the Encoder copies it into the layout x264 reads. x264 is
	// deterministic, so encoding the sub-image must give the same bytes as
	// encoding a packed copy of it.
	const w, h = 320, 240
	sub, packed := newEncoder(t, EncoderSettings{Width: w, Height: h}), newEncoder(t, EncoderSettings{Width: w, Height: h})
	for i, pic := range pictures(640, 480, 5) {
		src := pic.SubImage(image.Rect(100, 50, 100+w, 50+h)).(*image.YCbCr)
		cp := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		for y := range h {
			copy(cp.Y[y*cp.YStride:], src.Y[src.YOffset(100, 50+y):][:w])
		}
		for y := range h / 2 {
			copy(cp.Cb[y*cp.CStride:], src.Cb[src.COffset(100, 50+2*y):][:w/2])
			copy(cp.Cr[y*cp.CStride:], src.Cr[src.COffset(100, 50+2*y):][:w/2])
		}
		a, _, err := sub.Encode(src, ptsOf(i, 30), false)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := packed.Encode(cp, ptsOf(i, 30), false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("frame %d: sub-image encodes to %d bytes, its packed copy to %d different bytes", i, len(a), len(b))
		}
	}
}

func TestEncoderSettingsDefaults(t *testing.T) {
	s, err := EncoderSettings{}.resolve(640, 480)
	if err != nil {
		t.Fatal(err)
	}
	want := EncoderSettings{Width: 640, Height: 480, FPS: 30, Bitrate: 921_600, KeyframeInterval: 3000}
	if s != want {
		t.Errorf("defaults for 640x480: %+v, want %+v", s, want)
	}
	if got := s.x264Bitrate(); got != 768_000 {
		t.Errorf("bitrate handed to x264 at 30 fps: %d, want 921600*25/30 = 768000", got)
	}
	s, err = EncoderSettings{FPS: 10, Bitrate: 1000}.resolve(33, 31)
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != 32 || s.Height != 30 || s.x264Bitrate() != 2500 {
		t.Errorf("33x31 at 10 fps, 1000 bit/s: %+v, x264 bitrate %d", s, s.x264Bitrate())
	}
	s, _ = EncoderSettings{FPS: 1000, Bitrate: 1000}.resolve(16, 16)
	if s.x264Bitrate() != 1000 {
		t.Errorf("x264 bitrate %d, want at least 1000", s.x264Bitrate())
	}
	s, _ = EncoderSettings{}.resolve(16, 16)
	if s.Bitrate != minDefaultBitrate {
		t.Errorf("default bitrate for 16x16: %d, want %d", s.Bitrate, minDefaultBitrate)
	}
}

func TestNewEncoderInvalid(t *testing.T) {
	for _, s := range []EncoderSettings{
		{},
		{Width: 640},
		{Width: 1, Height: 480},
		{Width: -2, Height: 480},
		{Width: 16386, Height: 480},
		{Width: 640, Height: 480, Bitrate: -1},
		{Width: 640, Height: 480, Bitrate: 999},
		{Width: 640, Height: 480, Bitrate: 1 << 62},
		{Width: 640, Height: 480, FPS: -30},
		{Width: 640, Height: 480, FPS: 1001},
		{Width: 640, Height: 480, KeyframeInterval: -1},
		{Width: 640, Height: 480, KeyframeInterval: 1 << 30},
	} {
		if enc, err := NewEncoder(s); err == nil {
			enc.Close()
			t.Errorf("NewEncoder(%+v) succeeded", s)
		}
	}
}

func TestEncodeInvalidImage(t *testing.T) {
	enc := newEncoder(t, EncoderSettings{Width: 64, Height: 64})
	good := func() *image.YCbCr { return pictures(64, 64, 1)[0] }
	short := good()
	short.Y = short.Y[:len(short.Y)-1]
	shortCr := good()
	shortCr.Cr = shortCr.Cr[:10]
	narrow := good()
	narrow.YStride = 32
	for name, img := range map[string]*image.YCbCr{
		"nil":         nil,
		"444":         image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio444),
		"422":         image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio422),
		"empty":       image.NewYCbCr(image.Rect(0, 0, 0, 0), image.YCbCrSubsampleRatio420),
		"1 pixel":     image.NewYCbCr(image.Rect(0, 0, 1, 64), image.YCbCrSubsampleRatio420),
		"short plane": short,
		"short Cr":    shortCr,
		"narrow":      narrow,
	} {
		if _, _, err := enc.Encode(img, 0, false); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
	// The encoder still works afterwards.
	if frame, _, err := enc.Encode(good(), ptsOf(1, 30), false); err != nil || len(frame) == 0 {
		t.Errorf("Encode after invalid input: len %d, %v", len(frame), err)
	}
}

func TestSmallSizes(t *testing.T) {
	for _, sz := range []image.Point{{2, 2}, {3, 5}, {16, 16}, {18, 34}} {
		enc := newEncoder(t, EncoderSettings{Width: sz.X, Height: sz.Y})
		for i := range 3 {
			img := image.NewYCbCr(image.Rect(0, 0, sz.X, sz.Y), image.YCbCrSubsampleRatio420)
			for j := range img.Y {
				img.Y[j] = byte(j*7 + i*13)
			}
			frame, key, err := enc.Encode(img, ptsOf(i, 30), false)
			if err != nil || len(frame) == 0 {
				t.Fatalf("%v frame %d: len %d, %v", sz, i, len(frame), err)
			}
			if key {
				checkKeyframe(t, frame, key, image.Pt(sz.X&^1, sz.Y&^1))
			}
		}
	}
}

func TestEncoderClose(t *testing.T) {
	enc, err := NewEncoder(EncoderSettings{Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	pics := pictures(64, 64, 2)
	if _, _, err := enc.Encode(pics[0], 0, false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, _, err := enc.Encode(pics[1], ptsOf(1, 30), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v, want ErrClosed", err)
	}
	if _, _, err := enc.Encode(nil, 0, true); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode(nil) after Close: %v, want ErrClosed", err)
	}
}

func TestEncoderCloseWhileEncoding(t *testing.T) {
	enc, err := NewEncoder(EncoderSettings{Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	pics := pictures(320, 240, 2)
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
			if _, _, loopErr = enc.Encode(pics[i%2], ptsOf(i, 30), i%7 == 0); loopErr != nil {
				return
			}
		}
	}()
	<-started
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !errors.Is(loopErr, ErrClosed) {
		t.Errorf("Encode during Close ended with %v, want ErrClosed", loopErr)
	}
}

func TestNALUnits(t *testing.T) {
	stream := []byte{
		0, 0, 0, 1, 0x67, 1, 2, // SPS, 4-byte start code
		0, 0, 1, 0x68, 3, // PPS, 3-byte start code
		0, 0, 0, 0, 1, 0x65, 0, 0, 3, 0, 9, // IDR after a trailing zero; emulation prevention kept
		0, 0, 1, // an empty NAL unit at the end is dropped
	}
	got := nalUnits(stream)
	want := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 0, 0, 3, 0, 9}}
	if len(got) != len(want) {
		t.Fatalf("got %d NAL units %x, want %x", len(got), got, want)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("NAL %d: %x, want %x", i, got[i], want[i])
		}
	}
	if !hasIDR(stream) || hasIDR(stream[:12]) || hasIDR(nil) || len(nalUnits([]byte{0, 0})) != 0 {
		t.Error("hasIDR / nalUnits on edge cases")
	}
}

func TestKeyframeInterval(t *testing.T) {
	const w, h = 160, 120
	enc := newEncoder(t, EncoderSettings{Width: w, Height: h, KeyframeInterval: 10})
	var keys []int
	for i, pic := range pictures(w, h, 25) {
		frame, key, err := enc.Encode(pic, ptsOf(i, 30), false)
		if err != nil {
			t.Fatal(err)
		}
		if key {
			checkKeyframe(t, frame, key, image.Pt(w, h))
			keys = append(keys, i)
		}
	}
	if want := []int{0, 10, 20}; !slices.Equal(keys, want) {
		t.Errorf("keyframes at %v, want %v", keys, want)
	}
}

// SetBitrate lowers the bits x264 spends per frame at once, without a
// keyframe.
func TestEncoderSetBitrate(t *testing.T) {
	const w, h, n, fps = 640, 480, 120, 30
	enc := newEncoder(t, EncoderSettings{Width: w, Height: h, Bitrate: 2_000_000})
	var before, after int
	for i, pic := range pictures(w, h, n) {
		if i == n/2 {
			if err := enc.SetBitrate(200_000); err != nil {
				t.Fatal(err)
			}
		}
		frame, key, err := enc.Encode(pic, ptsOf(i, fps), false)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		switch {
		case i >= n/2 && key:
			t.Fatalf("frame %d: a keyframe after SetBitrate", i)
		case i >= 10 && i < n/2:
			before += len(frame)
		case i >= n-20: // rate control takes a second or so to settle
			after += len(frame)
		}
	}
	perBefore, perAfter := float64(before)/float64(n/2-10), float64(after)/20
	t.Logf("%.0f bytes per frame at 2 Mbit/s, %.0f at 200 kbit/s", perBefore, perAfter)
	// x264's rate control follows within seconds (its VBV buffer holds a
	// second): after two, well under half.
	if perAfter > perBefore/2 {
		t.Errorf("%.0f bytes per frame after lowering the bitrate tenfold, %.0f before", perAfter, perBefore)
	}
	if err := enc.SetBitrate(10); err == nil {
		t.Error("SetBitrate(10): no error")
	}
}
