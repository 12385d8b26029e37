package rtcbot

import (
	"fmt"
	"strings"

	"github.com/0xcafed00d/joystick"
)

// openGamepad opens the joystick of s with the joystick package.
func openGamepad(s GamepadSettings) (*Gamepad, error) {
	js, err := openJoystick(joystick.Open, s.Device)
	if err != nil {
		return nil, err
	}
	return gamepadOn(js, s), nil
}

// gamepadOn starts a Gamepad polling js, a joystick of the joystick
// package.
func gamepadOn(js joystick.Joystick, s GamepadSettings) *Gamepad {
	name := strings.TrimRight(js.Name(), "\x00")
	return newGamepad(joystickAdapter{js}, name, js.ButtonCount(), s)
}

// openJoystick opens joystick id with open, turning open's panics (the
// joystick package panics when a device query fails) into errors.
func openJoystick(open func(int) (joystick.Joystick, error), id int) (js joystick.Joystick, err error) {
	if id < 0 {
		return nil, fmt.Errorf("rtcbot: gamepad: joystick number %d is negative", id)
	}
	defer func() {
		if r := recover(); r != nil {
			js = nil
			if e, ok := r.(error); ok {
				err = fmt.Errorf("rtcbot: gamepad /dev/input/js%d: device query failed: %w", id, e)
			} else {
				err = fmt.Errorf("rtcbot: gamepad /dev/input/js%d: device query failed: %v", id, r)
			}
		}
	}()
	js, err = open(id)
	if err != nil {
		return nil, fmt.Errorf("rtcbot: gamepad: %w", err)
	}
	if js == nil {
		return nil, fmt.Errorf("rtcbot: gamepad /dev/input/js%d: no joystick", id)
	}
	return js, nil
}

// joystickAdapter reads a joystick of the joystick package.
type joystickAdapter struct{ js joystick.Joystick }

// Read returns the joystick's current state.
func (a joystickAdapter) Read() (joystickState, error) {
	s, err := a.js.Read()
	if err != nil {
		return joystickState{}, err
	}
	// The package returns its own axis slice, which its reading goroutine
	// keeps writing: copy it at once.
	return joystickState{Axes: append([]int(nil), s.AxisData...), Buttons: s.Buttons}, nil
}

// Close closes the joystick.
func (a joystickAdapter) Close() { a.js.Close() }
