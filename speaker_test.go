package rtcbot

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// newFakeSpeaker opens a speaker on the fake backend.
func newFakeSpeaker(t *testing.T, s SpeakerSettings) (*Speaker, *fakeAudioDevice) {
	t.Helper()
	fake := newFakeAudio()
	sp, err := newSpeaker(t.Context(), s, fake)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp, fake.device(t)
}

// monoRamp returns a mono chunk holding from, from+1, ... (n values).
func monoRamp(from, n int) AudioChunk {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(from + i)
	}
	return AudioChunk{Samples: s, Channels: 1, SampleRate: 48000}
}

// waitBuffered waits until the speaker's jitter buffer holds n frames.
func waitBuffered(t *testing.T, sp *Speaker, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d frames buffered", n), func() bool { return sp.Buffered() == n })
}

func TestSpeakerDefaults(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{})
	want := audioDeviceConfig{direction: audioPlayback, sampleRate: 48000, channels: 2, periodFrames: 960}
	if dev.cfg != want {
		t.Fatalf("device opened with %+v, want %+v", dev.cfg, want)
	}
	if s := sp.Settings(); s.BufferFrames != 9600 {
		t.Fatalf("settings %+v", s)
	}
}

func TestSpeakerRejectsBadSettings(t *testing.T) {
	for _, s := range []SpeakerSettings{{Channels: -2}, {SampleRate: -1}, {BlockFrames: -960}, {BufferFrames: -1}} {
		fake := newFakeAudio()
		if sp, err := newSpeaker(t.Context(), s, fake); err == nil {
			sp.Close()
			t.Errorf("%+v: no error", s)
		}
		if len(fake.opened) != 0 {
			t.Errorf("%+v: a device was opened", s)
		}
	}
}

// The speaker plays what it is given, in order, whatever the sizes of the
// chunks and of the device's requests, then silence when it runs dry.
func TestSpeakerPlaysInOrder(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 4, BufferFrames: 64})

	// Nothing given yet: silence, and that is not an underrun.
	if out := dev.play(4); fmt.Sprint(out) != "[0 0 0 0]" {
		t.Fatalf("before any audio: %v", out)
	}
	sp.Put(monoRamp(1, 5))
	sp.Put(monoRamp(6, 7))
	sp.Put(monoRamp(13, 8))
	waitBuffered(t, sp, 20)
	var played []float32
	for range 4 {
		played = append(played, dev.play(3)...)
	}
	played = append(played, dev.play(8)...) // 8 left: exactly what is held
	for i, v := range played {
		if v != float32(i+1) {
			t.Fatalf("played %v, want 1 to 20 in order", played)
		}
	}
	if n := sp.Underruns(); n != 0 {
		t.Fatalf("%d underruns before running dry", n)
	}
	// Run dry in the middle of a request: the rest is silence.
	sp.Put(monoRamp(21, 10))
	waitBuffered(t, sp, 10)
	out := dev.play(12)
	if fmt.Sprint(out) != "[21 22 23 24 25 26 27 28 29 30 0 0]" {
		t.Fatalf("underrun: played %v", out)
	}
	if out := dev.play(4); fmt.Sprint(out) != "[0 0 0 0]" {
		t.Fatalf("after running dry: %v", out)
	}
	if n := sp.Underruns(); n != 1 {
		t.Fatalf("%d underruns, want 1", n)
	}
	if n := sp.Dropped(); n != 0 {
		t.Fatalf("%d frames dropped", n)
	}
}

// The speaker waits for two periods of audio before it starts (and again
// after running dry), so a trickle of audio does not stutter.
func TestSpeakerWaitsForTwoPeriods(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 4, BufferFrames: 64})
	sp.Put(monoRamp(1, 4))
	waitBuffered(t, sp, 4)
	if out := dev.play(4); fmt.Sprint(out) != "[0 0 0 0]" {
		t.Fatalf("played %v with one period buffered, want silence until two", out)
	}
	sp.Put(monoRamp(5, 4))
	waitBuffered(t, sp, 8)
	if out := dev.play(4); fmt.Sprint(out) != "[1 2 3 4]" {
		t.Fatalf("played %v", out)
	}
}

// The jitter buffer is bounded: when it is full the oldest audio goes.
func TestSpeakerDropsOldestWhenFull(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 2, BufferFrames: 6})
	sp.Put(monoRamp(1, 4))
	sp.Put(monoRamp(5, 4)) // 8 frames into 6: frames 1 and 2 go
	eventually(t, "frames dropped", func() bool { return sp.Dropped() == 2 })
	if n := sp.Buffered(); n != 6 {
		t.Fatalf("%d frames buffered", n)
	}
	sp.Put(monoRamp(9, 10)) // larger than the whole buffer: only its last 6 stay
	eventually(t, "frames dropped", func() bool { return sp.Dropped() == 12 })
	if out := dev.play(6); fmt.Sprint(out) != "[13 14 15 16 17 18]" {
		t.Fatalf("played %v", out)
	}
}

func TestSpeakerConvertsChannels(t *testing.T) {
	stereo, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 2, BlockFrames: 1})
	stereo.Put(AudioChunk{Samples: []float32{1, 2}, Channels: 1, SampleRate: 48000})
	waitBuffered(t, stereo, 2)
	if out := dev.play(2); fmt.Sprint(out) != "[1 1 2 2]" {
		t.Fatalf("mono on stereo: %v", out)
	}
	mono, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 1})
	mono.Put(AudioChunk{Samples: []float32{1, 3, 5, 7}, Channels: 2}) // no rate: taken as the speaker's
	waitBuffered(t, mono, 2)
	if out := dev.play(2); fmt.Sprint(out) != "[2 6]" {
		t.Fatalf("stereo on mono: %v", out)
	}
}

// Audio at another rate cannot be played as it is: it is dropped and
// reported, and the speaker carries on.
func TestSpeakerRejectsOtherRates(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 1})
	reported := make(chan error, 1)
	sp.OnError(func(err error) { reported <- err })
	sp.Put(AudioChunk{Samples: []float32{9, 9}, Channels: 1, SampleRate: 44100})
	if err := recv(t, reported); !strings.Contains(err.Error(), "44100") {
		t.Fatalf("reported %v", err)
	}
	sp.Put(monoRamp(1, 2))
	waitBuffered(t, sp, 2)
	if out := dev.play(2); fmt.Sprint(out) != "[1 2]" {
		t.Fatalf("played %v", out)
	}
	if sp.IsClosed() || sp.Dropped() != 2 {
		t.Fatalf("closed %v, dropped %d", sp.IsClosed(), sp.Dropped())
	}
}

// A speaker fed by a source plays its audio continuously: here a tone,
// checked for pitch and for jumps between chunks.
func TestSpeakerPlaysToneSource(t *testing.T) {
	tone, err := NewToneSource(ToneSettings{Frequency: 500, Amplitude: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	sp, dev := newFakeSpeaker(t, SpeakerSettings{Channels: 1, BlockFrames: 960})
	sp.PutSubscription(tone)
	var played []float32
	for len(played) < 9600 {
		eventually(t, "tone buffered", func() bool { return sp.Buffered() >= 2*960 })
		played = append(played, dev.play(960)...)
	}
	if n := sp.Underruns(); n != 0 {
		t.Fatalf("%d underruns", n)
	}
	maxStep := 2*math.Pi*500*0.5/48000 + 1e-4
	for i := 1; i < len(played); i++ {
		if d := math.Abs(float64(played[i] - played[i-1])); d > maxStep {
			t.Fatalf("jump of %.4f at frame %d", d, i)
		}
	}
	if f := dominantFrequency(played, 48000); math.Abs(f-500) > 5 {
		t.Fatalf("played %.0f Hz, want 500", f)
	}
}

func TestSpeakerClose(t *testing.T) {
	fake := newFakeAudio()
	sp, err := newSpeaker(t.Context(), SpeakerSettings{Channels: 1, BlockFrames: 1}, fake)
	if err != nil {
		t.Fatal(err)
	}
	dev := fake.device(t)
	src := NewQueue[AudioChunk](0)
	sp.PutSubscription(src)
	src.Put(monoRamp(1, 1))
	waitBuffered(t, sp, 1)
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, dev.closed, "device released")
	closedWithin(t, sp.Done(), "close event")
	sp.Put(monoRamp(2, 1))
	src.Put(monoRamp(3, 1))
	if sp.Buffered() != 1 || src.Len() != 1 {
		t.Fatalf("the speaker took audio after Close: %d buffered, %d left in its input", sp.Buffered(), src.Len())
	}
	sp.Close()
	if n := dev.closeCount(); n != 1 {
		t.Fatalf("device closed %d times", n)
	}
	if err := sp.Err(); err != nil {
		t.Fatalf("a normal close reported %v", err)
	}
}

func TestSpeakerDeviceFailure(t *testing.T) {
	sp, dev := newFakeSpeaker(t, SpeakerSettings{})
	unplugged := errors.New("unplugged")
	dev.fail(unplugged)
	closedWithin(t, sp.Done(), "speaker closed")
	closedWithin(t, dev.closed, "device released")
	if err := sp.Wait(testCtx(t)); err != unplugged {
		t.Fatalf("Wait = %v", err)
	}
}

func TestSpeakerOpenError(t *testing.T) {
	fake := newFakeAudio()
	fake.openErr = fmt.Errorf("%w: busy", ErrNoAudioDevice)
	if sp, err := newSpeaker(t.Context(), SpeakerSettings{}, fake); !errors.Is(err, ErrNoAudioDevice) || sp != nil {
		t.Fatalf("got %v, %v", sp, err)
	}
}

func TestSpeakerWithoutSoundCard(t *testing.T) {
	skipIfSoundPresent(t)
	start := time.Now()
	sp, err := NewSpeaker(t.Context(), SpeakerSettings{})
	if err == nil {
		sp.Close()
		t.Fatal("NewSpeaker succeeded without a sound card")
	}
	if !errors.Is(err, ErrNoAudioDevice) {
		t.Fatalf("error %v does not wrap ErrNoAudioDevice", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to fail", d)
	}
	t.Logf("error: %v", err)
}

func TestSpeakerUnknownDevice(t *testing.T) {
	_, err := NewSpeaker(t.Context(), SpeakerSettings{Device: "no such speaker 1234"})
	if !errors.Is(err, ErrNoAudioDevice) {
		t.Fatalf("error %v does not wrap ErrNoAudioDevice", err)
	}
}

// ALSA's "null" device discards what it plays: where it is present, the
// real backend pulls the buffered audio through (as fast as it can).
func TestSpeakerALSANullDevice(t *testing.T) {
	sp, err := NewSpeaker(t.Context(), SpeakerSettings{Device: "null", BlockFrames: 480})
	if errors.Is(err, ErrNoAudioDevice) {
		t.Skipf("no ALSA null device: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for i := range 10 {
		sp.Put(monoRamp(i*480, 480))
	}
	eventually(t, "audio played", func() bool { return sp.Underruns() > 0 && sp.Buffered() == 0 })
	sp.Close()
	closedWithin(t, sp.Done(), "closed")
	if err := sp.Err(); err != nil {
		t.Fatalf("error: %v", err)
	}
}
