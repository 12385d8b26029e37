package rtcbot

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fakeAudio is an audio backend standing in for the sound card these
// machines lack: the test drives each device's callbacks by hand.
type fakeAudio struct {
	opened  chan *fakeAudioDevice // every device opened
	openErr error                 // returned by open if set
	release chan struct{}         // if set, open waits for it to close
	opening chan struct{}         // if set, open closes it as it starts
}

func newFakeAudio() *fakeAudio {
	return &fakeAudio{opened: make(chan *fakeAudioDevice, 4)}
}

func (f *fakeAudio) open(cfg audioDeviceConfig, cb audioCallbacks) (audioDevice, error) {
	if f.opening != nil {
		close(f.opening)
	}
	if f.release != nil {
		<-f.release
	}
	if f.openErr != nil {
		return nil, f.openErr
	}
	d := &fakeAudioDevice{cfg: cfg, cb: cb, closed: make(chan struct{})}
	f.opened <- d
	return d, nil
}

// device returns the device opened last.
func (f *fakeAudio) device(t *testing.T) *fakeAudioDevice {
	t.Helper()
	return recv(t, f.opened)
}

// fakeAudioDevice runs callbacks only while open, as a real device does:
// close waits for a running callback, and none runs after it.
type fakeAudioDevice struct {
	cfg    audioDeviceConfig
	cb     audioCallbacks
	mu     sync.Mutex
	closes int
	closed chan struct{}
}

// capture delivers samples as if recorded; it reports false once the device
// is closed.
func (d *fakeAudioDevice) capture(samples ...float32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closes > 0 {
		return false
	}
	d.cb.capture(samples)
	return true
}

// play asks for frames frames of output, as the sound card would.
func (d *fakeAudioDevice) play(frames int) []float32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]float32, frames*d.cfg.channels)
	for i := range out {
		out[i] = 99 // what the speaker leaves unwritten shows
	}
	if d.closes == 0 {
		d.cb.playback(out)
	}
	return out
}

// fail makes the device stop by itself, as when it is unplugged.
func (d *fakeAudioDevice) fail(err error) { d.cb.stopped(err) }

func (d *fakeAudioDevice) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closes++
	if d.closes == 1 {
		close(d.closed)
	}
}

// closeCount returns how often close was called.
func (d *fakeAudioDevice) closeCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closes
}

// skipIfSoundPresent skips a test that needs a machine without any sound
// device: one with a sound card or a sound server may open a device.
func skipIfSoundPresent(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/snd"); err == nil {
		t.Skip("this machine has a sound card (/dev/snd)")
	}
	if os.Getenv("PULSE_SERVER") != "" {
		t.Skip("this machine names a sound server (PULSE_SERVER)")
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "pulse", "native")); err == nil {
			t.Skip("this machine runs a sound server")
		}
	}
}
