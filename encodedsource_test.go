package rtcbot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media"
)

// startedPIDs is a slog handler that collects the pids of the commands
// that sources start ("rtcbot: command started", at Debug) and passes
// warnings on to the test's log.
type startedPIDs struct {
	t    testing.TB
	mu   sync.Mutex
	pids []int
}

func (h *startedPIDs) Enabled(context.Context, slog.Level) bool { return true }
func (h *startedPIDs) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *startedPIDs) WithGroup(string) slog.Handler            { return h }
func (h *startedPIDs) Handle(_ context.Context, r slog.Record) error {
	a := attrs(r)
	if r.Message == "rtcbot: command started" {
		pid, _ := strconv.Atoi(a["pid"])
		h.mu.Lock()
		h.pids = append(h.pids, pid)
		h.mu.Unlock()
	} else if r.Level >= slog.LevelInfo {
		h.t.Logf("%s %s %v", r.Level, r.Message, a)
	}
	return nil
}

func (h *startedPIDs) started() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.pids...)
}

// commandLogger returns a logger that records started pids, and checks at
// the end of the test that no process of their process groups is left.
func commandLogger(t *testing.T) (*slog.Logger, *startedPIDs) {
	h := &startedPIDs{t: t}
	t.Cleanup(func() {
		for _, pid := range h.started() {
			// A member killed with the group may take a moment to end.
			deadline := time.Now().Add(time.Second)
			for len(processGroup(pid)) > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if left := processGroup(pid); len(left) > 0 {
				t.Errorf("processes %v of the group of command %d are still running", left, pid)
			}
		}
	})
	return slog.New(h), h
}

// processGroup returns the processes in process group pgid, from /proc.
func processGroup(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After "(comm)": state, ppid, pgrp.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// The robot sends what ffmpeg's x264 (standing in for rpicam-vid) writes,
// without decoding it: a Go desktop decodes frames of the right size, and
// a second one that joins five seconds later gets a picture within the
// intra period (a second), starting at a keyframe.
func TestH264CommandToDesktops(t *testing.T) {
	requireH264(t)
	requireFFmpeg(t)
	log, _ := commandLogger(t)
	src := NewH264Command(CommandSettings{Command: ffmpegH264Args(640, 480, 0, 30, true), Logger: log}, EncodedStreamSettings{Logger: log})
	defer src.Close()
	var robots ConnectionSet
	defer robots.Close()
	connect := func() Subscription[image.Image] {
		robot := newConnWith(t, h264Settings())
		robot.Video().PutEncoded(src)
		if err := robots.Add(robot); err != nil {
			t.Fatal(err)
		}
		desktop := newConn(t)
		frames := desktop.Video().Subscribe()
		connectPair(t, desktop, robot)
		return frames
	}
	first := connect()
	for range 10 {
		img, err := first.Get(mediaCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
			t.Fatalf("frame of %v, want 640x480", b)
		}
	}
	time.Sleep(5 * time.Second) // the late viewer's lateness, not a synchronisation
	joined := time.Now()
	late := connect()
	img, err := late.Get(mediaCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(joined); waited > 3*time.Second {
		t.Errorf("the late viewer waited %v for its first picture; the intra period is 1 s", waited)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
		t.Fatalf("late frame of %v", b)
	}
	st := src.Stats()
	if st.Frames < 150 || st.Keyframes < 5 || st.Malformed != 0 || st.Restarts != 0 {
		t.Errorf("source stats %+v: want 150+ frames, 5+ keyframes, nothing malformed, no restart", st)
	}
	if err := src.Err(); err != nil {
		t.Errorf("source error %v", err)
	}
}

// PutEncoded on an audio stream, or with frames that are not Annex-B on an
// H.264 connection, reports an error and sends nothing else wrong.
func TestPutEncodedErrors(t *testing.T) {
	c := newConnWith(t, h264Settings())
	c.Audio().PutEncoded(NewQueue[EncodedFrame](1))
	if _, err := c.GetLocalDescription(mediaCtx(t), nil); err == nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("description with encoded audio: %v, want errors.ErrUnsupported", err)
	}
	e := newPassthroughEncoder(codecH264, nil)
	sent := 0
	write := func(media.Sample) { sent++ }
	if _, _, err := e.encode(EncodedFrame{Data: []byte{1, 2, 3}, Keyframe: true}, false, write); !errors.Is(err, ErrEncodedFrame) {
		t.Fatalf("a frame without a start code: %v, want ErrEncodedFrame", err)
	}
	if _, _, err := e.encode(EncodedFrame{Data: []byte{0, 0, 1, 0x41, 0x9a}}, false, write); err != nil {
		t.Fatalf("a frame before the first keyframe: %v", err)
	}
	if sent != 0 {
		t.Fatalf("%d samples sent, want none: not Annex-B, and a frame before the first keyframe", sent)
	}
	if _, _, err := e.encode(EncodedFrame{Data: []byte{0, 0, 1, 0x65, 0x88}, Keyframe: true}, false, write); err != nil || sent != 1 {
		t.Fatalf("a keyframe: %v, %d sent", err, sent)
	}
}

// An H.264 stream from a reader ends the source at EOF, the last access
// unit included; Close of a source still reading closes its reader.
func TestH264StreamReader(t *testing.T) {
	stream := ffmpegH264(t, 320, 240, 20, 10)
	pr, pw := io.Pipe()
	src := NewH264Stream(pr, EncodedStreamSettings{})
	sub := src.Subscribe() // before the stream comes
	go func() {
		pw.Write(stream)
		pw.Close()
	}()
	n := 0
	for {
		f, err := sub.Get(testCtx(t))
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && !f.Keyframe {
			t.Fatal("the first frame is not a keyframe")
		}
		n++
	}
	closedWithin(t, src.Done(), "source at EOF")
	if n != 20 || src.Err() != nil {
		t.Fatalf("%d frames, error %v; want 20, none", n, src.Err())
	}

	pr, pw = io.Pipe()
	src = NewH264Stream(pr, EncodedStreamSettings{})
	go pw.Write(stream[:len(stream)/2])
	src.Close()
	if _, err := pw.Write([]byte{0}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after Close: %v, want the pipe closed", err)
	}
}

// Through a pipe, a picture is sent FlushAfter after its bytes come, not
// when the next one begins.
func TestH264StreamFlushes(t *testing.T) {
	stream := ffmpegH264(t, 320, 240, 2, 10)
	frames, _ := splitAll(stream, len(stream), 1)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	src := NewH264Stream(pr, EncodedStreamSettings{FlushAfter: 5 * time.Millisecond})
	defer src.Close()
	sub := src.Subscribe()
	pw.Write(frames[0].Data) // and nothing more
	f := mustGet(t, sub)
	if !bytes.Equal(f.Data, frames[0].Data) {
		t.Fatalf("got %d bytes, want the first access unit's %d", len(f.Data), len(frames[0].Data))
	}
}

// Commands that fail: one that cannot start closes the source with
// ErrCommand; one that exits at once is restarted with backoff; garbage
// and a truncated stream are errors, and the frames after them come; a
// stream that stops keeps the source open, and Close stops the command
// even when it ignores SIGTERM. No process is left behind (commandLogger).
func TestH264CommandFailures(t *testing.T) {
	requireFFmpeg(t)
	stream := ffmpegH264(t, 320, 240, 30, 10)
	file := filepath.Join(t.TempDir(), "stream.h264")
	if err := os.WriteFile(file, stream, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("not installed", func(t *testing.T) {
		log, _ := commandLogger(t)
		src := NewH264Command(CommandSettings{Command: []string{"rtcbot-no-such-command"}, Logger: log}, EncodedStreamSettings{})
		closedWithin(t, src.Done(), "source")
		if err := src.Err(); !errors.Is(err, ErrCommand) || !strings.Contains(err.Error(), "rtcbot-no-such-command") {
			t.Fatalf("error %v, want ErrCommand naming the command", err)
		}
	})
	t.Run("exits at once", func(t *testing.T) {
		log, pids := commandLogger(t)
		src := NewH264Command(CommandSettings{Command: []string{"false"}, RestartDelay: 5 * time.Millisecond, Logger: log}, EncodedStreamSettings{})
		eventually(t, "three restarts", func() bool { return src.Stats().Restarts >= 3 })
		src.Close()
		if err := src.Err(); !errors.Is(err, ErrCommand) || !strings.Contains(err.Error(), "exit status 1") {
			t.Fatalf("error %v, want ErrCommand with the exit status", err)
		}
		if len(pids.started()) < 4 {
			t.Fatalf("%d starts", len(pids.started()))
		}
	})
	t.Run("garbage then a stream", func(t *testing.T) {
		log, _ := commandLogger(t)
		src := NewH264Command(CommandSettings{Command: []string{"sh", "-c", "head -c 100000 /dev/urandom; cat " + file}, RestartDelay: -1, Logger: log},
			EncodedStreamSettings{Logger: log})
		keys := 0
		sub := src.Subscribe()
		for {
			f, err := sub.Get(testCtx(t))
			if errors.Is(err, ErrClosed) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Keyframe {
				keys++
			}
		}
		if keys != 3 || !errors.Is(src.Err(), ErrEncodedFrame) || src.Stats().Malformed == 0 {
			t.Fatalf("%d keyframes, error %v, stats %+v; want the stream's 3, ErrEncodedFrame", keys, src.Err(), src.Stats())
		}
	})
	t.Run("truncated and restarted", func(t *testing.T) {
		log, _ := commandLogger(t)
		src := NewH264Command(CommandSettings{Command: []string{"head", "-c", strconv.Itoa(len(stream) * 2 / 3), file}, RestartDelay: time.Millisecond, Logger: log},
			EncodedStreamSettings{Logger: log})
		defer src.Close()
		sub := src.Subscribe()
		keys := 0
		for keys < 4 { // the first run has 2 of the 3
			f := mustGet(t, sub)
			if f.Keyframe {
				keys++
			}
		}
		if src.Stats().Restarts == 0 {
			t.Fatal("no restart")
		}
	})
	t.Run("stops and ignores SIGTERM", func(t *testing.T) {
		log, pids := commandLogger(t)
		src := NewH264Command(CommandSettings{Command: []string{"sh", "-c", "trap '' TERM; cat " + file + "; sleep 60 & wait; sleep 60"},
			StopTimeout: 100 * time.Millisecond, Logger: log}, EncodedStreamSettings{})
		defer src.Close()
		sub := src.Subscribe()
		for range 30 {
			mustGet(t, sub)
		}
		if src.IsClosed() {
			t.Fatal("closed while its command runs")
		}
		eventually(t, "the shell and its sleep running", func() bool { return len(processGroup(pids.started()[0])) >= 2 })
		src.Close()
		// SIGKILL has been sent to the group: its members are dying.
		eventually(t, "no process left after Close", func() bool { return len(processGroup(pids.started()[0])) == 0 })
	})
}

// A command writing raw I420 frames (ffmpeg for rpicam-vid --codec yuv420)
// is a camera of frames of its size, at its rate; Close stops it.
func TestCommandCamera(t *testing.T) {
	requireFFmpeg(t)
	log, _ := commandLogger(t)
	cam := NewCommandCamera(CommandSettings{Command: []string{"ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
		"-pix_fmt", "yuv420p", "-f", "rawvideo", "-"}, Logger: log}, CameraSettings{Width: 320, Height: 240})
	defer cam.Close()
	checkRawFrames(t, cam, 320, 240)
}

// checkRawFrames checks that cam, a command's camera at 30 fps, delivers
// width x height 4:2:0 pictures, not black, at about 30 fps.
func checkRawFrames(t *testing.T, cam *Camera, width, height int) {
	t.Helper()
	sub := cam.SubscribeWith(NewQueue[image.Image](100))
	mustGet(t, sub) // started
	start := time.Now()
	var last image.Image
	for range 30 {
		last = mustGet(t, sub)
	}
	elapsed := time.Since(start)
	ycc, ok := last.(*image.YCbCr)
	if !ok || ycc.Rect.Dx() != width || ycc.Rect.Dy() != height || ycc.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Fatalf("frame %T %v, want a %dx%d 4:2:0 *image.YCbCr", last, last.Bounds(), width, height)
	}
	// 30 frame intervals at 30 fps: a second, give or take.
	if elapsed < 600*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("30 frames in %v: not 30 fps", elapsed)
	}
	if y := ycc.Y[height/2*ycc.YStride+width/2]; y == 0 {
		t.Error("the frame's middle is black: no picture read")
	}
}

// BenchmarkH264StreamLatency measures the time from an access unit's last
// byte written into a pipe to its frame reaching a subscriber, with the
// default FlushAfter: the latency a command's H.264 meets in this process
// before its track packetises it. The access units are x264's of a moving
// 1280x720 picture at 2.5 Mbit/s, in order.
//
//	go test -run '^$' -bench H264StreamLatency -benchtime 600x .
func BenchmarkH264StreamLatency(b *testing.B) {
	stream := ffmpegH264(b, 1280, 720, 60, 30, "-b:v", "2500k")
	frames := splitFrames(b, stream)
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer pw.Close()
	src := NewH264Stream(pr, EncodedStreamSettings{})
	defer src.Close()
	sub := src.Subscribe()
	ctx := testCtx(b)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		f := frames[i%len(frames)]
		if _, err := pw.Write(f.Data); err != nil {
			b.Fatal(err)
		}
		written := time.Now()
		got, err := sub.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(written))
		if len(got.Data) != len(f.Data) {
			b.Fatalf("frame %d: %d bytes, want %d", i, len(got.Data), len(f.Data))
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "µs-p50")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "µs-p99")
	if st := src.Stats(); st.Malformed != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// A writer that has written 60 pictures whole, each in one write, has
// each picture sent as soon as it is read, even from a reader without
// read deadlines; a picture it cuts short is reported, and the next ones
// wait for the one after them again.
func TestH264StreamLearnsWholePictures(t *testing.T) {
	frames := splitFrames(t, ffmpegH264(t, 320, 240, 90, 30))
	pr, pw := io.Pipe() // no SetReadDeadline: only what is learned flushes
	defer pw.Close()
	src := NewH264Stream(pr, EncodedStreamSettings{})
	defer src.Close()
	sub := src.SubscribeWith(NewQueue[EncodedFrame](100))
	for _, f := range frames[:62] {
		pw.Write(f.Data) // one read each: io.Pipe hands each write to one read
	}
	for i := range 62 { // the 62nd without the 63rd beginning
		if f := mustGet(t, sub); !bytes.Equal(f.Data, frames[i].Data) {
			t.Fatalf("frame %d differs", i)
		}
	}
	failed := make(chan error, 1)
	src.OnError(func(err error) { failed <- err })
	half := len(frames[62].Data) / 2
	pw.Write(frames[62].Data[:half])
	mustGet(t, sub)                  // sent at once, cut short
	pw.Write(frames[62].Data[half:]) // found out when the next start code comes
	pw.Write(frames[63].Data)
	if err := recv(t, failed); !errors.Is(err, ErrEncodedFrame) {
		t.Fatalf("error %v after a picture cut short, want ErrEncodedFrame", err)
	}
	next := time.Now()
	pw.Write(frames[64].Data)
	f := mustGet(t, sub)
	if !bytes.Equal(f.Data, frames[63].Data) {
		t.Fatal("frame 63 differs")
	}
	if f.Time.Before(next) {
		t.Fatal("frame 63 was sent before frame 64 began: the writer is still trusted after cutting a picture short")
	}
}

// ffmpegIVFArgs are ffmpeg's arguments for an IVF stream of VP8 (libvpx
// at real-time speed) of its moving test picture on standard output.
func ffmpegIVFArgs(width, height, frames int, realtime bool) []string {
	args := []string{"ffmpeg", "-nostdin", "-loglevel", "error"}
	if realtime {
		args = append(args, "-re")
	}
	args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", width, height))
	if frames > 0 {
		args = append(args, "-frames:v", fmt.Sprint(frames))
	}
	return append(args, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-b:v", "500k",
		"-flush_packets", "1", "-f", "ivf", "-")
}

// VP8 that ffmpeg's libvpx wrote in IVF is sent as it is: a Go desktop
// decodes frames of its size.
func TestIVFCommandToDesktop(t *testing.T) {
	requireFFmpeg(t)
	log, _ := commandLogger(t)
	src := NewIVFCommand(CommandSettings{Command: ffmpegIVFArgs(320, 240, 0, true), Logger: log}, EncodedStreamSettings{Logger: log})
	defer src.Close()
	robot := newConn(t) // VP8
	robot.Video().PutEncoded(src)
	desktop := newConn(t)
	frames := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	for range 10 {
		if img := mustGet(t, frames); img.Bounds().Dx() != 320 || img.Bounds().Dy() != 240 {
			t.Fatalf("frame of %v, want 320x240", img.Bounds())
		}
	}
	if st := src.Stats(); st.Keyframes == 0 || st.Malformed != 0 || src.Err() != nil {
		t.Fatalf("stats %+v, error %v", st, src.Err())
	}
}

// An IVF stream's frames come with their keyframes marked; a truncated
// stream ends the source cleanly; what is not IVF of VP8, or declares a
// frame over MaxAccessUnitSize, ends it with ErrEncodedFrame.
func TestIVFStream(t *testing.T) {
	requireFFmpeg(t)
	args := ffmpegIVFArgs(160, 120, 31, false)
	stream, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	read := func(data []byte) ([]EncodedFrame, error) {
		pr, pw := io.Pipe()
		src := NewIVFStream(pr, EncodedStreamSettings{})
		sub := src.SubscribeWith(NewQueue[EncodedFrame](100))
		go func() {
			pw.Write(data)
			pw.Close()
		}()
		var got []EncodedFrame
		for {
			f, err := sub.Get(testCtx(t))
			if errors.Is(err, ErrClosed) {
				return got, src.Err()
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, f)
		}
	}
	frames, err := read(stream)
	if err != nil || len(frames) != 31 || !frames[0].Keyframe || frames[1].Keyframe || !frames[30].Keyframe {
		t.Fatalf("%d frames, error %v; want 31 with keyframes at 0 and 30", len(frames), err)
	}
	if got, err := read(stream[:len(stream)-10]); err != nil || len(got) != 30 {
		t.Fatalf("truncated: %d frames, error %v; want 30, none", len(got), err)
	}
	vp9 := bytes.Clone(stream)
	copy(vp9[8:12], "VP90")
	huge := bytes.Clone(stream[:ivfFileHeaderSize+ivfFrameHeaderSize])
	binary.LittleEndian.PutUint32(huge[ivfFileHeaderSize:], MaxAccessUnitSize+1)
	for name, data := range map[string][]byte{"not IVF": []byte("RIFF and more bytes than a header holds"), "VP9": vp9, "huge frame": huge} {
		if got, err := read(data); !errors.Is(err, ErrEncodedFrame) || len(got) != 0 {
			t.Errorf("%s: %d frames, error %v; want none, ErrEncodedFrame", name, len(got), err)
		}
	}
}

// A read of whole 4 KB pages may be a writer's buffer with more of the
// picture to come: its picture waits 16 ms of quiet, not FlushAfter.
func TestH264StreamWaitsAfterWholePages(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	src := NewH264Stream(pr, EncodedStreamSettings{FlushAfter: time.Millisecond})
	defer src.Close()
	sub := src.Subscribe()
	au := make([]byte, 2*pageSize) // an IDR slice of exactly two pages
	copy(au, []byte{0, 0, 0, 1, 0x65, 0x88})
	for i := 6; i < len(au); i++ {
		au[i] = 0x55
	}
	written := time.Now()
	pw.Write(au)
	f := mustGet(t, sub)
	if waited := f.Time.Sub(written); len(f.Data) != len(au) || waited < maxFlushAfter {
		t.Fatalf("%d bytes sent after %v; want %d after %v at least", len(f.Data), waited, len(au), maxFlushAfter)
	}
}

// Encoded frames are sent with the time between their Times as their
// durations, within a millisecond and a second: two that came together
// still get RTP timestamps of their own.
func TestPassthroughDurations(t *testing.T) {
	e := newPassthroughEncoder(codecH264, nil)
	var got []time.Duration
	write := func(s media.Sample) { got = append(got, s.Duration) }
	t0 := time.Now()
	for _, at := range []time.Duration{0, 33 * time.Millisecond, 33 * time.Millisecond, 10 * time.Second} {
		if _, _, err := e.encode(EncodedFrame{Data: []byte{0, 0, 1, 0x65, 0x88}, Keyframe: true, Time: t0.Add(at)}, false, write); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{time.Second / 30, 33 * time.Millisecond, minFrameDuration, time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("durations %v, want %v", got, want)
	}
}
