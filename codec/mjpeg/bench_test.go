package mjpeg

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"testing"

	"github.com/rtcbot-go/rtcbot/internal/ffmpegtest"
)

// BenchmarkDecode decodes 4:2:2 frames of a moving picture, as webcams send
// them, with the package's decoder (turbo: libjpeg-turbo in a build with
// cgo) and with image/jpeg (imagejpeg).
//
//	go test -run '^$' -bench Decode ./codec/mjpeg/
func BenchmarkDecode(b *testing.B) {
	for _, size := range [][2]int{{640, 480}, {1280, 720}} {
		frames := ffmpegtest.MJPEG(b, size[0], size[1], "yuvj422p", 30, "-q:v", "3")
		b.Run(fmt.Sprintf("%dx%d/turbo", size[0], size[1]), func(b *testing.B) {
			d := newDecoder(b)
			i := 0
			for b.Loop() {
				if _, err := d.Decode(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("%dx%d/imagejpeg", size[0], size[1]), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(frames[i%len(frames)])); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
