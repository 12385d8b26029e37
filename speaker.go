package rtcbot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// SpeakerSettings configures a Speaker. The zero value plays stereo at
// 48 kHz on the default device.
type SpeakerSettings struct {
	// SampleRate is the number of frames per second of the chunks played;
	// default 48000, the rate connections deliver. The sound system
	// resamples if the device runs at another rate.
	SampleRate int
	// Channels is the number of channels played; default 2. Chunks with
	// another channel count are converted: mono is played on every
	// channel, and several channels are averaged into mono.
	Channels int
	// BlockFrames is the device's period, the frames it asks for at a time;
	// default 960 (20 ms).
	BlockFrames int
	// BufferFrames bounds the jitter buffer between the chunks given and the
	// device; default 9600 (200 ms at 48 kHz), at least two periods. When it
	// is full the oldest audio is dropped, so the delay stays bounded.
	BufferFrames int
	// Device picks the output device: "" for the system default, otherwise
	// the device's name or identifier, or a part of its name, matched
	// without regard to case.
	Device string
}

// Speaker plays audio on a sound device, RTCBot's Speaker: a consumer of
// AudioChunks. Hand it a source with PutSubscription (a connection's Audio(),
// a Microphone) or push chunks with Put.
//
// Chunks go through a small jitter buffer. When it runs dry the speaker
// plays silence rather than waiting (see Underruns) and resumes once two
// periods of audio have arrived; when it is full, the oldest audio is
// dropped (see Dropped). Chunks at another sample rate cannot be played:
// they are dropped and reported through OnError, and the speaker goes on (a
// chunk whose SampleRate is 0 is taken to be at the speaker's rate).
//
// It needs cgo (the sound backend is miniaudio); built without cgo, or on a
// machine without a sound device, NewSpeaker returns an error wrapping
// ErrNoAudioDevice. If the device fails while playing, the error is reported
// through OnError and the speaker closes. Close releases the device.
type Speaker struct {
	audioSink
	settings SpeakerSettings

	mu        sync.Mutex
	ring      []float32 // settings.BufferFrames frames, interleaved
	head, n   int       // frames held, from frame head
	buffering bool      // waiting for resume frames after running dry
	resume    int       // frames needed to start playing again
	played    bool      // audio has been played since the last underrun
	underruns uint64
	dropped   uint64
	dev       audioDevice
	closed    bool

	failing   atomic.Bool
	closeOnce sync.Once
}

// NewSpeaker opens a sound output device and starts playing (silence until
// it is given audio). Opening waits for the sound system until ctx ends, and
// at most 10 s; giving up is an error wrapping ErrNoAudioDevice (and ctx's
// error, if it ended). ctx bounds only the opening: Close stops playing.
func NewSpeaker(ctx context.Context, settings SpeakerSettings) (*Speaker, error) {
	return newSpeaker(ctx, settings, defaultAudioBackend)
}

func newSpeaker(ctx context.Context, s SpeakerSettings, backend audioBackend) (*Speaker, error) {
	if err := checkAudioFormat("speaker", s.SampleRate, s.Channels, s.BlockFrames); err != nil {
		return nil, err
	}
	if s.BufferFrames < 0 {
		return nil, fmt.Errorf("%w: speaker: buffer of %d frames is negative", ErrInvalidSettings, s.BufferFrames)
	}
	if s.SampleRate == 0 {
		s.SampleRate = 48000
	}
	if s.Channels == 0 {
		s.Channels = 2
	}
	if s.BlockFrames == 0 {
		s.BlockFrames = 960
	}
	if s.BufferFrames == 0 {
		s.BufferFrames = s.SampleRate / 5
	}
	s.BufferFrames = max(s.BufferFrames, 2*s.BlockFrames)
	sp := &Speaker{
		settings:  s,
		ring:      make([]float32, s.BufferFrames*s.Channels),
		buffering: true,
		resume:    2 * s.BlockFrames,
	}
	sp.audioSink = newAudioSink(NewConsumer(sp.write, nil))
	dev, err := openAudioDevice(ctx, backend, audioDeviceConfig{
		direction:    audioPlayback,
		device:       s.Device,
		sampleRate:   s.SampleRate,
		channels:     s.Channels,
		periodFrames: s.BlockFrames,
	}, audioCallbacks{playback: sp.fill, stopped: sp.failAsync})
	if err != nil {
		sp.cons.Close()
		return nil, err
	}
	sp.mu.Lock()
	if sp.closed { // the device failed while it was being opened
		sp.mu.Unlock()
		dev.close()
		if err := sp.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: speaker: the device stopped as it opened", ErrNoAudioDevice)
	}
	sp.dev = dev
	sp.mu.Unlock()
	return sp, nil
}

// Settings returns the settings in use, defaults filled in.
func (s *Speaker) Settings() SpeakerSettings { return s.settings }

// write is the consumer's handler: it adds a chunk to the jitter buffer,
// converting its channels to the speaker's.
func (s *Speaker) write(c AudioChunk) {
	switch {
	case c.Channels <= 0 || len(c.Samples)%c.Channels != 0:
		s.reject(c, fmt.Errorf("%w: speaker: chunk of %d samples in %d channels is malformed", ErrAudioFormat, len(c.Samples), c.Channels))
		return
	case c.SampleRate != 0 && c.SampleRate != s.settings.SampleRate:
		s.reject(c, fmt.Errorf("%w: speaker: chunk at %d Hz dropped: the speaker plays %d Hz", ErrAudioFormat, c.SampleRate, s.settings.SampleRate))
		return
	}
	out := s.settings.Channels
	frames := c.Frames()
	capacity := s.settings.BufferFrames
	s.mu.Lock()
	defer s.mu.Unlock()
	if over := s.n + frames - capacity; over > 0 {
		// Drop the oldest held frames, and the chunk's own first frames
		// if the chunk alone is larger than the buffer.
		fromRing := min(over, s.n)
		s.head = (s.head + fromRing) % capacity
		s.n -= fromRing
		skip := over - fromRing
		c.Samples = c.Samples[skip*c.Channels:]
		frames -= skip
		s.dropped += uint64(over)
	}
	for i := range frames {
		dst := s.ring[((s.head+s.n+i)%capacity)*out:][:out]
		src := c.Samples[i*c.Channels:][:c.Channels]
		mixChannels(dst, src)
	}
	s.n += frames
}

// mixChannels converts one frame: equal counts copy, mono goes to every
// channel, several channels average into mono, and otherwise channels are
// taken in order, repeating the source's.
func mixChannels(dst, src []float32) {
	switch {
	case len(dst) == len(src):
		copy(dst, src)
	case len(dst) == 1:
		var sum float32
		for _, v := range src {
			sum += v
		}
		dst[0] = sum / float32(len(src))
	default:
		for i := range dst {
			dst[i] = src[i%len(src)]
		}
	}
}

// reject drops a chunk the speaker cannot play and reports the first such
// problem through OnError.
func (s *Speaker) reject(c AudioChunk, err error) {
	s.mu.Lock()
	s.dropped += uint64(c.Frames())
	s.mu.Unlock()
	s.cons.SetError(err)
}

// fill runs on the audio thread: it copies buffered audio to out and plays
// silence for what is missing.
func (s *Speaker) fill(out []float32) {
	ch := s.settings.Channels
	capacity := s.settings.BufferFrames
	want := len(out) / ch
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buffering && s.n >= min(s.resume, capacity) {
		s.buffering = false
	}
	got := 0
	if !s.buffering {
		got = min(want, s.n)
		for got > 0 && len(out) > 0 {
			// Copy up to the end of the ring, then from its start.
			run := min(got, capacity-s.head)
			copy(out, s.ring[s.head*ch:(s.head+run)*ch])
			out = out[run*ch:]
			s.head = (s.head + run) % capacity
			s.n -= run
			got -= run
			s.played = true
		}
	}
	clear(out)
	if len(out) > 0 && !s.buffering {
		// Ran dry while playing: count it and wait for enough audio to
		// play smoothly again.
		s.buffering = true
		if s.played {
			s.underruns++
			s.played = false
		}
	}
}

// Buffered returns the number of frames waiting in the jitter buffer.
func (s *Speaker) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Underruns returns how many times the jitter buffer ran dry while playing,
// so that the speaker had to fill in silence.
func (s *Speaker) Underruns() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.underruns
}

// Dropped returns how many frames were discarded: the oldest audio when the
// jitter buffer was full, and chunks that could not be played.
func (s *Speaker) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// failAsync reports a failure seen on the audio thread and closes the
// speaker from a goroutine of its own.
func (s *Speaker) failAsync(err error) {
	if s.failing.Swap(true) {
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	s.cons.SetError(err)
	go s.Close()
}

// Close stops playing, releases the device and stops reading the input.
// It is idempotent.
func (s *Speaker) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		dev := s.dev
		s.dev = nil
		s.mu.Unlock()
		if dev != nil {
			dev.close()
		}
		s.cons.Close()
	})
	return nil
}
