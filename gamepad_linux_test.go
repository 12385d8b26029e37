package rtcbot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/0xcafed00d/joystick"
)

func TestNewGamepadErrors(t *testing.T) {
	if _, err := os.Stat("/dev/input/js99"); err == nil {
		t.Skip("this machine has a /dev/input/js99")
	}
	regular := filepath.Join(t.TempDir(), "event0")
	if err := os.WriteFile(regular, rec(evKey, codeBtnSouth, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		notExist bool
		mention  string
	}{
		{"missing evdev node", "/dev/input/event-rtcbot-missing", true, "event-rtcbot-missing"},
		{"missing joystick node", "/dev/input/js99", true, "/dev/input/js99"},
		{"regular file", regular, false, "not a character device"},
		{"character device that is not evdev", os.DevNull, false, "not an evdev input device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGamepad(GamepadSettings{Path: tc.path})
			if err == nil {
				g.Close()
				t.Fatalf("NewGamepad(%q) succeeded", tc.path)
			}
			if errors.Is(err, os.ErrNotExist) != tc.notExist || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %v; want one mentioning %q, wrapping os.ErrNotExist: %v", err, tc.mention, tc.notExist)
			}
		})
	}
}

func TestNewGamepadNoneFound(t *testing.T) {
	g, err := NewGamepad(GamepadSettings{})
	if err == nil {
		g.Close()
		t.Skipf("this machine has a readable gamepad (%s)", g.Path())
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no gamepad found") {
		t.Errorf("NewGamepad() = %v, want 'no gamepad found' wrapping os.ErrNotExist", err)
	}
}

func TestJoystickNumber(t *testing.T) {
	for _, tc := range []struct {
		path string
		n    int
		ok   bool
	}{
		{"/dev/input/js0", 0, true},
		{"/dev/input/js12", 12, true},
		{"/dev/input/event3", 0, false},
		{"/dev/input/jsx", 0, false},
		{"/tmp/js0", 0, false},
	} {
		if n, ok := joystickNumber(tc.path); n != tc.n || ok != tc.ok {
			t.Errorf("joystickNumber(%q) = %d, %v; want %d, %v", tc.path, n, ok, tc.n, tc.ok)
		}
	}
}

func TestJoystickCodes(t *testing.T) {
	// The kernel's joystick map of an xpad: axis i's ABS_ code, button i's
	// key code, then unused zeroes.
	axisMap := make([]uint8, jsAxisMapSize)
	copy(axisMap, []uint8{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11})
	buttonMap := make([]uint16, jsButtonMapSize)
	copy(buttonMap, []uint16{0x130, 0x131, 0x133, 0x134, 0x136, 0x137, 0x13a, 0x13b, 0x13c, 0x13d, 0x13e})
	axes, buttons := joystickCodes(axisMap, buttonMap, 8, 11)
	if strings.Join(axes, " ") != strings.Join(xpadAxes, " ") {
		t.Errorf("axes = %v, want %v", axes, xpadAxes)
	}
	if strings.Join(buttons, " ") != strings.Join(xpadButtons, " ") {
		t.Errorf("buttons = %v, want %v", buttons, xpadButtons)
	}
	// A flight stick: buttons of the joystick range, a throttle, an
	// unnamed axis code; counts beyond the maps are cut to them.
	copy(axisMap, []uint8{0x00, 0x06, 0x3e})
	copy(buttonMap, []uint16{0x120, 0x121})
	axes, buttons = joystickCodes(axisMap, buttonMap[:2], 3, 99)
	if got := strings.Join(axes, " ") + " | " + strings.Join(buttons, " "); got != "ABS_X ABS_THROTTLE ABS_UNKNOWN_0x3e | BTN_TRIGGER BTN_THUMB" {
		t.Errorf("codes = %s", got)
	}
}

func TestJoystickMapErrors(t *testing.T) {
	if _, _, err := joystickMap("/dev/input/js-rtcbot-missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("joystickMap(missing) = %v, want os.ErrNotExist", err)
	}
	_, _, err := joystickMap(os.DevNull)
	if !errors.Is(err, syscall.ENOTTY) || !strings.Contains(err.Error(), "JSIOCGAXES") {
		t.Errorf("joystickMap(%s) = %v, want JSIOCGAXES failing with ENOTTY", os.DevNull, err)
	}
}

func TestOpenJoystickRecoversPanics(t *testing.T) {
	tests := []struct {
		name  string
		open  func(int) (joystick.Joystick, error)
		is    error
		match string
	}{
		{"ioctl failure", func(int) (joystick.Joystick, error) { panic(syscall.ENOTTY) }, syscall.ENOTTY, "device query failed"},
		{"other panic", func(int) (joystick.Joystick, error) { panic("file is nil") }, nil, "file is nil"},
		{"open error", func(int) (joystick.Joystick, error) { return nil, os.ErrPermission }, os.ErrPermission, "gamepad"},
		{"nil joystick", func(int) (joystick.Joystick, error) { return nil, nil }, nil, "no joystick"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js, err := openJoystick(tc.open, 3)
			if err == nil || js != nil {
				t.Fatalf("openJoystick = %v, %v; want an error", js, err)
			}
			if (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.match) {
				t.Errorf("err = %v; want one wrapping %v and mentioning %q", err, tc.is, tc.match)
			}
		})
	}
	if _, err := openJoystick(joystick.Open, -1); err == nil {
		t.Error("openJoystick(-1) succeeded")
	}
}

// stubJoystick is a joystick.Joystick returning a fixed state.
type stubJoystick struct {
	state   joystick.State
	err     error
	buttons int
	closed  bool
}

func (s *stubJoystick) AxisCount() int                { return len(s.state.AxisData) }
func (s *stubJoystick) ButtonCount() int              { return s.buttons }
func (s *stubJoystick) Name() string                  { return "Stub\x00\x00" }
func (s *stubJoystick) Read() (joystick.State, error) { return s.state, s.err }
func (s *stubJoystick) Close()                        { s.closed = true }

func TestJoystickAdapter(t *testing.T) {
	stub := &stubJoystick{state: joystick.State{AxisData: []int{1, 2}, Buttons: 5}}
	a := joystickAdapter{stub}
	s, err := a.Read()
	if err != nil || len(s.Axes) != 2 || s.Axes[0] != 1 || s.Axes[1] != 2 || s.Buttons != 5 {
		t.Fatalf("Read = %v, %v", s, err)
	}
	stub.state.AxisData[0] = 99 // the package's goroutine writes its slice
	if s.Axes[0] != 1 {
		t.Error("the adapter returned the package's own axis slice, not a copy")
	}
	stub.err = syscall.ENODEV
	if _, err := a.Read(); !errors.Is(err, syscall.ENODEV) {
		t.Errorf("Read error = %v, want ENODEV", err)
	}
	a.Close()
	if !stub.closed {
		t.Error("Close did not close the joystick")
	}
}

func TestGamepadOnJoystickPackage(t *testing.T) {
	stub := &stubJoystick{state: joystick.State{AxisData: []int{0, 0}}, buttons: 2}
	g := gamepadOn(stub, "/dev/input/js3", xpadAxes, xpadButtons, GamepadSettings{})
	if g.Name() != "Stub" || g.Path() != "/dev/input/js3" {
		t.Errorf("Name() = %q, Path() = %q; want the joystick's name without its NUL padding, and its path", g.Name(), g.Path())
	}
	if d := g.src.(*joystickSource).diff; len(d.buttons) != 2 || len(d.axes) != len(xpadAxes) {
		t.Errorf("buttons %v, axes %v; want the map cut to the joystick's 2 buttons", d.buttons, d.axes)
	}
	g.Close()
	if !stub.closed {
		t.Error("Close did not close the joystick")
	}
}
