//go:build cgo

package h264_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLinkedOnlyWhenImported builds a small program that imports package
// rtcbot alone, and the same program importing codec/h264 too, with cgo, as
// a user would: the first depends on neither codec/x264 nor codec/avcodec,
// links neither libx264 nor libavcodec (ldd), refuses to send H.264 with
// rtcbot.ErrCodecNotSupported and offers to receive VP8 alone; the second
// links both, sends H.264 and offers to receive it.
//
// The programs are built with the test binary's -race setting, so that
// they reuse the packages the go command compiled for it and only link.
func TestLinkedOnlyWhenImported(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks the linked libraries with ldd")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Skip("no ldd")
	}
	probe, err := os.ReadFile(filepath.Join("testdata", "probe", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	const h264Import = "package main\n\nimport _ \"github.com/rtcbot-go/rtcbot/codec/h264\"\n"
	gplPackages := []string{
		"github.com/rtcbot-go/rtcbot/codec/h264",
		"github.com/rtcbot-go/rtcbot/codec/x264",
		"github.com/rtcbot-go/rtcbot/codec/avcodec",
		"github.com/pion/mediadevices/pkg/codec/x264",
	}
	gplLibraries := []string{"libx264.so", "libavcodec.so"}

	for _, tt := range []struct {
		name    string
		files   map[string]string
		h264    bool
		outputs []string
	}{
		{"rtcbot alone", map[string]string{"main.go": string(probe)}, false, []string{
			`send H264: not supported: rtcbot: sending H.264 video needs an H.264 encoder: import _ "github.com/rtcbot-go/rtcbot/codec/h264"`,
			"receive: VP8\n",
		}},
		{"with codec/h264", map[string]string{"main.go": string(probe), "h264.go": h264Import}, true, []string{
			"send H264: ok\n",
			"receive: VP8 H264\n",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, filepath.Join(dir, name))
			}
			slices.Sort(files)
			run := func(name string, args ...string) string {
				t.Helper()
				cmd := exec.Command(name, args...)
				cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
				out, err := cmd.Output()
				if err != nil {
					stderr := ""
					if e, ok := err.(*exec.ExitError); ok {
						stderr = string(e.Stderr)
					}
					t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
				}
				return string(out)
			}

			deps := strings.Fields(run(goTool, append([]string{"list", "-deps"}, files...)...))
			if !slices.Contains(deps, "github.com/rtcbot-go/rtcbot/codec/vp8") {
				t.Fatalf("go list -deps lacks codec/vp8: not a cgo build of rtcbot?\n%s", strings.Join(deps, "\n"))
			}
			for _, p := range gplPackages {
				if slices.Contains(deps, p) != tt.h264 {
					t.Errorf("go list -deps has %s: %v, want %v", p, !tt.h264, tt.h264)
				}
			}

			bin := filepath.Join(dir, "probe")
			build := []string{"build", "-o", bin}
			if raceEnabled {
				build = append(build, "-race")
			}
			run(goTool, append(build, files...)...)
			libs := run(ldd, bin)
			if !strings.Contains(libs, "libvpx.so") || !strings.Contains(libs, "libopus.so") {
				t.Errorf("ldd shows no libvpx or libopus, which every cgo build links:\n%s", libs)
			}
			for _, lib := range gplLibraries {
				if strings.Contains(libs, lib) != tt.h264 {
					t.Errorf("ldd shows %s: %v, want %v:\n%s", lib, !tt.h264, tt.h264, libs)
				}
			}

			out := run(bin)
			for _, want := range tt.outputs {
				if !strings.Contains(out, want) {
					t.Errorf("the program printed\n%s\nwant a line with %q", out, want)
				}
			}
			t.Logf("%s", out)
		})
	}
}
