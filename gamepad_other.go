//go:build !linux

package rtcbot

import (
	"errors"
	"fmt"
)

// openGamepad fails: the joystick interface is Linux's.
func openGamepad(GamepadSettings) (*Gamepad, error) {
	return nil, fmt.Errorf("rtcbot: gamepad: the Linux joystick interface is not available here: %w", errors.ErrUnsupported)
}
