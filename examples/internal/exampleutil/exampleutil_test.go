package exampleutil

import (
	"errors"
	"net"
	"os"
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
