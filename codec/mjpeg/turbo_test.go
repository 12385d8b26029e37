//go:build cgo

package mjpeg

import (
	"image"
	"testing"
)

// TestPlaneLayout: for every subsampling and size up to 40x40, the picture
// Decode allocates holds the planes libjpeg-turbo writes, and its chroma
// planes are exactly image.NewYCbCr's; at the even sizes webcams send, for
// 4:2:2 and 4:2:0, the luma plane is too.
func TestPlaneLayout(t *testing.T) {
	for samp, ratio := range ratios {
		for w := 1; w <= 40; w++ {
			for h := 1; h <= 40; h++ {
				img, err := newYCbCr(w, h, samp, ratio)
				if err != nil {
					t.Fatal(err)
				}
				want := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
				if img.Rect != want.Rect || img.SubsampleRatio != ratio || img.CStride != want.CStride ||
					len(img.Cb) < len(want.Cb) || len(img.Cr) < len(want.Cr) ||
					!fits(1, w, h, samp, want.CStride, len(want.Cb)) {
					t.Fatalf("%v %dx%d: chroma stride %d, want image.NewYCbCr's %d", ratio, w, h, img.CStride, want.CStride)
				}
				even := w%2 == 0 && h%2 == 0
				if even && (ratio == image.YCbCrSubsampleRatio422 || ratio == image.YCbCrSubsampleRatio420) &&
					(img.YStride != w || !fits(0, w, h, samp, want.YStride, len(want.Y))) {
					t.Fatalf("%v %dx%d: luma stride %d, want %d", ratio, w, h, img.YStride, w)
				}
			}
		}
	}
}
