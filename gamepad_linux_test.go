package rtcbot

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/0xcafed00d/joystick"
)

func TestNewGamepadMissing(t *testing.T) {
	if _, err := os.Stat("/dev/input/js99"); err == nil {
		t.Skip("this machine has a /dev/input/js99")
	}
	done := make(chan struct{})
	var g *Gamepad
	var err error
	go func() {
		defer close(done)
		g, err = NewGamepad(GamepadSettings{Device: 99})
	}()
	closedWithin(t, done, "NewGamepad")
	if err == nil {
		g.Close()
		t.Fatal("NewGamepad(99) succeeded")
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "/dev/input/js99") {
		t.Errorf("err = %v, want one naming /dev/input/js99 and wrapping os.ErrNotExist", err)
	}
	if _, err := NewGamepad(GamepadSettings{Device: -1}); err == nil {
		t.Error("NewGamepad(-1) succeeded")
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
}

// stubJoystick is a joystick.Joystick returning a fixed state.
type stubJoystick struct {
	state  joystick.State
	err    error
	closed bool
}

func (s *stubJoystick) AxisCount() int                { return len(s.state.AxisData) }
func (s *stubJoystick) ButtonCount() int              { return 11 }
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
	stub := &stubJoystick{state: joystick.State{AxisData: []int{0, 0}}}
	g := gamepadOn(stub, GamepadSettings{PollInterval: time.Millisecond})
	if g.Name() != "Stub" {
		t.Errorf("Name() = %q, want the joystick's name without its NUL padding", g.Name())
	}
	g.Close()
	if !stub.closed {
		t.Error("Close did not close the joystick")
	}
}
