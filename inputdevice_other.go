//go:build !linux

package rtcbot

import (
	"errors"
	"fmt"
)

// errNoEvdev is what opening an evdev device returns where there is none.
var errNoEvdev = fmt.Errorf("rtcbot: input devices: Linux evdev is not available here: %w", errors.ErrUnsupported)

// probeInputDevice fails: evdev is Linux's.
func probeInputDevice(string) (string, error) { return "", errNoEvdev }

// findInputDeviceKind fails: evdev is Linux's.
func findInputDeviceKind(string) (string, string, error) { return "", "", errNoEvdev }
