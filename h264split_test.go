package rtcbot

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireFFmpeg fails the test, naming the package to install, unless
// Debian's ffmpeg (with libx264) is on the PATH: it stands in for the
// encoders (rpicam-vid, GStreamer) whose output the encoded sources read.
func requireFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is not installed: sudo apt-get install ffmpeg (or bash scripts/setup.sh): %v", err)
	}
}

// ffmpegH264Args are ffmpeg's arguments for an H.264 Annex-B stream of
// ffmpeg's moving test picture on standard output: x264 at its fastest,
// one slice per picture unless extra says otherwise, a keyframe every gop
// frames. frames 0 means endless.
func ffmpegH264Args(width, height, frames, gop int, realtime bool, extra ...string) []string {
	args := []string{"ffmpeg", "-nostdin", "-loglevel", "error"}
	if realtime {
		args = append(args, "-re")
	}
	args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", width, height))
	if frames > 0 {
		args = append(args, "-frames:v", fmt.Sprint(frames))
	}
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", fmt.Sprint(gop), "-threads", "1")
	args = append(args, extra...)
	return append(args, "-flush_packets", "1", "-f", "h264", "-")
}

// ffmpegH264 returns such a stream of frames pictures, made once per
// argument list.
func ffmpegH264(t testing.TB, width, height, frames, gop int, extra ...string) []byte {
	t.Helper()
	requireFFmpeg(t)
	key := strings.Join(append([]string{fmt.Sprint(width, height, frames, gop)}, extra...), " ")
	h264Streams.Lock()
	defer h264Streams.Unlock()
	if b, ok := h264Streams.m[key]; ok {
		return b
	}
	args := ffmpegH264Args(width, height, frames, gop, false, extra...)
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if h264Streams.m == nil {
		h264Streams.m = map[string][]byte{}
	}
	h264Streams.m[key] = out
	return out
}

var h264Streams struct {
	sync.Mutex
	m map[string][]byte
}

// splitRecord is what a recording splitter emitted and reported.
type splitRecord struct {
	frames []EncodedFrame
	errs   []error
}

// recordingSplitter returns a splitter that records what it emits and the
// errors it reports.
func recordingSplitter() (*h264Splitter, *splitRecord) {
	rec := &splitRecord{}
	return &h264Splitter{
		emit: func(f EncodedFrame) { rec.frames = append(rec.frames, f) },
		fail: func(err error) { rec.errs = append(rec.errs, err) },
	}, rec
}

// splitAll splits stream, written in chunks of random sizes up to
// maxChunk, and returns the frames and errors.
func splitAll(stream []byte, maxChunk int, seed uint64) ([]EncodedFrame, []error) {
	s, rec := recordingSplitter()
	r := rand.New(rand.NewPCG(seed, 1))
	now := time.Now()
	for len(stream) > 0 {
		n := min(1+r.IntN(maxChunk), len(stream))
		s.write(stream[:n], now)
		stream = stream[n:]
	}
	s.end(now)
	return rec.frames, rec.errs
}

// splitFrames returns the access units of stream, which must split without
// errors.
func splitFrames(t testing.TB, stream []byte) []EncodedFrame {
	t.Helper()
	frames, errs := splitAll(stream, len(stream), 1)
	if len(errs) > 0 {
		t.Fatalf("splitting: %v", errs)
	}
	return frames
}

// nalTypes returns the types of the NAL units of an Annex-B access unit.
func nalTypes(au []byte) []byte {
	var types []byte
	for i := 0; ; {
		at, n := findStartCode(au, i)
		if at < 0 || at+n >= len(au) {
			return types
		}
		types = append(types, au[at+n]&0x1f)
		i = at + n
	}
}

// decodeAll decodes frames with a new H.264 decoder and returns how many
// pictures came out, failing at a size other than width x height.
func decodeAll(t *testing.T, frames []EncodedFrame, width, height int) int {
	t.Helper()
	newDec, err := registeredVideoCodecs().decoder(codecH264)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := newDec()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	pictures := 0
	for i, f := range frames {
		img, err := dec.Decode(f.Data)
		if err != nil {
			t.Fatalf("frame %d (%d bytes, NAL types %v): %v", i, len(f.Data), nalTypes(f.Data), err)
		}
		if img == nil {
			continue
		}
		if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
			t.Fatalf("frame %d decoded at %v, want %dx%d", i, b, width, height)
		}
		pictures++
	}
	return pictures
}

// An x264 stream splits into one access unit per picture, whatever the
// chunks it comes in, with and without access unit delimiters, and with
// several slices per picture; every access unit decodes, and keyframes
// are the IDR pictures.
func TestH264SplitterAccessUnits(t *testing.T) {
	requireH264(t)
	const frames, gop = 40, 10
	for _, tt := range []struct {
		name  string
		extra []string
	}{
		{"plain", nil},
		{"delimiters", []string{"-bsf:v", "h264_metadata=aud=insert"}},
		{"four slices", []string{"-x264-params", "slices=4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stream := ffmpegH264(t, 320, 240, frames, gop, tt.extra...)
			for _, chunk := range []int{1, 7, 1500, 64 << 10, len(stream)} {
				got, errs := splitAll(stream, chunk, uint64(chunk))
				if len(errs) > 0 {
					t.Fatalf("chunks up to %d: errors %v", chunk, errs)
				}
				if len(got) != frames {
					t.Fatalf("chunks up to %d: %d access units, want %d", chunk, len(got), frames)
				}
				keys := 0
				for i, f := range got {
					types := nalTypes(f.Data)
					if f.Keyframe != bytes.Contains(types, []byte{nalIDR}) {
						t.Fatalf("frame %d: Keyframe %v with NAL types %v", i, f.Keyframe, types)
					}
					if f.Keyframe {
						keys++
						if !bytes.Contains(types, []byte{nalSPS}) || !bytes.Contains(types, []byte{nalPPS}) {
							t.Fatalf("keyframe %d without SPS and PPS: %v", i, types)
						}
					}
				}
				if keys != frames/gop {
					t.Fatalf("%d keyframes, want %d", keys, frames/gop)
				}
				if chunk == 7 || chunk == len(stream) {
					if n := decodeAll(t, got, 320, 240); n != frames {
						t.Fatalf("%d pictures decoded, want %d", n, frames)
					}
				}
			}
		})
	}
}

// A keyframe that comes without SPS and PPS gets the last ones, after its
// access unit delimiter, so a decoder that starts there (a late viewer)
// decodes it.
func TestH264SplitterRepeatsParameterSets(t *testing.T) {
	requireH264(t)
	stream := ffmpegH264(t, 320, 240, 30, 10, "-bsf:v", "h264_metadata=aud=insert")
	frames, _ := splitAll(stream, len(stream), 1)
	// Take SPS and PPS out of every keyframe but the first.
	var stripped []byte
	for i, f := range frames {
		if !f.Keyframe || i == 0 {
			stripped = append(stripped, f.Data...)
			continue
		}
		au := f.Data
		for off := 0; off < len(au); {
			at, n := findStartCode(au, off)
			next, _ := findStartCode(au, at+n)
			if next < 0 {
				next = len(au)
			}
			if typ := au[at+n] & 0x1f; typ != nalSPS && typ != nalPPS {
				stripped = append(stripped, au[at:next]...)
			}
			off = next
		}
	}
	got, errs := splitAll(stripped, 4096, 2)
	if len(errs) > 0 || len(got) != 30 {
		t.Fatalf("%d frames, errors %v", len(got), errs)
	}
	for _, i := range []int{10, 20} {
		if types := nalTypes(got[i].Data); !bytes.HasPrefix(types, []byte{nalAUD, nalSPS, nalPPS}) {
			t.Fatalf("keyframe %d has NAL types %v, want AUD, SPS, PPS first", i, types)
		}
	}
	if n := decodeAll(t, got[20:], 320, 240); n != 10 {
		t.Fatalf("a decoder starting at the third keyframe decoded %d pictures, want 10", n)
	}
}

// Garbage in a stream is dropped and reported, and the access units after
// it still come, the next keyframe decoding.
func TestH264SplitterGarbage(t *testing.T) {
	requireH264(t)
	stream := ffmpegH264(t, 320, 240, 30, 10)
	frames, _ := splitAll(stream, len(stream), 1)
	r := rand.New(rand.NewPCG(3, 4))
	junk := make([]byte, 5000)
	for i := range junk {
		junk[i] = byte(r.UintN(256))
	}
	junk = append(junk, 0, 0, 1, 0x80|nalSlice, 0x55, 0, 0, 1, 0, 0x66) // forbidden bit set; type 0
	var in []byte
	for i, f := range frames {
		if i == 5 {
			in = append(in, junk...)
		}
		in = append(in, f.Data...)
	}
	got, errs := splitAll(in, 3000, 5)
	if len(errs) == 0 {
		t.Fatal("garbage reported no error")
	}
	for _, err := range errs {
		if !errors.Is(err, ErrEncodedFrame) {
			t.Fatalf("error %v is not ErrEncodedFrame", err)
		}
	}
	// The garbage without start codes ends frame 4's last NAL unit, the
	// rest is dropped: the frames from the keyframe after it decode.
	var fromKey []EncodedFrame
	keys := 0
	for _, f := range got {
		if f.Keyframe {
			keys++
		}
		if keys >= 2 {
			fromKey = append(fromKey, f)
		}
	}
	if len(got) != 30 || len(fromKey) != 20 {
		t.Fatalf("%d frames from the keyframe after the garbage, want 20 (of %d; errors %v)", len(fromKey), len(got), errs)
	}
	if n := decodeAll(t, fromKey, 320, 240); n != 20 {
		t.Fatalf("%d pictures decoded after the garbage, want 20", n)
	}
}

// flush sends an access unit whose slice is open last at once; if the
// rest of it comes after all, that is reported and skipped, and the next
// access unit is whole.
func TestH264SplitterFlush(t *testing.T) {
	stream := ffmpegH264(t, 320, 240, 3, 10)
	frames, _ := splitAll(stream, len(stream), 1)
	s, rec := recordingSplitter()
	now := time.Now()
	s.write(frames[0].Data, now)
	if len(rec.frames) != 0 || !s.flushable() {
		t.Fatalf("after the first access unit: %d emitted, flushable %v", len(rec.frames), s.flushable())
	}
	s.flush(now)
	if len(rec.frames) != 1 || !bytes.Equal(rec.frames[0].Data, frames[0].Data) {
		t.Fatalf("flush emitted %d frames", len(rec.frames))
	}
	half := len(frames[1].Data) / 2
	s.write(frames[1].Data[:half], now)
	s.flush(now) // too early: the picture is cut short
	s.write(frames[1].Data[half:], now)
	s.write(frames[2].Data, now)
	s.end(now)
	if s.cutShort != 1 || len(rec.errs) != 1 || !errors.Is(rec.errs[0], ErrEncodedFrame) {
		t.Fatalf("cut short %d, errors %v; want one ErrEncodedFrame", s.cutShort, rec.errs)
	}
	if len(rec.frames) != 3 || !bytes.Equal(rec.frames[2].Data, frames[2].Data) {
		t.Fatalf("%d frames; want the cut one and the next whole", len(rec.frames))
	}
}

// A flush while the next access unit's start code has come without its
// header, or only its first zeros, keeps those bytes for that access unit.
func TestH264SplitterFlushKeepsStartCode(t *testing.T) {
	frames := splitFrames(t, ffmpegH264(t, 320, 240, 3, 10))
	for _, cut := range []int{2, 3, 4} { // 00 00 | 00 01 ..., 00 00 00 | 01 ..., 00 00 00 01 | 41 ...
		s, rec := recordingSplitter()
		now := time.Now()
		next := frames[1].Data
		s.write(append(bytes.Clone(frames[0].Data), next[:cut]...), now)
		s.flush(now)
		s.write(next[cut:], now)
		s.end(now)
		if len(rec.errs) > 0 || len(rec.frames) != 2 || !bytes.Equal(rec.frames[0].Data, frames[0].Data) || !bytes.Equal(rec.frames[1].Data, frames[1].Data) {
			t.Fatalf("cut %d: %d frames, errors %v; want the two access units whole", cut, len(rec.frames), rec.errs)
		}
	}
}

// An access unit that grows beyond MaxAccessUnitSize is dropped with an
// error, and the stream resumes at the next start code.
func TestH264SplitterMaxAccessUnit(t *testing.T) {
	stream := ffmpegH264(t, 320, 240, 10, 10)
	s, rec := recordingSplitter()
	now := time.Now()
	s.write([]byte{0, 0, 0, 1, 0x65, 0x88}, now)
	filler := bytes.Repeat([]byte{0xff}, 1<<20)
	for range MaxAccessUnitSize/len(filler) + 1 {
		s.write(filler, now)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0].Error(), "MaxAccessUnitSize") || len(s.buf) > len(filler) {
		t.Fatalf("errors %v, %d bytes held", rec.errs, len(s.buf))
	}
	s.write(stream, now)
	s.end(now)
	if len(rec.frames) != 10 || !rec.frames[0].Keyframe {
		t.Fatalf("%d frames after the oversized one, want 10 starting with a keyframe", len(rec.frames))
	}
}

// FuzzH264Splitter: no input, in any chunks, makes the splitter panic,
// hold more than MaxAccessUnitSize, or emit a frame that is not NAL units
// after start codes.
func FuzzH264Splitter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0, 1, 0x41, 0x9a}, uint16(3))
	f.Add([]byte{0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x41, 0x80, 0, 0, 1, 0x41, 0x00, 0, 0, 1, 0x09}, uint16(1))
	f.Add([]byte{1, 2, 3, 0, 0, 1, 0xe5, 0, 0, 1, 0x00}, uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		var frames []EncodedFrame
		s := &h264Splitter{emit: func(f EncodedFrame) { frames = append(frames, f) }, fail: func(error) {}}
		now := time.Now()
		step := int(chunk%64) + 1
		for i := 0; i < len(data); i += step {
			s.write(data[i:min(i+step, len(data))], now)
			if i%3 == 0 {
				s.flush(now)
			}
		}
		s.end(now)
		for _, f := range frames {
			if !startsWithStartCode(f.Data) {
				t.Fatalf("frame %x does not start with a start code", f.Data)
			}
			for _, typ := range nalTypes(f.Data) {
				if typ == 0 || typ >= 24 {
					t.Fatalf("frame %x has a NAL unit of type %d", f.Data, typ)
				}
			}
		}
	})
}

// startsWithStartCode reports whether p begins with a start code, after
// any zero bytes (trailing_zero_8bits of the previous NAL unit).
func startsWithStartCode(p []byte) bool {
	i := 0
	for i < len(p) && p[i] == 0 {
		i++
	}
	return i >= 2 && i < len(p) && p[i] == 1
}
