package exampleutil

import (
	"errors"
	"net"
	"testing"

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
