package rtcbot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// MicrophoneSettings configures a Microphone. The zero value records one
// channel at 48 kHz from the default device.
type MicrophoneSettings struct {
	// SampleRate is the number of frames per second; default 48000, the
	// rate connections send. The sound system resamples if the device runs
	// at another rate.
	SampleRate int
	// Channels is the number of channels recorded; default 1. The sound
	// system mixes or duplicates the device's channels to match.
	Channels int
	// BlockFrames is the number of frames (samples per channel) in each
	// chunk; default 1024, as RTCBot's blocksize.
	BlockFrames int
	// Device picks the input device: "" for the system default, otherwise
	// the device's name or identifier (for ALSA, a PCM name such as
	// "hw:1,0"), or a part of its name, matched without regard to case.
	Device string
}

// Microphone records audio from a sound device, RTCBot's Microphone: a
// producer of AudioChunks of BlockFrames frames, interleaved float32 in
// [-1, 1], delivered through queues (every subscriber hears every chunk, in
// order). It is ready when the first chunk is published.
//
// It needs cgo (the sound backend is miniaudio); built without cgo, or on a
// machine without a sound device, NewMicrophone returns an error wrapping
// ErrNoAudioDevice. If the device fails while recording (it is unplugged),
// the error is reported through OnError and the microphone closes. Close
// releases the device; readers then get ErrClosed.
type Microphone struct {
	audioSource
	settings MicrophoneSettings

	mu      sync.Mutex
	pending []float32 // samples of the block being filled
	dev     audioDevice
	closed  bool

	failing   atomic.Bool
	closeOnce sync.Once
}

// NewMicrophone opens a sound input device and starts recording. Opening
// waits for the sound system until ctx ends, and at most 10 s; giving up is
// an error wrapping ErrNoAudioDevice (and ctx's error, if it ended). ctx
// bounds only the opening: Close stops the recording.
func NewMicrophone(ctx context.Context, settings MicrophoneSettings) (*Microphone, error) {
	return newMicrophone(ctx, settings, defaultAudioBackend)
}

func newMicrophone(ctx context.Context, s MicrophoneSettings, backend audioBackend) (*Microphone, error) {
	if err := checkAudioFormat("microphone", s.SampleRate, s.Channels, s.BlockFrames); err != nil {
		return nil, err
	}
	if s.SampleRate == 0 {
		s.SampleRate = 48000
	}
	if s.Channels == 0 {
		s.Channels = 1
	}
	if s.BlockFrames == 0 {
		s.BlockFrames = 1024
	}
	m := &Microphone{
		audioSource: newAudioSource(NewProducer[AudioChunk](nil)),
		settings:    s,
		pending:     make([]float32, 0, s.BlockFrames*s.Channels),
	}
	dev, err := openAudioDevice(ctx, backend, audioDeviceConfig{
		direction:    audioCapture,
		device:       s.Device,
		sampleRate:   s.SampleRate,
		channels:     s.Channels,
		periodFrames: s.BlockFrames,
	}, audioCallbacks{capture: m.capture, stopped: m.failAsync})
	if err != nil {
		m.prod.Close()
		return nil, err
	}
	m.mu.Lock()
	if m.closed { // the device failed while it was being opened
		m.mu.Unlock()
		dev.close()
		if err := m.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: microphone: the device stopped as it opened", ErrNoAudioDevice)
	}
	m.dev = dev
	m.mu.Unlock()
	return m, nil
}

// Settings returns the settings in use, defaults filled in.
func (m *Microphone) Settings() MicrophoneSettings { return m.settings }

// capture runs on the audio thread with each run of captured samples and
// publishes every block it completes.
func (m *Microphone) capture(samples []float32) {
	ch := m.settings.Channels
	if len(samples)%ch != 0 {
		m.failAsync(fmt.Errorf("%w: microphone: the device delivered %d samples, not whole %d-channel frames", ErrAudioFormat, len(samples), ch))
		return
	}
	block := m.settings.BlockFrames * ch
	published := false
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for len(samples) > 0 {
		n := min(block-len(m.pending), len(samples))
		m.pending = append(m.pending, samples[:n]...)
		samples = samples[n:]
		if len(m.pending) == block {
			m.prod.Publish(AudioChunk{Samples: m.pending, Channels: ch, SampleRate: m.settings.SampleRate})
			m.pending = make([]float32, 0, block)
			published = true
		}
	}
	m.mu.Unlock()
	if published {
		m.prod.SetReady()
	}
}

// failAsync reports a failure seen on the audio thread and closes the
// microphone from a goroutine of its own (the audio thread must not close
// its own device).
func (m *Microphone) failAsync(err error) {
	if m.failing.Swap(true) {
		return
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return
	}
	m.prod.SetError(err)
	go m.Close()
}

// Close stops recording and releases the device; subscribers get the chunks
// they hold, then ErrClosed (a partly filled block is discarded). It is
// idempotent.
func (m *Microphone) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		dev := m.dev
		m.dev, m.pending = nil, nil
		m.mu.Unlock()
		if dev != nil {
			dev.close()
		}
		m.prod.Close()
	})
	return nil
}
