//go:build cgo

package x264

import (
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// benchT0 is the capture time stamped into frame 0.
var benchT0 = time.UnixMilli(1_700_000_000_000)

// Run with: go test -run '^$' -bench . -benchmem ./codec/x264/
//
// BenchmarkEncode encodes consecutive frames of the moving test pattern of
// package timecode (what rtcbot's test-pattern camera sends), a new frame
// for every operation, at the default bitrate of 0.1 bit per pixel per
// frame at 30 fps, which is what rtcbot gives the encoder on a good link
// (VideoSettings.MaxBitrate's default). ns/op is the time per frame;
// drawing the pattern is not timed.
func BenchmarkEncode(b *testing.B) {
	for _, size := range []image.Point{{320, 240}, {640, 480}, {1280, 720}} {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			w, h := size.X, size.Y
			enc, err := NewEncoder(EncoderSettings{Width: w, Height: h})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			pattern := timecode.NewPattern(w, h)
			pic := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
			bytes, n := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := pattern.FrameInto(pic, uint32(n), benchT0.Add(ptsOf(n, 30))); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				frame, _, err := enc.Encode(pic, ptsOf(n, 30), false)
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(frame)
				n++
			}
			b.ReportMetric(float64(bytes)/float64(n), "bytes/frame")
		})
	}
}
