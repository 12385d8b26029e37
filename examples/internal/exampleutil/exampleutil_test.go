package exampleutil

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

func TestPageURL(t *testing.T) {
	for _, tc := range []struct {
		addr, token, want string
	}{
		{"0.0.0.0:8080", "abc", "http://localhost:8080/?token=abc"},
		{"[::]:8080", "abc", "http://localhost:8080/?token=abc"},
		{"127.0.0.1:9000", "a b&c", "http://127.0.0.1:9000/?token=a+b%26c"},
		{"[::1]:9000", "", "http://[::1]:9000/?token="},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := PageURL(a, tc.token); got != tc.want {
			t.Errorf("PageURL(%s, %q) = %q, want %q", tc.addr, tc.token, got, tc.want)
		}
	}
}

func TestOpenCamera(t *testing.T) {
	cam, err := OpenCamera("testpattern", rtcbot.CameraSettings{Width: 64, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	if s := cam.Settings(); s.Width != 64 || s.Height != 48 {
		t.Errorf("Settings = %+v, want 64x48", s)
	}
	cam.Close()
	if _, err := OpenCamera("testpattern", rtcbot.CameraSettings{Width: 16, Height: 16}); !errors.Is(err, rtcbot.ErrFrameTooSmall) {
		t.Errorf("a 16x16 test pattern: %v, want ErrFrameTooSmall", err)
	}
	if _, err := OpenCamera("webcam", rtcbot.CameraSettings{}); err == nil {
		t.Error("an unknown kind opened")
	}
}

// Without a camera (no /dev/video0 here), the V4L2 camera fails at once with
// an error, and "auto" streams the test pattern instead, in a build with or
// without OpenCV.
func TestOpenCameraWithoutCamera(t *testing.T) {
	if _, err := os.Stat("/dev/video0"); err == nil {
		t.Skip("this machine has a camera, /dev/video0")
	}
	cs := rtcbot.CameraSettings{Width: 64, Height: 48}
	start := time.Now()
	if cam, err := OpenCamera("v4l2", cs); err == nil {
		cam.Close()
		t.Fatal("the V4L2 camera opened without /dev/video0")
	} else {
		t.Logf("v4l2: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the V4L2 camera took %v to fail", d)
	}
	cam, err := OpenCamera("auto", cs)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	if s := cam.Settings(); s.Width != 64 || s.Height != 48 {
		t.Errorf("auto: Settings = %+v, want the 64x48 test pattern", s)
	}
}

// Only a build with -tags opencv has the OpenCV camera and window; without
// it, asking for them is ErrNoOpenCV.
func TestOpenCV(t *testing.T) {
	built := openCVCamera != nil
	if (openCVWindow != nil) != built {
		t.Fatal("the OpenCV camera and window are not both set, or both unset")
	}
	check := func(what string, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s opened", what)
		case errors.Is(err, ErrNoOpenCV) == built:
			t.Errorf("%s, built with OpenCV %v: %v", what, built, err)
		}
	}
	_, err := OpenCamera("cv", rtcbot.CameraSettings{Device: 99})
	check("OpenCV camera 99", err)
	if built && rtcbot.CheckDisplay() == nil {
		return // a window would open on this screen
	}
	_, err = OpenWindow("test", 1)
	check("a window", err)
}

// SplitCommand splits as sh does: checked against the words sh itself
// makes of each line.
func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  \t ", nil},
		{"ffmpeg -f lavfi -i testsrc2", []string{"ffmpeg", "-f", "lavfi", "-i", "testsrc2"}},
		{"  a   b  ", []string{"a", "b"}},
		{`gst-launch-1.0 'video/x-h264, stream-format=byte-stream' ! fdsink`, []string{"gst-launch-1.0", "video/x-h264, stream-format=byte-stream", "!", "fdsink"}},
		{`a "b c" d`, []string{"a", "b c", "d"}},
		{`a"b c"d 'e'f`, []string{"ab cd", "ef"}},
		{`'' ""`, []string{"", ""}},
		{`"it's" 'say "hi"'`, []string{"it's", `say "hi"`}},
		{`"a \" \\ \x"`, []string{`a " \ \x`}},
		{`'a \" b'`, []string{`a \" b`}},
		{`a\ b c\'d`, []string{"a b", "c'd"}},
		{"a \\\nb", []string{"a", "b"}},
		{"\"a\\\nb\"", []string{"ab"}},
	} {
		got, err := SplitCommand(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		out, err := exec.Command("sh", "-c", `printf '%s\0' `+tc.in+` x`).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if sh := strings.Split(strings.TrimSuffix(string(out), "x\x00"), "\x00"); !slices.Equal(sh[:len(sh)-1], tc.want) {
			t.Errorf("sh splits %q into %q, SplitCommand into %q", tc.in, sh[:len(sh)-1], got)
		}
	}
	for _, in := range []string{`a 'b`, `a "b`, `a "b\"`, `a\`} {
		if got, err := SplitCommand(in); err == nil {
			t.Errorf("SplitCommand(%q) = %q, want an error", in, got)
		}
	}
}

// OpenVideo's encoded kinds: a command's H.264 is sent as it is (codec
// H264) once its first frame came; a command or rpicam-vid that is not
// installed is an error saying so.
func TestOpenVideo(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is not installed: sudo apt-get install ffmpeg (or bash scripts/setup.sh): %v", err)
	}
	v, err := OpenVideo(`cmd:ffmpeg -nostdin -loglevel error -re -f lavfi -i "testsrc2=size=320x240:rate=30" -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -f h264 -`,
		rtcbot.CameraSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Encoded == nil || v.Camera != nil || v.Codec() != "H264" || !v.Encoded.IsReady() {
		t.Errorf("cmd: video %+v, codec %q, want a ready encoded source, H264", v, v.Codec())
	}
	v.Close()

	cam, err := OpenVideo("testpattern", rtcbot.CameraSettings{Width: 64, Height: 48})
	if err != nil || cam.Camera == nil || cam.Codec() != "" {
		t.Fatalf("testpattern: %+v, %v", cam, err)
	}
	cam.Close()

	if _, err := OpenVideo("cmd:rtcbot-no-such-command -o -", rtcbot.CameraSettings{}); !errors.Is(err, rtcbot.ErrCommand) {
		t.Errorf("a command that is not installed: %v, want ErrCommand", err)
	}
	t.Setenv("PATH", t.TempDir()) // no rpicam-vid
	for _, kind := range []string{"pi", "pi-raw"} {
		if _, err := OpenVideo(kind, rtcbot.CameraSettings{}); !errors.Is(err, rtcbot.ErrCommand) || !strings.Contains(err.Error(), "sudo apt install rpicam-apps") {
			t.Errorf("-camera %s without rpicam-vid: %v, want ErrCommand saying to install rpicam-apps", kind, err)
		}
	}
	for _, kind := range []string{"cmd:", "cmd:'a", "webcam"} {
		if v, err := OpenVideo(kind, rtcbot.CameraSettings{}); err == nil {
			v.Close()
			t.Errorf("-camera %s opened", kind)
		}
	}
}
