package rtcbot

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeRPiCamVid is a stand-in for rpicam-vid: it refuses an option
// rpicam-vid would not take from us, records its arguments in $0.args, and
// runs ffmpeg writing what rpicam-vid writes for them: raw I420 frames of
// ffmpeg's moving test picture (--codec yuv420), or an H.264 Annex-B stream
// of it (--codec h264), keyframes every --intra frames, in real time.
const fakeRPiCamVid = `#!/bin/sh
printf '%s\n' "$@" > "$0.args"
codec=h264 width=640 height=480 fps=30 intra=60 profile=high
while [ $# -gt 0 ]; do
	case "$1" in
	-t|--codec|--profile|--intra|--width|--height|--framerate|--rotation|--bitrate|--camera|-o)
		if [ $# -lt 2 ]; then echo "$0: $1 needs a value" >&2; exit 2; fi
		case "$1" in
		--codec) codec=$2 ;;
		--profile) profile=$2 ;;
		--intra) intra=$2 ;;
		--width) width=$2 ;;
		--height) height=$2 ;;
		--framerate) fps=$2 ;;
		--rotation) [ "$2" = 0 ] || [ "$2" = 180 ] || { echo "$0: bad rotation $2" >&2; exit 2; } ;;
		-o) [ "$2" = - ] || { echo "$0: not writing to standard output" >&2; exit 2; } ;;
		esac
		shift 2 ;;
	-n|--inline|--flush|--hflip|--vflip)
		shift ;;
	*)
		echo "$0: unknown option $1" >&2; exit 2 ;;
	esac
done
src="testsrc2=size=${width}x${height}:rate=${fps}"
case "$codec" in
yuv420) exec ffmpeg -nostdin -loglevel error -re -f lavfi -i "$src" -pix_fmt yuv420p -f rawvideo - ;;
h264) exec ffmpeg -nostdin -loglevel error -re -f lavfi -i "$src" -c:v libx264 -preset ultrafast -tune zerolatency \
	-profile:v "$profile" -pix_fmt yuv420p -g "$intra" -threads 1 -flush_packets 1 -f h264 - ;;
esac
echo "$0: unknown codec $codec" >&2
exit 2
`

// fakePiCamera puts the stand-in first on PATH under each of names and
// returns its directory. Running it needs ffmpeg (requireFFmpeg).
func fakePiCamera(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fakeRPiCamVid), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// ranWith returns the arguments the stand-in was last run with.
func ranWith(t *testing.T, dir, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".args"))
	if err != nil {
		t.Fatalf("the stand-in %s did not run: %v", name, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The command lines, flag by flag; settings out of range are
// ErrInvalidSettings, and make a closed camera or source; libcamera-vid is
// run when rpicam-vid is not installed.
func TestPiCameraCommandLine(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // neither is installed: rpicam-vid
	for _, tc := range []struct {
		s    PiCameraSettings
		h264 bool
		want string
	}{
		{PiCameraSettings{}, true,
			"rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 30 --width 320 --height 240 --framerate 30 --flush -o -"},
		{PiCameraSettings{}, false,
			"rpicam-vid -t 0 -n --codec yuv420 --width 320 --height 240 --framerate 30 --flush -o -"},
		{PiCameraSettings{Width: 1280, Height: 720, FPS: 25, Rotation: 180, HFlip: true, VFlip: true, IntraPeriod: 10, Bitrate: 2_000_000, Camera: 1,
			ExtraArgs: []string{"--denoise", "cdn_off"}}, true,
			"rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 10 --bitrate 2000000 --width 1280 --height 720 --framerate 25 " +
				"--rotation 180 --hflip --vflip --camera 1 --flush -o - --denoise cdn_off"},
		{PiCameraSettings{FPS: 15}, true, // the intra period follows the rate: a keyframe a second
			"rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 15 --width 320 --height 240 --framerate 15 --flush -o -"},
		{PiCameraSettings{Width: 640, Height: 480, Rotation: 180, HFlip: true, IntraPeriod: 5, Bitrate: 1000}, false, // no H.264 flags for raw frames
			"rpicam-vid -t 0 -n --codec yuv420 --width 640 --height 480 --framerate 30 --rotation 180 --hflip --flush -o -"},
		{PiCameraSettings{Width: 100, Height: 100}, true, // any size for H.264
			"rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 30 --width 100 --height 100 --framerate 30 --flush -o -"},
	} {
		got, err := tc.s.CommandLine(tc.h264)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%+v CommandLine(%v) =\n%q, %v; want\n%q", tc.s, tc.h264, strings.Join(got, " "), err, tc.want)
		}
	}

	for _, tc := range []struct {
		s    PiCameraSettings
		h264 bool
	}{
		{PiCameraSettings{Rotation: 90}, true},
		{PiCameraSettings{Rotation: 90}, false},
		{PiCameraSettings{Rotation: -180}, true},
		{PiCameraSettings{Camera: -1}, true},
		{PiCameraSettings{Bitrate: -1}, true},
		{PiCameraSettings{Width: 100, Height: 100}, false}, // raw rows are padded to 64
	} {
		if _, err := tc.s.CommandLine(tc.h264); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("%+v CommandLine(%v): %v, want ErrInvalidSettings", tc.s, tc.h264, err)
		}
		var err error
		if tc.h264 {
			src := NewPiCameraH264(tc.s)
			closedWithin(t, src.Done(), "source with invalid settings")
			err = src.Err()
		} else {
			cam := NewPiCamera(tc.s)
			closedWithin(t, cam.Done(), "camera with invalid settings")
			err = cam.Err()
		}
		if !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("%+v, h264 %v: error %v, want ErrInvalidSettings", tc.s, tc.h264, err)
		}
	}
	if _, err := (PiCameraSettings{Rotation: 90}).CommandLine(true); err == nil || !strings.Contains(err.Error(), "0 or 180") {
		t.Errorf("rotation 90: %v, want an error saying 0 or 180", err)
	}

	fakePiCamera(t, "libcamera-vid") // bullseye's name only
	if got, _ := (PiCameraSettings{}).CommandLine(true); got[0] != "libcamera-vid" {
		t.Errorf("with libcamera-vid only, the command is %q", got[0])
	}
	fakePiCamera(t, "rpicam-vid") // both: rpicam-vid
	if got, _ := (PiCameraSettings{}).CommandLine(true); got[0] != "rpicam-vid" {
		t.Errorf("with both installed, the command is %q, want rpicam-vid", got[0])
	}
}

// Without rpicam-vid or libcamera-vid, the camera and the source close
// with an error saying what is missing and what to install.
func TestPiCameraNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	log, _ := commandLogger(t)
	cam := NewPiCamera(PiCameraSettings{Command: CommandSettings{Logger: log}})
	defer cam.Close()
	src := NewPiCameraH264(PiCameraSettings{Command: CommandSettings{Logger: log}})
	defer src.Close()
	closedWithin(t, cam.Done(), "camera")
	closedWithin(t, src.Done(), "source")
	for _, err := range []error{cam.Err(), src.Err()} {
		if !errors.Is(err, ErrCommand) || !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("error %v, want ErrCommand and exec.ErrNotFound", err)
			continue
		}
		for _, want := range []string{"rpicam-vid is not installed", "libcamera-vid", "sudo apt install rpicam-apps", "libcamera-apps"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	}
}

// NewPiCamera runs rpicam-vid for raw frames (the stand-in's ffmpeg) and is
// a camera of *image.YCbCr frames of the asked size at the asked rate; Close
// stops the command.
func TestPiCameraRawFrames(t *testing.T) {
	requireFFmpeg(t)
	dir := fakePiCamera(t, "rpicam-vid")
	log, pids := commandLogger(t)
	cam := NewPiCamera(PiCameraSettings{Width: 320, Height: 240, FPS: 30, Rotation: 180, HFlip: true, Command: CommandSettings{Logger: log}})
	defer cam.Close()
	checkRawFrames(t, cam, 320, 240)
	args := ranWith(t, dir, "rpicam-vid")
	for _, flag := range [][]string{{"--codec", "yuv420"}, {"--width", "320"}, {"--height", "240"}, {"--framerate", "30"}, {"--rotation", "180"}, {"--hflip"}} {
		if !containsRun(args, flag) {
			t.Errorf("rpicam-vid ran with %q: no %q", args, flag)
		}
	}
	cam.Close()
	if err := cam.Err(); err != nil {
		t.Errorf("camera error %v", err)
	}
	if len(pids.started()) != 1 {
		t.Errorf("%d starts of rpicam-vid, want 1", len(pids.started()))
	}
}

// NewPiCameraH264's stream (the stand-in's x264 for the Pi's encoder) goes
// to a Go desktop as it is, on an H.264 connection: it decodes frames of the
// asked size.
func TestPiCameraH264ToDesktop(t *testing.T) {
	requireH264(t)
	requireFFmpeg(t)
	dir := fakePiCamera(t, "rpicam-vid")
	log, _ := commandLogger(t)
	src := NewPiCameraH264(PiCameraSettings{Width: 640, Height: 480, FPS: 30, VFlip: true, IntraPeriod: 15, Bitrate: 1_500_000,
		Command: CommandSettings{Logger: log}})
	defer src.Close()
	robot := newConnWith(t, h264Settings())
	robot.Video().PutEncoded(src)
	desktop := newConn(t)
	frames := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	for range 10 {
		img, err := frames.Get(mediaCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
			t.Fatalf("frame of %v, want 640x480", b)
		}
	}
	args := ranWith(t, dir, "rpicam-vid")
	for _, flag := range [][]string{{"--codec", "h264"}, {"--profile", "baseline"}, {"--inline"}, {"--intra", "15"}, {"--bitrate", "1500000"},
		{"--width", "640"}, {"--height", "480"}, {"--vflip"}, {"-o", "-"}} {
		if !containsRun(args, flag) {
			t.Errorf("rpicam-vid ran with %q: no %q", args, flag)
		}
	}
	if st := src.Stats(); st.Keyframes == 0 || st.Malformed != 0 {
		t.Errorf("source stats %+v: want keyframes, nothing malformed", st)
	}
	if err := src.Err(); err != nil {
		t.Errorf("source error %v", err)
	}
}

// containsRun reports whether run appears in args, in order and together.
func containsRun(args, run []string) bool {
	for i := range args {
		if i+len(run) <= len(args) && slices.Equal(args[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
