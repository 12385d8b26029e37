//go:build cgo

package avcodec

import (
	"bytes"
	"image"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to a fresh decoder and to one that has
// just decoded a real keyframe (so the input can be parsed as a slice that
// references it). Whatever decodes must be a consistent 4:2:0 picture
// within the size limit. The committed seeds in testdata/fuzz/FuzzDecode
// are real x264 access units (keyframes with SPS, PPS and SEI, P frames,
// parameter sets alone) and truncations and corruptions of them.
func FuzzDecode(f *testing.F) {
	const w, h = 64, 48
	pics := pictures(w, h, 3)
	aus := encode(f, pics, 0)
	key := aus[0]
	sps, pps, _ := splitKeyframe(f, key)
	var clean []*image.YCbCr
	ref := newDecoder(f)
	for _, au := range aus[:2] {
		img, err := ref.Decode(au)
		if err != nil || img == nil {
			f.Fatal(img, err)
		}
		clean = append(clean, img)
	}
	f.Add(key)
	f.Add(aus[1])
	f.Add(aus[2])
	f.Add(annexB(sps, pps))
	for _, n := range []int{5, 20, len(key) / 2, len(key) - 1} {
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
			if img == nil {
				return
			}
			r := img.Rect
			cw, ch := (r.Dx()+1)/2, (r.Dy()+1)/2
			if r.Min != (image.Point{}) || r.Empty() || r.Dx()*r.Dy() > maxDecodePixels ||
				img.SubsampleRatio != image.YCbCrSubsampleRatio420 ||
				len(img.Y) < r.Dx()*r.Dy() || len(img.Cb) < cw*ch || len(img.Cr) < cw*ch {
				t.Fatalf("inconsistent image: rect %v, planes %d/%d/%d", r, len(img.Y), len(img.Cb), len(img.Cr))
			}
		}
		d, err := NewH264Decoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		check(d.Decode(data))

		p, err := NewH264Decoder()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if img, err := p.Decode(key); err != nil || img == nil {
			t.Fatalf("keyframe: %v, %v", img, err)
		}
		check(p.Decode(data))
		// The decoder must still decode the real stream afterwards exactly
		// as a fresh decoder does, with no added delay (see
		// TestDecodeNoLatencyAfterGarbage, TestDecodeAfterCorruptSlice).
		for i, au := range aus[:2] {
			img, err := p.Decode(au)
			if err != nil || img == nil {
				t.Fatalf("frame %d after the input: %v, %v", i, img, err)
			}
			if !bytes.Equal(img.Y, clean[i].Y) || !bytes.Equal(img.Cb, clean[i].Cb) || !bytes.Equal(img.Cr, clean[i].Cr) {
				t.Fatalf("frame %d after the input differs from a clean decode (luma PSNR %.1f dB against the source)",
					i, lumaPSNR(pics[i], img))
			}
		}
	})
}
