// Package ffmpegtest makes Motion-JPEG frames with Debian's ffmpeg for the
// tests of codec/mjpeg and v4l2: real frames like a webcam's, from a moving
// picture. It is for this module's tests only.
package ffmpegtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// InstallCommand installs the ffmpeg the tests need.
const InstallCommand = "sudo apt-get install ffmpeg (or bash scripts/setup.sh)"

// MJPEG returns n frames of ffmpeg's moving testsrc2 picture, w x h at
// 30 fps, encoded by ffmpeg's mjpeg encoder in pixel format pixFmt
// (yuvj420p, yuvj422p or yuvj444p) with the encoder options args (such as
// "-huffman", "default"). A missing ffmpeg fails the test.
func MJPEG(t testing.TB, w, h int, pixFmt string, n int, args ...string) [][]byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("no ffmpeg to make Motion-JPEG frames: %s", InstallCommand)
	}
	// testsrc2 rounds its size up to even: an odd size is scaled from it.
	cmdArgs := []string{"-loglevel", "error", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30", w, h),
		"-vf", fmt.Sprintf("scale=%d:%d", w, h), "-frames:v", fmt.Sprint(n), "-c:v", "mjpeg", "-pix_fmt", pixFmt}
	cmdArgs = append(cmdArgs, args...)
	cmdArgs = append(cmdArgs, "-f", "mjpeg", "-")
	var stderr bytes.Buffer
	cmd := exec.Command(ffmpeg, cmdArgs...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", strings.Join(cmdArgs, " "), err, stderr.Bytes())
	}
	frames := Split(out)
	if len(frames) != n {
		t.Fatalf("ffmpeg %s: %d frames in %d bytes, want %d", strings.Join(cmdArgs, " "), len(frames), len(out), n)
	}
	return frames
}

// Split splits a Motion-JPEG stream into its frames, each from a start of
// image marker (FF D8) to the next end of image marker (FF D9), which the
// entropy-coded data cannot contain.
func Split(stream []byte) [][]byte {
	var frames [][]byte
	for {
		start := bytes.Index(stream, []byte{0xff, 0xd8})
		if start < 0 {
			return frames
		}
		end := bytes.Index(stream[start+2:], []byte{0xff, 0xd9})
		if end < 0 {
			return frames
		}
		end += start + 4
		frames = append(frames, stream[start:end:end])
		stream = stream[end:]
	}
}
