//go:build cgo

package x264

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// decoderPython is the interpreter with PyAV (Debian's python3-av, which
// python3-aiortc pulls in): the system one, not whatever is first on PATH.
const decoderPython = "/usr/bin/python3"

// decodeResult is what testdata/decode.py reports.
type decodeResult struct {
	Frames    int      `json:"frames"`
	Sizes     [][2]int `json:"sizes"`
	Keyframes []int    `json:"keyframes"`
	Errors    []string `json:"errors"`
	AV        string   `json:"av"`
}

// decodeWithFFmpeg decodes frames (each one Encode result) with FFmpeg's
// H.264 decoder through PyAV and returns its report and the decoded
// pictures. It skips the test if PyAV is not available.
func decodeWithFFmpeg(t *testing.T, frames [][]byte) (decodeResult, []*image.YCbCr) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, decoderPython, "-c", "import av").Run(); err != nil {
		t.Skipf("decode check skipped: %s cannot import av (%v); install python3-av", decoderPython, err)
	}
	var in bytes.Buffer
	for _, f := range frames {
		in.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
		in.Write(f)
	}
	out := filepath.Join(t.TempDir(), "decoded.yuv")
	cmd := exec.CommandContext(ctx, decoderPython, "testdata/decode.py", out)
	cmd.Env = append(cmd.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("decode.py: %v\n%s", err, stderr.String())
	}
	var r decodeResult
	if err := json.Unmarshal(stdout, &r); err != nil {
		t.Fatalf("decode.py printed %q: %v\n%s", stdout, err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var pics []*image.YCbCr
	for _, sz := range r.Sizes {
		w, h := sz[0], sz[1]
		n := w*h + 2*(w/2)*(h/2)
		if len(raw) < n {
			t.Fatalf("decoded pictures: %d bytes left, %dx%d needs %d", len(raw), w, h, n)
		}
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		copy(img.Y, raw[:w*h])
		copy(img.Cb, raw[w*h:])
		copy(img.Cr, raw[w*h+(w/2)*(h/2):n])
		pics = append(pics, img)
		raw = raw[n:]
	}
	if len(raw) != 0 {
		t.Fatalf("%d bytes of decoded pictures left over", len(raw))
	}
	t.Logf("PyAV %s decoded %d frames", r.AV, r.Frames)
	return r, pics
}

// lumaPSNR compares the top-left corner of want (at its Rect.Min) with got,
// over got's size.
func lumaPSNR(want, got *image.YCbCr) float64 {
	var sse float64
	w, h := got.Rect.Dx(), got.Rect.Dy()
	for y := range h {
		for x := range w {
			d := float64(want.Y[want.YOffset(want.Rect.Min.X+x, want.Rect.Min.Y+y)]) - float64(got.Y[y*got.YStride+x])
			sse += d * d
		}
	}
	if sse == 0 {
		return 99
	}
	return 10 * math.Log10(255*255*float64(w*h)/sse)
}

// TestDecodeWithFFmpeg encodes the moving pattern through size changes,
// forced keyframes, an odd size and sub-images, and checks that FFmpeg
// decodes every frame at the right size, with the right picture: its time
// code reads back and it is close to the source.
func TestDecodeWithFFmpeg(t *testing.T) {
	type input struct {
		img  *image.YCbCr
		seq  uint32
		size image.Point // the size x264 encodes
	}
	var inputs []input
	seq := uint32(0)
	add := func(w, h, n int, sub bool) {
		pattern := timecode.NewPattern(w, h)
		for range n {
			t := time.UnixMilli(1_700_000_000_000).Add(ptsOf(int(seq), 30))
			img := pattern.Frame(seq, t)
			if sub {
				// The same picture inside a larger one with other content
				// around it: an offset Rect.Min and strides wider than w.
				big := image.NewYCbCr(image.Rect(0, 0, w+64, h+32), image.YCbCrSubsampleRatio420)
				for i := range big.Y {
					big.Y[i] = byte(i * 37)
				}
				img = big.SubImage(image.Rect(32, 16, 32+w, 16+h)).(*image.YCbCr)
				if err := pattern.FrameInto(img, seq, t); err != nil {
					panic(err)
				}
			}
			inputs = append(inputs, input{img, seq, image.Pt(w&^1, h&^1)})
			seq++
		}
	}
	add(320, 240, 30, false)
	add(640, 480, 30, false)
	add(320, 240, 10, true)
	add(321, 241, 10, false)
	add(640, 480, 20, true)

	enc := newEncoder(t, EncoderSettings{Width: 320, Height: 240})
	var frames [][]byte
	var wantKeys []int
	for i, in := range inputs {
		force := i == 15 || i == 45
		frame, key, err := enc.Encode(in.img, ptsOf(i, 30), force)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if key {
			wantKeys = append(wantKeys, i)
		}
		frames = append(frames, frame)
	}
	// Keyframes: the first, the forced ones, and each change of encoded size
	// (321x241 is encoded as 320x240, like the frames before it).
	if want := []int{0, 15, 30, 45, 60, 80}; !slices.Equal(wantKeys, want) {
		t.Errorf("keyframes at %v, want %v", wantKeys, want)
	}

	r, pics := decodeWithFFmpeg(t, frames)
	if len(r.Errors) > 0 {
		t.Errorf("decode errors: %v", r.Errors)
	}
	if r.Frames != len(inputs) || len(pics) != len(inputs) {
		t.Fatalf("decoded %d frames, want %d", r.Frames, len(inputs))
	}
	if !slices.Equal(r.Keyframes, wantKeys) {
		t.Errorf("FFmpeg saw keyframes at %v, the encoder reported %v", r.Keyframes, wantKeys)
	}
	worst := 99.0
	for i, in := range inputs {
		got := pics[i]
		if got.Rect.Size() != in.size {
			t.Fatalf("frame %d: decoded %v, want %v", i, got.Rect.Size(), in.size)
		}
		s, err := timecode.Read(got)
		if err != nil || s.Seq != in.seq {
			t.Errorf("frame %d: time code %+v, %v; want sequence %d", i, s, err, in.seq)
		}
		p := lumaPSNR(in.img, got)
		worst = min(worst, p)
		if p < 30 {
			t.Errorf("frame %d (%v): luma PSNR %.1f dB, want >= 30", i, in.size, p)
		}
	}
	t.Logf("all %d frames decoded at the right size, time codes read; worst luma PSNR %.1f dB", len(inputs), worst)
}
