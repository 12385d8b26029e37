package rtcbot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewInputDeviceErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "event0")
	if err := os.WriteFile(regular, rec(evKey, codeKeyA, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		notExist bool
		mention  string
	}{
		{"no path", "", true, "no path"},
		{"missing device", "/dev/input/event-rtcbot-missing", true, "event-rtcbot-missing"},
		{"regular file", regular, false, "not a character device"},
		{"character device that is not evdev", os.DevNull, false, "not an evdev input device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewInputDevice(InputDeviceSettings{Path: tc.path})
			if err == nil {
				d.Close()
				t.Fatalf("NewInputDevice(%q) succeeded", tc.path)
			}
			if errors.Is(err, os.ErrNotExist) != tc.notExist || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %v; want one mentioning %q, wrapping os.ErrNotExist: %v", err, tc.mention, tc.notExist)
			}
		})
	}
}

func TestFindInputDeviceNone(t *testing.T) {
	dir := t.TempDir()
	// A file named like a device, which is not one, is skipped.
	if err := os.WriteFile(filepath.Join(dir, "event0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := findInputDevice(dir, "keyboard", isKeyboard)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no keyboard found") {
		t.Errorf("err = %v, want 'no keyboard found' wrapping os.ErrNotExist", err)
	}
}

func TestNewKeyboardMissing(t *testing.T) {
	_, err := NewKeyboard(InputDeviceSettings{Path: "/dev/input/event-rtcbot-missing"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewKeyboard(missing path) = %v, want an error wrapping os.ErrNotExist", err)
	}
	if _, err := NewKeyboard(InputDeviceSettings{Path: os.DevNull}); err == nil || !strings.Contains(err.Error(), "not an evdev") {
		t.Errorf("NewKeyboard(%s) = %v, want 'not an evdev input device'", os.DevNull, err)
	}
	k, err := NewKeyboard(InputDeviceSettings{})
	if err == nil {
		k.Close()
		t.Skipf("this machine has a readable keyboard (%s)", k.Path())
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no keyboard found") {
		t.Errorf("NewKeyboard() = %v, want 'no keyboard found' wrapping os.ErrNotExist", err)
	}
}

func TestNewMouseMissing(t *testing.T) {
	_, err := NewMouse(InputDeviceSettings{Path: "/dev/input/event-rtcbot-missing"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewMouse(missing path) = %v, want an error wrapping os.ErrNotExist", err)
	}
	m, err := NewMouse(InputDeviceSettings{})
	if err == nil {
		m.Close()
		t.Skipf("this machine has a readable mouse (%s)", m.Path())
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no mouse found") {
		t.Errorf("NewMouse() = %v, want 'no mouse found' wrapping os.ErrNotExist", err)
	}
}
