package rtcbot

import (
	"context"
	"fmt"
	"time"
)

// audioDirection tells a capture device from a playback device.
type audioDirection int

const (
	audioCapture audioDirection = iota
	audioPlayback
)

func (d audioDirection) String() string {
	if d == audioCapture {
		return "capture"
	}
	return "playback"
}

// audioDeviceConfig is what a backend opens: interleaved float32 samples at
// sampleRate with channels channels, delivered in periods of about
// periodFrames frames.
type audioDeviceConfig struct {
	direction    audioDirection
	device       string // "" for the default device
	sampleRate   int
	channels     int
	periodFrames int
}

// audioCallbacks are how a backend hands audio over. They run on the
// backend's audio thread and must not block; they must not close the device.
type audioCallbacks struct {
	// capture receives captured interleaved samples (a capture device); the
	// slice is valid only during the call.
	capture func(samples []float32)
	// playback fills out, interleaved, with what to play (a playback
	// device).
	playback func(out []float32)
	// stopped reports that the device stopped by itself (unplugged, a
	// backend failure); it is not called when close stops it.
	stopped func(err error)
}

// audioBackend opens sound devices; audio_malgo.go implements it with
// miniaudio, audio_nocgo.go refuses, and tests use a fake.
type audioBackend interface {
	// open opens and starts a device: callbacks may run as soon as it
	// returns, or during the call.
	open(cfg audioDeviceConfig, cb audioCallbacks) (audioDevice, error)
}

// audioDevice is an open, running sound device.
type audioDevice interface {
	// close stops the device and releases it; once it returns no callback
	// runs. It is called once.
	close()
}

// defaultAudioBackend is the backend NewMicrophone and NewSpeaker use, set
// by audio_malgo.go or audio_nocgo.go.
var defaultAudioBackend audioBackend

// audioOpenTimeout bounds how long opening a device may take, whatever the
// context: a sound server that never answers makes the constructor fail
// instead of hang.
var audioOpenTimeout = 10 * time.Second

// openAudioDevice opens a device through b, turning a backend panic into an
// error and giving up when ctx ends or after audioOpenTimeout (a device that
// opens later is closed at once).
func openAudioDevice(ctx context.Context, b audioBackend, cfg audioDeviceConfig, cb audioCallbacks) (audioDevice, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: opening the %s device %q: %w", ErrNoAudioDevice, cfg.direction, cfg.device, err)
	}
	if b == nil {
		return nil, fmt.Errorf("%w: no audio backend in this build", ErrNoAudioDevice)
	}
	type result struct {
		dev audioDevice
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("%w: the audio backend failed opening the %s device: %v", ErrNoAudioDevice, cfg.direction, p)}
			}
			done <- r
		}()
		r.dev, r.err = b.open(cfg, cb)
	}()
	timer := time.NewTimer(audioOpenTimeout)
	defer timer.Stop()
	var err error
	select {
	case r := <-done:
		return r.dev, r.err
	case <-timer.C:
		err = fmt.Errorf("%w: opening the %s device %q took longer than %v", ErrNoAudioDevice, cfg.direction, cfg.device, audioOpenTimeout)
	case <-ctx.Done():
		err = fmt.Errorf("%w: opening the %s device %q: %w", ErrNoAudioDevice, cfg.direction, cfg.device, ctx.Err())
	}
	go func() {
		if r := <-done; r.dev != nil {
			r.dev.close()
		}
	}()
	return nil, err
}

// checkAudioFormat validates a device's sample rate and channel count.
func checkAudioFormat(what string, rate, channels, frames int) error {
	switch {
	case rate < 0:
		return fmt.Errorf("%w: %s: sample rate %d Hz is negative", ErrInvalidSettings, what, rate)
	case channels < 0 || channels > 32:
		return fmt.Errorf("%w: %s: %d channels: want 1 to 32", ErrInvalidSettings, what, channels)
	case frames < 0:
		return fmt.Errorf("%w: %s: %d frames per block is negative", ErrInvalidSettings, what, frames)
	}
	return nil
}
