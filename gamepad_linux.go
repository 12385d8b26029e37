package rtcbot

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/0xcafed00d/joystick"
	"github.com/kenshaw/evdev"
)

// openGamepad opens the gamepad of s: its Path, else the first gamepad's
// evdev node, else the first joystick node.
func openGamepad(s GamepadSettings) (*Gamepad, error) {
	if s.Path != "" {
		if n, ok := joystickNumber(s.Path); ok {
			return openJoystickGamepad(n, s)
		}
		name, err := probeInputDevice(s.Path)
		if err != nil {
			return nil, err
		}
		return openEvdevGamepad(s.Path, name, s)
	}
	path, name, evErr := findInputDevice(inputDir, "gamepad", isGamepad)
	if evErr == nil {
		return openEvdevGamepad(path, name, s)
	}
	// Joystick mode: the first joystick node that opens.
	paths, _ := filepath.Glob(filepath.Join(inputDir, "js*"))
	slices.SortFunc(paths, func(a, b string) int { return deviceNumber(a, "js") - deviceNumber(b, "js") })
	var jsErr error
	for _, p := range paths {
		n, ok := joystickNumber(p)
		if !ok {
			continue
		}
		g, err := openJoystickGamepad(n, s)
		if err == nil {
			return g, nil
		}
		if jsErr == nil {
			jsErr = err
		}
	}
	if jsErr != nil {
		return nil, fmt.Errorf("%w; joystick mode failed too: %w", evErr, jsErr)
	}
	return nil, fmt.Errorf("%w (and no joystick in %s)", evErr, inputDir)
}

// openEvdevGamepad opens the evdev node at path for reading and starts a
// Gamepad on it.
func openEvdevGamepad(path, name string, s GamepadSettings) (*Gamepad, error) {
	// A fresh file, never handed to evdev: evdev's ioctls call Fd, which
	// would make the file blocking, and Close could then no longer wake the
	// goroutine reading it.
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("rtcbot: gamepad: %w", err)
	}
	return newGamepad(newEvdevSource(f), name, path, s.Filter), nil
}

// isGamepad reports whether dev is a gamepad or joystick: it has absolute
// axes and the first button of the kernel's gamepad range (BTN_SOUTH, also
// called BTN_GAMEPAD) or of its joystick range (BTN_TRIGGER, BTN_JOYSTICK).
func isGamepad(dev *evdev.Evdev) bool {
	types := dev.EventTypes()
	if !types[evdev.EventKey] || !types[evdev.EventAbsolute] {
		return false
	}
	keys := dev.KeyTypes()
	return keys[evdev.BtnGamepad] || keys[evdev.BtnJoystick]
}

// jsName matches a joystick node's name.
var jsName = regexp.MustCompile(`^js([0-9]+)$`)

// joystickNumber returns N when path is, or links to, /dev/input/jsN.
func joystickNumber(path string) (int, bool) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	m := jsName.FindStringSubmatch(filepath.Base(path))
	if m == nil || filepath.Dir(path) != inputDir {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// deviceNumber returns the N of a device node named prefix+N, or -1.
func deviceNumber(path, prefix string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), prefix))
	if err != nil {
		return -1
	}
	return n
}

// openJoystickGamepad opens /dev/input/js<n> with the joystick package and
// starts a joystick-mode Gamepad polling it, its axes and buttons named by
// the kernel's joystick map.
func openJoystickGamepad(n int, s GamepadSettings) (*Gamepad, error) {
	path := filepath.Join(inputDir, "js"+strconv.Itoa(n))
	axes, buttons, err := joystickMap(path)
	if err != nil {
		return nil, err
	}
	js, err := openJoystick(joystick.Open, n)
	if err != nil {
		return nil, err
	}
	return gamepadOn(js, path, axes, buttons, s), nil
}

// gamepadOn starts a joystick-mode Gamepad polling js, a joystick of the
// joystick package at path, whose axes and buttons have the given codes.
func gamepadOn(js joystick.Joystick, path string, axes, buttons []string, s GamepadSettings) *Gamepad {
	name := strings.TrimRight(js.Name(), "\x00")
	if n := js.ButtonCount(); n < len(buttons) {
		buttons = buttons[:n]
	}
	src := newJoystickSource(joystickAdapter{js}, axes, buttons, s.PollInterval)
	return newGamepad(src, name, path, s.Filter)
}

// The joystick interface's ioctls (linux/joystick.h), encoded as
// _IOR('j', nr, size) for the architectures with the generic ioctl layout
// (x86, arm, arm64, riscv), as the joystick package encodes its own.
const (
	jsAxisMapSize   = 0x40              // __u8[ABS_CNT]
	jsButtonMapSize = 0x2ff - 0x100 + 1 // __u16[KEY_MAX - BTN_MISC + 1]
	jsiocgaxes      = 2<<30 | 1<<16 | 'j'<<8 | 0x11
	jsiocgbuttons   = 2<<30 | 1<<16 | 'j'<<8 | 0x12
	jsiocgaxmap     = 2<<30 | jsAxisMapSize<<16 | 'j'<<8 | 0x32
	jsiocgbtnmap    = 2<<30 | (2*jsButtonMapSize)<<16 | 'j'<<8 | 0x34
	evAbsType       = 0x03
	evKeyType       = 0x01
)

// joystickMap asks the joystick node at path for the evdev codes of its
// axes and buttons: the kernel's axis map (JSIOCGAXMAP) gives axis i's ABS_
// code, its button map (JSIOCGBTNMAP) button i's BTN_ or KEY_ code.
func joystickMap(path string) (axes, buttons []string, err error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("rtcbot: gamepad: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer syscall.Close(fd)
	var nAxes, nButtons uint8
	var axisMap [jsAxisMapSize]uint8
	var buttonMap [jsButtonMapSize]uint16
	for _, q := range []struct {
		req  uintptr
		arg  unsafe.Pointer
		name string
	}{
		{jsiocgaxes, unsafe.Pointer(&nAxes), "JSIOCGAXES"},
		{jsiocgbuttons, unsafe.Pointer(&nButtons), "JSIOCGBUTTONS"},
		{jsiocgaxmap, unsafe.Pointer(&axisMap), "JSIOCGAXMAP"},
		{jsiocgbtnmap, unsafe.Pointer(&buttonMap), "JSIOCGBTNMAP"},
	} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), q.req, uintptr(q.arg)); e != 0 {
			return nil, nil, fmt.Errorf("rtcbot: gamepad %s: %s: %w", path, q.name, e)
		}
	}
	axes, buttons = joystickCodes(axisMap[:], buttonMap[:], int(nAxes), int(nButtons))
	return axes, buttons, nil
}

// joystickCodes names the first nAxes entries of a joystick axis map and
// the first nButtons of a button map with their evdev codes.
func joystickCodes(axisMap []uint8, buttonMap []uint16, nAxes, nButtons int) (axes, buttons []string) {
	for _, c := range axisMap[:min(nAxes, len(axisMap))] {
		_, name := inputNames(evAbsType, uint16(c))
		axes = append(axes, name)
	}
	for _, c := range buttonMap[:min(nButtons, len(buttonMap))] {
		_, name := inputNames(evKeyType, c)
		buttons = append(buttons, name)
	}
	return axes, buttons
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
