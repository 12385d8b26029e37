package rtcbot

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// ToneSettings configures a ToneSource. The zero value is a 440 Hz mono sine
// at half of full scale, in 20 ms chunks at 48 kHz.
type ToneSettings struct {
	// Frequency is the pitch in Hz; default 440. It must be below half the
	// sample rate.
	Frequency float64
	// Amplitude is the peak value, at most 1; default 0.5.
	Amplitude float32
	// Channels is the number of channels, each carrying the same tone;
	// default 1.
	Channels int
	// SampleRate is the number of frames per second: 48000 (the default) is
	// the only rate supported for now.
	SampleRate int
	// ChunkFrames is the number of frames (samples per channel) in each
	// chunk; default 960, 20 ms.
	ChunkFrames int
}

// ToneSource is a synthetic audio source: a producer of AudioChunks holding a
// sine wave, emitted at the pace of the wall clock as a microphone would, for
// tests and demonstrations on machines without a sound card. Each chunk is
// published once its last frame is due; the wave continues across chunks
// without a jump. If its goroutine falls more than a second behind (the
// machine was suspended or overloaded), it skips the missed audio rather
// than catching up in a burst, keeping the wave continuous.
//
// Subscriptions are queues: every subscriber hears every chunk, in order.
// The source is ready when the first chunk is published. Close stops it.
type ToneSource struct {
	audioSource
	settings ToneSettings
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// NewToneSource starts a tone with the given settings.
func NewToneSource(settings ToneSettings) (*ToneSource, error) {
	s := settings
	if s.Frequency == 0 {
		s.Frequency = 440
	}
	if s.Amplitude == 0 {
		s.Amplitude = 0.5
	}
	if s.Channels == 0 {
		s.Channels = 1
	}
	if s.SampleRate == 0 {
		s.SampleRate = 48000
	}
	if s.ChunkFrames == 0 {
		s.ChunkFrames = 960
	}
	switch {
	case s.SampleRate != 48000:
		return nil, fmt.Errorf("%w: tone: sample rate %d Hz: only 48000 is supported", ErrInvalidSettings, s.SampleRate)
	case !(s.Frequency > 0 && s.Frequency < float64(s.SampleRate)/2):
		return nil, fmt.Errorf("%w: tone: frequency %g Hz: want above 0 and below %d", ErrInvalidSettings, s.Frequency, s.SampleRate/2)
	case !(s.Amplitude > 0 && s.Amplitude <= 1):
		return nil, fmt.Errorf("%w: tone: amplitude %g: want above 0 and at most 1", ErrInvalidSettings, s.Amplitude)
	case s.Channels < 0 || s.Channels > 32:
		return nil, fmt.Errorf("%w: tone: %d channels: want 1 to 32", ErrInvalidSettings, s.Channels)
	case s.ChunkFrames < 0:
		return nil, fmt.Errorf("%w: tone: %d frames per chunk is negative", ErrInvalidSettings, s.ChunkFrames)
	}
	t := &ToneSource{
		audioSource: newAudioSource(NewProducer[AudioChunk](nil)),
		settings:    s,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	go t.run()
	return t, nil
}

// Settings returns the settings in use, defaults filled in.
func (t *ToneSource) Settings() ToneSettings { return t.settings }

// run publishes the chunks that are due at each tick.
func (t *ToneSource) run() {
	defer close(t.done)
	s := t.settings
	rate := int64(s.SampleRate)
	osc := oscillator{step: s.Frequency / float64(s.SampleRate), amplitude: s.Amplitude, channels: s.Channels}
	pace := tonePacer{chunk: int64(s.ChunkFrames), maxLate: rate}
	tick := time.NewTicker(time.Duration(s.ChunkFrames) * time.Second / time.Duration(s.SampleRate))
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		n, _ := pace.step(framesIn(time.Since(start), rate))
		for range n {
			t.prod.Publish(AudioChunk{Samples: osc.next(s.ChunkFrames), Channels: s.Channels, SampleRate: s.SampleRate})
		}
		if n > 0 {
			t.prod.SetReady()
		}
	}
}

// framesIn returns the number of whole frames at rate in d, without
// overflowing for long durations.
func framesIn(d time.Duration, rate int64) int64 {
	sec := int64(d / time.Second)
	return sec*rate + int64(d%time.Second)*rate/int64(time.Second)
}

// tonePacer decides how many chunks a real-time source emits: every chunk
// whose last frame is due, skipping ahead when the oldest chunk due is more
// than maxLate frames late.
type tonePacer struct {
	chunk   int64 // frames per chunk
	maxLate int64 // frames
	emitted int64 // frames emitted or skipped
}

// step takes the number of frames due by now and returns how many chunks to
// emit and how many frames were skipped.
func (p *tonePacer) step(due int64) (chunks int, skipped int64) {
	if late := due - (p.emitted + p.chunk); late > p.maxLate {
		skipped = due - p.chunk - p.emitted
		p.emitted += skipped
	}
	n := (due - p.emitted) / p.chunk
	if n <= 0 {
		return 0, skipped
	}
	p.emitted += n * p.chunk
	return int(n), skipped
}

// oscillator generates a sine wave continuing from chunk to chunk.
type oscillator struct {
	step      float64 // cycles per frame
	phase     float64 // cycles, in [0, 1)
	amplitude float32
	channels  int
}

// next returns the next frames frames, interleaved.
func (o *oscillator) next(frames int) []float32 {
	out := make([]float32, frames*o.channels)
	for i := range frames {
		v := o.amplitude * float32(math.Sin(2*math.Pi*o.phase))
		for c := range o.channels {
			out[i*o.channels+c] = v
		}
		o.phase += o.step
		if o.phase >= 1 {
			o.phase--
		}
	}
	return out
}

// Close stops the tone: subscribers get the chunks they hold, then
// ErrClosed. It is idempotent.
func (t *ToneSource) Close() error {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		t.prod.Close()
	})
	return nil
}
