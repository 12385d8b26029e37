package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMicrophoneDefaults(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{}, fake)
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	want := audioDeviceConfig{direction: audioCapture, sampleRate: 48000, channels: 1, periodFrames: 1024}
	if got := fake.device(t).cfg; got != want {
		t.Fatalf("device opened with %+v, want %+v", got, want)
	}
	if s := mic.Settings(); s.SampleRate != 48000 || s.Channels != 1 || s.BlockFrames != 1024 {
		t.Fatalf("settings %+v", s)
	}
}

func TestMicrophoneRejectsBadSettings(t *testing.T) {
	for _, s := range []MicrophoneSettings{{Channels: -1}, {Channels: 33}, {SampleRate: -48000}, {BlockFrames: -1}} {
		fake := newFakeAudio()
		if mic, err := newMicrophone(t.Context(), s, fake); err == nil {
			mic.Close()
			t.Errorf("%+v: no error", s)
		}
		if len(fake.opened) != 0 {
			t.Errorf("%+v: a device was opened", s)
		}
	}
}

// The microphone re-cuts whatever the device delivers into chunks of
// BlockFrames frames, keeping the samples in order.
func TestMicrophoneChunks(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{Channels: 2, BlockFrames: 4, Device: "usb"}, fake)
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	dev := fake.device(t)
	if dev.cfg.device != "usb" || dev.cfg.channels != 2 || dev.cfg.periodFrames != 4 {
		t.Fatalf("device opened with %+v", dev.cfg)
	}
	a, b := mic.Subscribe(), mic.Subscribe()

	next := float32(0)
	deliver := func(frames int) {
		s := make([]float32, 2*frames)
		for i := range s {
			s[i] = next
			next++
		}
		if !dev.capture(s...) {
			t.Fatal("device closed")
		}
	}
	deliver(3) // not a whole block yet
	wantEmpty(t, a)
	notClosed(t, mic.Ready(), "ready before the first block")
	deliver(6)  // completes block 1 and block 2, one frame left
	deliver(13) // 14 frames: blocks 3, 4, 5, two frames left
	closedWithin(t, mic.Ready(), "ready after the first block")
	for _, sub := range []Subscription[AudioChunk]{a, b} {
		for block := range 5 {
			c := mustGet(t, sub)
			if c.Channels != 2 || c.SampleRate != 48000 || c.Frames() != 4 {
				t.Fatalf("block %d: %d frames of %d channels at %d Hz", block, c.Frames(), c.Channels, c.SampleRate)
			}
			for i, v := range c.Samples {
				if want := float32(block*8 + i); v != want {
					t.Fatalf("block %d sample %d = %v, want %v", block, i, v, want)
				}
			}
		}
		wantEmpty(t, sub)
	}
}

// A chunk published is the subscriber's own: the microphone does not reuse
// its memory for the next block.
func TestMicrophoneChunksAreNotReused(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{BlockFrames: 2}, fake)
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	dev := fake.device(t)
	sub := mic.Subscribe()
	buf := []float32{1, 2}
	dev.capture(buf...)
	buf[0], buf[1] = 3, 4 // the device reuses its buffer
	dev.capture(buf...)
	first, second := mustGet(t, sub), mustGet(t, sub)
	if fmt.Sprint(first.Samples, second.Samples) != "[1 2] [3 4]" {
		t.Fatalf("got %v then %v", first.Samples, second.Samples)
	}
}

func TestMicrophoneClose(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{BlockFrames: 2}, fake)
	if err != nil {
		t.Fatal(err)
	}
	dev := fake.device(t)
	sub := mic.Subscribe()
	dev.capture(1, 2, 3) // one block and a partial one
	if err := mic.Close(); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, dev.closed, "device closed")
	closedWithin(t, mic.Done(), "close event")
	if c := mustGet(t, sub); len(c.Samples) != 2 {
		t.Fatalf("held chunk %v", c.Samples)
	}
	wantClosed(t, sub)
	wantClosed[AudioChunk](t, mic)
	if dev.capture(4, 5) {
		t.Fatal("the device still delivers after Close")
	}
	mic.Close()
	if n := dev.closeCount(); n != 1 {
		t.Fatalf("device closed %d times", n)
	}
	if err := mic.Err(); err != nil {
		t.Fatalf("a normal close reported %v", err)
	}
}

// A device that stops by itself (unplugged) reports its error and closes
// the microphone, so readers are not left waiting.
func TestMicrophoneDeviceFailure(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{}, fake)
	if err != nil {
		t.Fatal(err)
	}
	dev := fake.device(t)
	sub := mic.Subscribe()
	reported := make(chan error, 1)
	mic.OnError(func(err error) { reported <- err })
	unplugged := errors.New("unplugged")
	dev.fail(unplugged)
	if err := recv(t, reported); err != unplugged {
		t.Fatalf("reported %v", err)
	}
	closedWithin(t, mic.Done(), "microphone closed")
	closedWithin(t, dev.closed, "device released")
	wantClosed(t, sub)
	if err := mic.Wait(testCtx(t)); err != unplugged {
		t.Fatalf("Wait = %v", err)
	}
}

// Samples that are not whole frames mean the device and the microphone
// disagree on the format: that is an error, not something to guess about.
func TestMicrophoneFormatMismatch(t *testing.T) {
	fake := newFakeAudio()
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{Channels: 2}, fake)
	if err != nil {
		t.Fatal(err)
	}
	dev := fake.device(t)
	sub := mic.Subscribe()
	dev.capture(1, 2, 3)
	closedWithin(t, mic.Done(), "microphone closed")
	if err := mic.Err(); err == nil || !strings.Contains(err.Error(), "2-channel") {
		t.Fatalf("error %v", err)
	}
	closedWithin(t, dev.closed, "device released")
	wantClosed(t, sub)
}

func TestMicrophoneOpenError(t *testing.T) {
	fake := newFakeAudio()
	fake.openErr = fmt.Errorf("%w: busy", ErrNoAudioDevice)
	mic, err := newMicrophone(t.Context(), MicrophoneSettings{}, fake)
	if !errors.Is(err, ErrNoAudioDevice) || mic != nil {
		t.Fatalf("got %v, %v", mic, err)
	}
}

// A sound system that never answers makes NewMicrophone fail after the
// open timeout rather than hang; the device, if it opens later, is closed.
func TestMicrophoneOpenTimeout(t *testing.T) {
	defer func(d time.Duration) { audioOpenTimeout = d }(audioOpenTimeout)
	audioOpenTimeout = 50 * time.Millisecond
	fake := newFakeAudio()
	fake.release = make(chan struct{})
	start := time.Now()
	_, err := newMicrophone(t.Context(), MicrophoneSettings{}, fake)
	if !errors.Is(err, ErrNoAudioDevice) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	close(fake.release)
	closedWithin(t, fake.device(t).closed, "late device closed")
}

// NewMicrophone gives up when its context ends, before the open timeout,
// with an error matching both ErrNoAudioDevice and the context's error; the
// device, if it opens later, is closed.
func TestMicrophoneOpenHonoursContext(t *testing.T) {
	fake := newFakeAudio()
	fake.release = make(chan struct{})
	fake.opening = make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	opened := make(chan struct{})
	go func() {
		<-fake.opening
		cancel()
		close(opened)
	}()
	_, err := newMicrophone(ctx, MicrophoneSettings{}, fake)
	<-opened
	if !errors.Is(err, ErrNoAudioDevice) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want ErrNoAudioDevice and context.Canceled", err)
	}
	close(fake.release)
	closedWithin(t, fake.device(t).closed, "late device closed")

	// An ended context fails at once, opening nothing.
	fake = newFakeAudio()
	if _, err := newMicrophone(ctx, MicrophoneSettings{}, fake); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: error %v", err)
	}
}

func TestMicrophoneNoBackend(t *testing.T) {
	if _, err := newMicrophone(t.Context(), MicrophoneSettings{}, nil); !errors.Is(err, ErrNoAudioDevice) {
		t.Fatalf("error %v", err)
	}
}

// On this machine (no sound card, no sound server) the real backend fails
// quickly with ErrNoAudioDevice.
func TestMicrophoneWithoutSoundCard(t *testing.T) {
	skipIfSoundPresent(t)
	start := time.Now()
	mic, err := NewMicrophone(t.Context(), MicrophoneSettings{})
	if err == nil {
		mic.Close()
		t.Fatal("NewMicrophone succeeded without a sound card")
	}
	if !errors.Is(err, ErrNoAudioDevice) {
		t.Fatalf("error %v does not wrap ErrNoAudioDevice", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to fail", d)
	}
	t.Logf("error: %v", err)
}

// A device name that matches nothing fails on any machine, naming the
// devices there are.
func TestMicrophoneUnknownDevice(t *testing.T) {
	_, err := NewMicrophone(t.Context(), MicrophoneSettings{Device: "no such microphone 1234"})
	if !errors.Is(err, ErrNoAudioDevice) {
		t.Fatalf("error %v does not wrap ErrNoAudioDevice", err)
	}
	t.Logf("error: %v", err)
}

// ALSA's "null" device records silence without a sound card: where it is
// present, it exercises the real backend end to end.
func TestMicrophoneALSANullDevice(t *testing.T) {
	mic, err := NewMicrophone(t.Context(), MicrophoneSettings{Device: "null", Channels: 2, BlockFrames: 480})
	if errors.Is(err, ErrNoAudioDevice) {
		t.Skipf("no ALSA null device: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	sub := mic.Subscribe()
	for range 3 {
		c := mustGet(t, sub)
		if c.Frames() != 480 || c.Channels != 2 || c.SampleRate != 48000 {
			t.Fatalf("chunk of %d frames, %d channels, %d Hz", c.Frames(), c.Channels, c.SampleRate)
		}
		for _, v := range c.Samples {
			if v != 0 {
				t.Fatalf("the null device recorded %v", v)
			}
		}
	}
	closedWithin(t, mic.Ready(), "ready")
	mic.Close()
	for {
		if _, err := sub.Get(testCtx(t)); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := mic.Err(); err != nil {
		t.Fatalf("error after close: %v", err)
	}
}
