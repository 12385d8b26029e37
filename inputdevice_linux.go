package rtcbot

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kenshaw/evdev"
)

// inputDir is where Linux puts its evdev devices.
const inputDir = "/dev/input"

// findInputDeviceKind returns the path and name of the first keyboard or
// mouse (kind) in inputDir.
func findInputDeviceKind(kind string) (path, name string, err error) {
	accepts := isKeyboard
	if kind == "mouse" {
		accepts = isMouse
	}
	return findInputDevice(inputDir, kind, accepts)
}

// probeInputDevice checks that path is an evdev device and returns its name.
// It opens the device only for the query: evdev's ioctls call Fd, which
// makes a file blocking.
func probeInputDevice(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("rtcbot: input device: %w", err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return "", fmt.Errorf("rtcbot: input device %s: not a character device", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return "", fmt.Errorf("rtcbot: input device: %w", err)
	}
	defer f.Close()
	dev := evdev.Open(f)
	if len(dev.EventTypes()) == 0 {
		return "", fmt.Errorf("rtcbot: input device %s: not an evdev input device", path)
	}
	return strings.TrimRight(dev.Name(), "\x00"), nil
}

// findInputDevice returns the path and name of the first evdev device under
// dir (event0, event1, ..., in numeric order) that is accepts. Finding none
// is an error wrapping os.ErrNotExist that names kind.
func findInputDevice(dir, kind string, accepts func(*evdev.Evdev) bool) (path, name string, err error) {
	paths, _ := filepath.Glob(filepath.Join(dir, "event*"))
	num := func(p string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "event"))
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortFunc(paths, func(a, b string) int { return num(a) - num(b) })
	var openErr error
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDONLY, 0)
		if err != nil {
			if openErr == nil {
				openErr = err
			}
			continue
		}
		dev := evdev.Open(f)
		ok := accepts(dev)
		name := strings.TrimRight(dev.Name(), "\x00")
		f.Close()
		if ok {
			return p, name, nil
		}
	}
	if openErr != nil {
		return "", "", fmt.Errorf("rtcbot: no %s found in %s (some devices could not be opened: %v; reading them needs the input group): %w",
			kind, dir, openErr, os.ErrNotExist)
	}
	return "", "", fmt.Errorf("rtcbot: no %s found in %s: %w", kind, dir, os.ErrNotExist)
}

// isKeyboard reports whether dev has letter keys.
func isKeyboard(dev *evdev.Evdev) bool {
	if !dev.EventTypes()[evdev.EventKey] {
		return false
	}
	keys := dev.KeyTypes()
	return keys[evdev.KeyA] && keys[evdev.KeySpace]
}

// isMouse reports whether dev moves along relative X and Y and has a left
// button.
func isMouse(dev *evdev.Evdev) bool {
	types := dev.EventTypes()
	if !types[evdev.EventKey] || !types[evdev.EventRelative] {
		return false
	}
	rel := dev.RelativeTypes()
	return rel[evdev.RelativeX] && rel[evdev.RelativeY] && dev.KeyTypes()[evdev.BtnLeft]
}
