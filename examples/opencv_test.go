package examples_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestOpenCVOnlyWithTag checks that the examples link OpenCV only when built
// with -tags opencv, the way codec/h264's TestLinkedOnlyWhenImported checks
// the GPL codecs. Built by default, no example with a camera depends on
// package cv or gocv (go list -deps), the offload robot links no libopencv
// (ldd) and its -camera cv fails saying how to build with OpenCV. Built with
// -tags opencv, they depend on both, the robot links libopencv and -camera
// cv is OpenCV's camera. In both, -camera v4l2 is the V4L2 camera.
func TestOpenCVOnlyWithTag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the robot twice")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks the linked libraries with ldd")
	}
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Fatal("no ldd: install it with sudo apt-get install libc-bin")
	}
	t.Parallel()
	ctx := testCtx(t)
	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, name, args...).Output()
		if err != nil {
			var e *exec.ExitError
			if errors.As(err, &e) {
				out = append(out, e.Stderr...)
			}
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cameraExamples := []string{"audio", "basics", "multiconnect", "offload/desktop", "offload/robot", "remotecontrol", "streaming"} // a camera or a window
	opencvPackages := []string{"github.com/rtcbot-go/rtcbot/cv", "gocv.io/x/gocv"}
	const v4l2Package = "github.com/rtcbot-go/rtcbot/v4l2"

	tagged := filepath.Join(binDir, "offload-robot-opencv")
	for _, tt := range []struct {
		name   string
		tags   []string
		opencv bool
		bin    func(*testing.T) string
		cvErr  string // what -camera cv -device 99 says
	}{
		{"default", nil, false, func(t *testing.T) string { return build(t, ctx, "offload/robot") },
			"-camera cv: this program is built without OpenCV: build it with the opencv tag (go build -tags opencv, or go run -tags opencv)"},
		{"-tags opencv", []string{"-tags", "opencv"}, true, func(t *testing.T) string {
			run(t, "go", "build", "-tags", "opencv", "-o", tagged, "./offload/robot")
			return tagged
		}, "cv: no camera 99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"list"}, tt.tags...)
			args = append(args, "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}")
			for _, e := range cameraExamples {
				args = append(args, "./"+e)
			}
			for line := range strings.Lines(run(t, "go", args...)) {
				deps := strings.Fields(line)
				for _, p := range opencvPackages {
					if slices.Contains(deps[1:], p) != tt.opencv {
						t.Errorf("%s depends on %s: %v, want %v", deps[0], p, !tt.opencv, tt.opencv)
					}
				}
				if !slices.Contains(deps[1:], v4l2Package) {
					t.Errorf("%s does not depend on %s", deps[0], v4l2Package)
				}
			}

			bin := tt.bin(t)
			libs := run(t, ldd, bin)
			if !strings.Contains(libs, "libvpx.so") {
				t.Errorf("ldd shows no libvpx, which every example with video links:\n%s", libs)
			}
			if strings.Contains(libs, "libopencv") != tt.opencv {
				t.Errorf("ldd shows libopencv: %v, want %v:\n%s", !tt.opencv, tt.opencv, libs)
			}

			// Camera 99 is missing, so neither camera opens: the errors
			// show which camera each kind is.
			for kind, want := range map[string]string{"cv": tt.cvErr, "v4l2": "v4l2: no camera 99"} {
				out, err := exec.CommandContext(ctx, bin, "-camera", kind, "-device", "99").CombinedOutput()
				if err == nil {
					t.Errorf("-camera %s -device 99 started a robot:\n%s", kind, out)
				}
				if !strings.Contains(string(out), want) {
					t.Errorf("-camera %s -device 99 printed\n%s\nwant a line with %q", kind, out, want)
				}
			}
		})
	}
}
