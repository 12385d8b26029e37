//go:build !linux

package rtcbot

import (
	"errors"
	"testing"
)

func TestInputDevicesUnsupported(t *testing.T) {
	if _, err := NewGamepad(GamepadSettings{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("NewGamepad = %v, want errors.ErrUnsupported", err)
	}
	if _, err := NewKeyboard(InputDeviceSettings{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("NewKeyboard = %v, want errors.ErrUnsupported", err)
	}
	if _, err := NewMouse(InputDeviceSettings{Path: "/dev/input/event0"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("NewMouse = %v, want errors.ErrUnsupported", err)
	}
}
