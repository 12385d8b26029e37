//go:build !linux

package rtcbot

import (
	"errors"
	"fmt"
)

// openGamepad fails: evdev and the joystick interface are Linux's.
func openGamepad(GamepadSettings) (*Gamepad, error) {
	return nil, fmt.Errorf("rtcbot: gamepad: Linux evdev and the joystick interface are not available here: %w", errors.ErrUnsupported)
}
