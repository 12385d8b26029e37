package mjpeg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/rtcbot-go/rtcbot/internal/ffmpegtest"
)

// The largest differences measured between a decoded sample and
// image/jpeg's (whose inverse DCT differs from libjpeg-turbo's) on the
// frames below were a mean of 0.03 and a maximum of 2 (4:4:4 at 321x241);
// the bounds leave a little room.
const (
	maxMeanDiff = 1
	maxDiff     = 4
)

var subsamplings = []struct {
	pixFmt string
	ratio  image.YCbCrSubsampleRatio
}{
	{"yuvj422p", image.YCbCrSubsampleRatio422}, // what webcams send
	{"yuvj420p", image.YCbCrSubsampleRatio420},
	{"yuvj444p", image.YCbCrSubsampleRatio444},
}

// TestDecodeFFmpeg decodes ffmpeg's Motion-JPEG frames of a moving picture
// at each subsampling, at an even size and an odd one, with one decoder:
// each is an *image.YCbCr of the frame's size and subsampling, and its
// samples are image/jpeg's to within a step or two.
func TestDecodeFFmpeg(t *testing.T) {
	d := newDecoder(t)
	for _, size := range []image.Point{{640, 480}, {321, 241}} {
		for _, s := range subsamplings {
			t.Run(fmt.Sprintf("%dx%d/%s", size.X, size.Y, s.pixFmt), func(t *testing.T) {
				frames := ffmpegtest.MJPEG(t, size.X, size.Y, s.pixFmt, 3)
				for i, f := range frames {
					img, err := d.Decode(f)
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					m, ok := img.(*image.YCbCr)
					if !ok {
						t.Fatalf("frame %d: a %T, want *image.YCbCr", i, img)
					}
					if m.Rect != image.Rect(0, 0, size.X, size.Y) || m.SubsampleRatio != s.ratio {
						t.Fatalf("frame %d: %v %v, want %v %v", i, m.Rect, m.SubsampleRatio, size, s.ratio)
					}
					if df := compare(t, img, goDecode(t, f)); df.mean() >= maxMeanDiff || df.max > maxDiff {
						t.Fatalf("frame %d: samples differ from image/jpeg's by %.3f on average, %d at most", i, df.mean(), df.max)
					} else if i == 0 {
						t.Logf("differences from image/jpeg: mean %.3f, max %d", df.mean(), df.max)
					}
				}
			})
		}
	}
}

// TestDecodeSubsamplings decodes the JPEGs of Go's image test data at
// every subsampling, baseline and progressive, and the rarer kinds that go
// to image/jpeg (4:1:0, RGB, CMYK): the same kind of picture as
// image/jpeg's, with the same samples to within a step or two.
func TestDecodeSubsamplings(t *testing.T) {
	d := newDecoder(t)
	for _, name := range []string{
		"video-001.q50.420.jpeg", "video-001.q50.422.jpeg", "video-001.q50.444.jpeg",
		"video-001.q50.440.jpeg", "video-001.q50.411.jpeg",
		"video-001.q50.420.progressive.jpeg", "video-001.q50.411.progressive.jpeg",
		"video-001.restart2.jpeg",
		"video-005.gray.q50.jpeg", "video-005.gray.q50.2x2.jpeg", "video-005.gray.q50.progressive.jpeg",
		"video-001.q50.410.jpeg", "video-001.rgb.jpeg", "video-001.cmyk.jpeg",
	} {
		t.Run(name, func(t *testing.T) {
			b := goTestdata(t, name)
			img, err := d.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			want := goDecode(t, b)
			switch want.(type) {
			case *image.YCbCr, *image.Gray:
				if df := compare(t, img, want); df.mean() >= maxMeanDiff || df.max > maxDiff {
					t.Fatalf("samples differ from image/jpeg's by %.3f on average, %d at most", df.mean(), df.max)
				}
			default:
				if fmt.Sprintf("%T", img) != fmt.Sprintf("%T", want) || img.Bounds() != want.Bounds() {
					t.Fatalf("a %T %v, want image/jpeg's %T %v", img, img.Bounds(), want, want.Bounds())
				}
			}
		})
	}
}

// TestDecodeGray decodes a greyscale JPEG made from a frame's luma.
func TestDecodeGray(t *testing.T) {
	d := newDecoder(t)
	frame := goDecode(t, ffmpegtest.MJPEG(t, 321, 241, "yuvj420p", 1)[0]).(*image.YCbCr)
	grey := &image.Gray{Pix: frame.Y, Stride: frame.YStride, Rect: frame.Rect}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, grey, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	img, err := d.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.Gray); !ok || img.Bounds() != frame.Rect {
		t.Fatalf("a %T %v, want an *image.Gray %v", img, img.Bounds(), frame.Rect)
	}
	if df := compare(t, img, goDecode(t, b.Bytes())); df.mean() >= maxMeanDiff || df.max > maxDiff {
		t.Fatalf("samples differ from image/jpeg's by %.3f on average, %d at most", df.mean(), df.max)
	}
}

// TestDecodeWithoutHuffmanTables decodes frames whose DHT segments were
// stripped, as many webcams send them: ffmpeg made them with the standard
// tables, which the decoder then uses, so they decode exactly as the
// frames with their tables do. So does the image/jpeg decoder, which is
// given the tables.
func TestDecodeWithoutHuffmanTables(t *testing.T) {
	d := newDecoder(t)
	for _, s := range subsamplings {
		for i, f := range ffmpegtest.MJPEG(t, 640, 480, s.pixFmt, 2, "-huffman", "default") {
			stripped := stripDHT(t, f)
			if bytes.Contains(stripped[:segments(t, stripped, func(byte, []byte) {})], []byte{0xff, 0xc4}) || len(stripped) >= len(f) {
				t.Fatal("DHT segment not stripped")
			}
			if _, err := jpeg.Decode(bytes.NewReader(stripped)); err == nil {
				t.Fatal("image/jpeg decodes a frame without Huffman tables: the test proves nothing about them")
			}
			want, err := d.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			for name, decode := range map[string]func([]byte) (image.Image, error){
				"Decode":     d.Decode,
				"image/jpeg": func(b []byte) (image.Image, error) { return decodeGo(b, MaxPixels) },
			} {
				got, err := decode(stripped)
				if err != nil {
					t.Fatalf("%s, %s frame %d without DHT: %v", name, s.pixFmt, i, err)
				}
				if name == "Decode" {
					if df := compare(t, got, want); df.max != 0 {
						t.Fatalf("%s frame %d without DHT differs from the frame with it by up to %d", s.pixFmt, i, df.max)
					}
				} else if df := compare(t, got, goDecode(t, f)); df.max != 0 {
					t.Fatalf("image/jpeg, %s frame %d without DHT differs from the frame with it by up to %d", s.pixFmt, i, df.max)
				}
			}
		}
	}
}

// TestDecodeCorrupt: frames that are empty, not JPEG, truncated, damaged
// or too large are errors wrapping ErrCorrupt, and the decoder goes on
// decoding good frames after them.
func TestDecodeCorrupt(t *testing.T) {
	d := newDecoder(t)
	good := ffmpegtest.MJPEG(t, 640, 480, "yuvj422p", 1)[0]
	sos := segments(t, good, func(byte, []byte) {})
	damaged := bytes.Clone(good)
	for i := sos + 100; i < len(damaged)-2; i += 37 {
		damaged[i] = 0xff // markers in the middle of the data
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		turbo string // in libjpeg-turbo's message
	}{
		{"nil", nil, "empty frame"},
		{"empty", []byte{}, "empty frame"},
		{"garbage", []byte("this is not a JPEG frame, just some text"), "Not a JPEG file"},
		{"SOI only", []byte{0xff, 0xd8}, "no picture"},
		{"SOI and EOI", []byte{0xff, 0xd8, 0xff, 0xd9}, "no picture"},
		{"header only", good[:sos], "missing SOS marker"},
		{"truncated in the header", good[:sos/2], ""},
		{"truncated", good[:len(good)/2], "Premature end of JPEG file"},
		{"no EOI", good[:len(good)-2], "Premature end of JPEG file"},
		{"damaged", damaged, "Corrupt JPEG data"},
		{"60000x60000", withSize(t, good, 60000, 60000), "60000x60000 is more than MaxPixels"},
		{"8193x8192", withSize(t, good, 8193, 8192), "MaxPixels"},
		{"0x480", withSize(t, good, 0, 480), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stats runtime.MemStats
			runtime.ReadMemStats(&stats)
			before := stats.TotalAlloc
			img, err := d.Decode(tc.frame)
			runtime.ReadMemStats(&stats)
			if !errors.Is(err, ErrCorrupt) || img != nil {
				t.Fatalf("Decode = %v, %v; want an error wrapping ErrCorrupt", img, err)
			}
			t.Log(err)
			// libjpeg-turbo's messages are thread-local: a wrong one here
			// would be another call's.
			if LibJPEGTurbo && !strings.Contains(err.Error(), tc.turbo) {
				t.Errorf("error %q does not say %q", err, tc.turbo)
			}
			if n := stats.TotalAlloc - before; n > 1<<20 && !strings.Contains(tc.name, "truncated") && tc.name != "damaged" {
				t.Errorf("allocated %d bytes for a frame refused from its header", n)
			}
			if _, err := d.Decode(good); err != nil {
				t.Fatalf("a good frame after it: %v", err)
			}
		})
	}
}

// TestMaxPixels: a frame of exactly the maximum decodes, one pixel more is
// refused.
func TestMaxPixels(t *testing.T) {
	d := newDecoder(t)
	good := ffmpegtest.MJPEG(t, 640, 480, "yuvj422p", 1)[0]
	d.maxPixels = 640 * 480
	if _, err := d.Decode(good); err != nil {
		t.Fatal(err)
	}
	d.maxPixels--
	if _, err := d.Decode(good); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "MaxPixels") {
		t.Fatalf("a frame over the maximum: %v", err)
	}
}

func TestClose(t *testing.T) {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Decode(ffmpegtest.MJPEG(t, 64, 48, "yuvj422p", 1)[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v, want ErrClosed", err)
	}
}

// TestStdHuffmanTables: the tables given to image/jpeg are the standard
// ones, which image/jpeg's encoder writes.
func TestStdHuffmanTables(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420), nil); err != nil {
		t.Fatal(err)
	}
	var dht []byte
	segments(t, b.Bytes(), func(marker byte, seg []byte) {
		if marker == 0xc4 {
			dht = append(dht, seg...)
		}
	})
	if !bytes.Equal(dht, stdHuffmanDHT) {
		t.Fatalf("standard tables:\n%x\nimage/jpeg's:\n%x", stdHuffmanDHT, dht)
	}
}

// TestStaticLink: the test binary does not need libjpeg-turbo's shared
// library.
func TestStaticLink(t *testing.T) {
	if !LibJPEGTurbo || runtime.GOOS != "linux" {
		t.Skip("no libjpeg-turbo linked, or no ldd")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", exe).CombinedOutput()
	if err != nil {
		t.Fatalf("ldd %s: %v: %s", exe, err, out)
	}
	if strings.Contains(string(out), "jpeg") {
		t.Fatalf("the test binary links a shared JPEG library:\n%s", out)
	}
}
