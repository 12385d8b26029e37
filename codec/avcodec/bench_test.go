//go:build cgo

package avcodec

import (
	"fmt"
	"image"
	"testing"
)

// Run with: go test -run '^$' -bench . -benchmem ./codec/avcodec/
//
// BenchmarkDecode decodes a pre-encoded x264 sequence of 90 consecutive
// frames of the moving test pattern of package timecode (3 s at 30 fps, an
// IDR picture and then P pictures, at x264's default bitrate of 0.1 bit per
// pixel per frame, what rtcbot sends on a good link) over and over; the
// sequence starts with an IDR access unit, so the decoder can loop. ns/op
// is the time per frame. Each decoded picture is a new image the caller
// owns, as Decode promises.
func BenchmarkDecode(b *testing.B) {
	for _, size := range []image.Point{{320, 240}, {640, 480}, {1280, 720}} {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			w, h := size.X, size.Y
			aus := encode(b, pictures(w, h, 90), 0)
			d := newDecoder(b)
			bytes, n := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				au := aus[n%len(aus)]
				img, err := d.Decode(au)
				if err != nil || img == nil {
					b.Fatalf("frame %d: %v, %v", n, img, err)
				}
				bytes += len(au)
				n++
			}
			b.ReportMetric(float64(bytes)/float64(n), "bytes/frame")
		})
	}
}
