//go:build cgo

package vp8

import (
	"fmt"
	"image"
	"math"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// Run with: go test -run '^$' -bench . -benchmem ./codec/vp8/
//
// The benchmarks work on the moving test pattern of package timecode (what
// rtcbot's test-pattern camera sends: scrolling bars, a bouncing box and a
// time code), a new frame for every operation, at the default bitrate of
// 0.1 bit per pixel per frame at 30 fps, which is what rtcbot gives the
// encoder on a good link (VideoSettings.MaxBitrate's default). ns/op is the
// time per frame.

// benchSizes are the picture sizes of the benchmarks.
var benchSizes = []image.Point{{320, 240}, {640, 480}, {1280, 720}}

// benchT0 is the capture time stamped into frame 0.
var benchT0 = time.UnixMilli(1_700_000_000_000)

// BenchmarkEncode encodes consecutive frames of the moving pattern into a
// reused buffer, as rtcbot's video track does (AppendEncode). Drawing the
// pattern is not timed.
func BenchmarkEncode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			benchEncode(b, EncoderSettings{Width: size.X, Height: size.Y}, false)
		})
	}
}

// benchEncode is an encode benchmark with settings s: consecutive frames of
// the moving pattern into a reused buffer, the time per frame and the
// bytes per frame; with quality, also the mean luma PSNR (dB) of the
// decoded frames after the first second, decoding untimed, and without it
// the allocations.
func benchEncode(b *testing.B, s EncoderSettings, quality bool) {
	w, h := s.Width, s.Height
	enc, err := NewEncoder(s)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	var dec *Decoder
	if quality {
		if dec, err = NewDecoder(); err != nil {
			b.Fatal(err)
		}
		defer dec.Close()
	} else {
		b.ReportAllocs()
	}
	pattern := timecode.NewPattern(w, h)
	pic := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	var buf []byte
	var psnrSum float64
	bytes, n, measured := 0, 0, 0
	for b.Loop() {
		b.StopTimer()
		if err := pattern.FrameInto(pic, uint32(n), benchT0.Add(ptsOf(n, 30))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		buf, _, err = enc.AppendEncode(buf[:0], pic, ptsOf(n, 30), false)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(buf)
		if quality && len(buf) > 0 {
			b.StopTimer()
			out, err := dec.Decode(buf)
			if err != nil {
				b.Fatal(err)
			}
			if n >= 30 { // after rate control settled
				psnrSum += lumaPSNR(pic, out)
				measured++
			}
			b.StartTimer()
		}
		n++
	}
	b.ReportMetric(float64(bytes)/float64(n), "bytes/frame")
	if measured > 0 {
		b.ReportMetric(psnrSum/float64(measured), "dB")
	}
}

// benchSequence is the number of frames a decode benchmark cycles
// through: 3 s of video, a keyframe and then delta frames.
const benchSequence = 90

// BenchmarkDecode decodes a pre-encoded sequence of benchSequence moving
// frames over and over; it starts with a keyframe, so the decoder can loop.
// Each decoded picture is a new image the caller owns, as Decode promises.
func BenchmarkDecode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			w, h := size.X, size.Y
			frames := encodeSequence(b, w, h, benchSequence)
			d, err := NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			bytes, n := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				frame := frames[n%len(frames)]
				img, err := d.Decode(frame)
				if err != nil {
					b.Fatal(err)
				}
				if img.Rect.Dx() != w || img.Rect.Dy() != h {
					b.Fatalf("decoded %v, want %dx%d", img.Rect, w, h)
				}
				bytes += len(frame)
				n++
			}
			b.ReportMetric(float64(bytes)/float64(n), "bytes/frame")
		})
	}
}

// encodeSequence encodes n consecutive frames of the moving pattern at the
// default bitrate; frame 0 is a keyframe.
func encodeSequence(t testing.TB, w, h, n int) [][]byte {
	t.Helper()
	enc, err := NewEncoder(EncoderSettings{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pattern := timecode.NewPattern(w, h)
	pic := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	frames := make([][]byte, n)
	for i := range frames {
		if err := pattern.FrameInto(pic, uint32(i), benchT0.Add(ptsOf(i, 30))); err != nil {
			t.Fatal(err)
		}
		frame, key, err := enc.Encode(pic, ptsOf(i, 30), i == 0)
		if err != nil || len(frame) == 0 || (i == 0 && !key) {
			t.Fatalf("frame %d: %d bytes, keyframe %v, %v", i, len(frame), key, err)
		}
		frames[i] = frame
	}
	return frames
}

// BenchmarkEncodeSpeed is BenchmarkEncode at each of libvpx's real-time
// speeds (EncoderSettings.Speed, cpu-used), reporting with the time per frame
// the quality kept: the luma PSNR of the decoded frames against the
// pattern, in dB (untimed):
//
//	go test -run '^$' -bench EncodeSpeed -benchtime 300x ./codec/vp8/
func BenchmarkEncodeSpeed(b *testing.B) {
	for _, size := range benchSizes {
		for _, speed := range []int{-4, -6, -8, -10, -12, -16} {
			b.Run(fmt.Sprintf("%dx%d/speed%d", size.X, size.Y, speed), func(b *testing.B) {
				benchEncode(b, EncoderSettings{Width: size.X, Height: size.Y, Speed: speed}, true)
			})
		}
	}
}

// lumaPSNR is the peak signal-to-noise ratio of b's luma against a's, in dB
// (100 for identical planes).
func lumaPSNR(a, b *image.YCbCr) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var se float64
	for y := range h {
		ra, rb := a.Y[y*a.YStride:y*a.YStride+w], b.Y[y*b.YStride:y*b.YStride+w]
		for x := range ra {
			d := float64(ra[x]) - float64(rb[x])
			se += d * d
		}
	}
	if se == 0 {
		return 100
	}
	return 10 * math.Log10(255*255*float64(w*h)/se)
}
