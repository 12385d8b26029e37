package rtcbot

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestToneSourceSettings(t *testing.T) {
	tone, err := NewToneSource(ToneSettings{})
	if err != nil {
		t.Fatal(err)
	}
	tone.Close()
	want := ToneSettings{Frequency: 440, Amplitude: 0.5, Channels: 1, SampleRate: 48000, ChunkFrames: 960}
	if got := tone.Settings(); got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	for _, s := range []ToneSettings{
		{SampleRate: 44100},
		{Frequency: -1},
		{Frequency: 24000},
		{Frequency: math.NaN()},
		{Amplitude: 1.5},
		{Amplitude: -0.5},
		{Channels: -1},
		{ChunkFrames: -960},
	} {
		if tone, err := NewToneSource(s); err == nil {
			tone.Close()
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestToneSourceChunks(t *testing.T) {
	const freq, amp = 1234, 0.25 // not a whole number of cycles per chunk
	tone, err := NewToneSource(ToneSettings{Frequency: freq, Amplitude: amp, Channels: 2, ChunkFrames: 480})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	notClosed(t, tone.Ready(), "ready before the first chunk")
	sub := tone.Subscribe()
	var left []float32
	for range 10 {
		c := mustGet(t, sub)
		if c.Frames() != 480 || c.Channels != 2 || c.SampleRate != 48000 || len(c.Samples) != 960 {
			t.Fatalf("chunk of %d samples, %d frames, %d channels, %d Hz", len(c.Samples), c.Frames(), c.Channels, c.SampleRate)
		}
		for i := 0; i < len(c.Samples); i += 2 {
			if c.Samples[i] != c.Samples[i+1] {
				t.Fatalf("channels differ at frame %d: %v, %v", i/2, c.Samples[i], c.Samples[i+1])
			}
			if math.Abs(float64(c.Samples[i])) > amp {
				t.Fatalf("sample %v beyond the amplitude", c.Samples[i])
			}
			left = append(left, c.Samples[i])
		}
	}
	closedWithin(t, tone.Ready(), "ready")
	// The wave starts at phase 0 and continues across chunk boundaries
	// (every 480 frames) without a jump.
	if left[0] != 0 {
		t.Fatalf("first sample %v, want 0", left[0])
	}
	checkContinuous(t, left, freq, amp)
	var peak float64
	for _, v := range left {
		peak = max(peak, math.Abs(float64(v)))
	}
	if peak < amp*0.99 {
		t.Fatalf("peak %.3f, want %.2f", peak, amp)
	}
}

// checkContinuous fails if two neighbouring samples of a sine of frequency
// f and amplitude a differ by more than its steepest slope allows.
func checkContinuous(t *testing.T, x []float32, f, a float64) {
	t.Helper()
	limit := 2*math.Pi*f*a/48000 + 1e-4
	for i := 1; i < len(x); i++ {
		if d := math.Abs(float64(x[i] - x[i-1])); d > limit {
			t.Fatalf("jump of %.5f between samples %d and %d (limit %.5f)", d, i-1, i, limit)
		}
	}
}

// One second of a tone: it keeps to the wall clock (never ahead, not far
// behind), it is continuous, and its pitch is the one asked for.
func TestToneSourceOneSecond(t *testing.T) {
	const freq = 440
	start := time.Now()
	tone, err := NewToneSource(ToneSettings{Frequency: freq})
	if err != nil {
		t.Fatal(err)
	}
	defer tone.Close()
	sub := tone.Subscribe()
	var samples []float32
	var lateness []time.Duration // of each chunk: arrival less the time its last frame was due
	for len(samples) < 48000 {
		c := mustGet(t, sub)
		samples = append(samples, c.Samples...)
		now := time.Since(start)
		// A chunk is published only once its last frame is due.
		if due := framesIn(now, 48000); int64(len(samples)) > due {
			t.Fatalf("%d frames published after %v, when only %d were due", len(samples), now, due)
		}
		lateness = append(lateness, now-time.Duration(len(samples))*time.Second/48000)
	}
	// A source slower than the clock falls further behind with each chunk;
	// a machine that is merely busy delays some chunks, and the source then
	// catches up. So at least one of the last ten chunks (200 ms) must be
	// nearly on time.
	if best := slices.Min(lateness[len(lateness)-10:]); best > 60*time.Millisecond {
		t.Fatalf("the last ten chunks were all at least %v late: the source is slower than the clock", best)
	}
	checkContinuous(t, samples, freq, 0.5)
	if f := dominantFrequency(samples, 48000); f != freq {
		t.Fatalf("dominant frequency %.0f Hz, want %d", f, freq)
	}
}

// The pacer emits each chunk once due and skips ahead, rather than bursting,
// when it is more than a second late.
func TestTonePacer(t *testing.T) {
	p := tonePacer{chunk: 960, maxLate: 48000}
	steps := []struct {
		due     int64
		chunks  int
		skipped int64
	}{
		{0, 0, 0},
		{959, 0, 0},
		{960, 1, 0},
		{1919, 0, 0},
		{3000, 2, 0},                // emitted 2880
		{2880 + 960 + 48000, 51, 0}, // exactly a second late: catch up
		{51840 + 960 + 48001, 1, 48001},
		{51840 + 48001 + 1920, 1, 0},
	}
	for i, s := range steps {
		chunks, skipped := p.step(s.due)
		if chunks != s.chunks || skipped != s.skipped {
			t.Fatalf("step %d (due %d): %d chunks, %d skipped; want %d, %d", i, s.due, chunks, skipped, s.chunks, s.skipped)
		}
	}
	if framesIn(100*time.Hour, 48000) != 100*3600*48000 || framesIn(1500*time.Millisecond, 48000) != 72000 {
		t.Fatal("framesIn")
	}
}

func TestToneSourceClose(t *testing.T) {
	tone, err := NewToneSource(ToneSettings{ChunkFrames: 48})
	if err != nil {
		t.Fatal(err)
	}
	sub := tone.Subscribe()
	mustGet(t, sub)
	if err := tone.Close(); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, tone.Done(), "close event")
	// What the queue held is still read; then it ends.
	for range DefaultQueueCapacity + 1 {
		if _, err := sub.Get(testCtx(t)); err != nil {
			wantClosed(t, sub)
			tone.Close()
			return
		}
	}
	t.Fatal("the subscription did not end after Close")
}

// TestToneThroughConnection sends a ToneSource over a loopback connection
// (Opus) and checks the pitch that arrives, in mono and in stereo.
func TestToneThroughConnection(t *testing.T) {
	for _, tt := range []struct {
		name     string
		freq     float64
		channels int
	}{
		{"mono", 440, 1},
		{"stereo", 660, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tone, err := NewToneSource(ToneSettings{Frequency: tt.freq, Channels: tt.channels})
			if err != nil {
				t.Fatal(err)
			}
			defer tone.Close()
			robot, desktop := newConn(t), newConn(t)
			robot.Audio().PutSubscription(tone)
			got := desktop.Audio().Subscribe()
			connectPair(t, desktop, robot)

			ctx := mediaCtx(t)
			perChannel := make([][]float32, tt.channels)
			for len(perChannel[0]) < 48000 {
				c, err := got.Get(ctx)
				if err != nil {
					t.Fatalf("after %d frames: %v", len(perChannel[0]), err)
				}
				if c.Channels != tt.channels || c.SampleRate != 48000 {
					t.Fatalf("chunk with %d channels at %d Hz", c.Channels, c.SampleRate)
				}
				for i, v := range c.Samples {
					perChannel[i%c.Channels] = append(perChannel[i%c.Channels], v)
				}
			}
			// Skip the codec's start-up, then find the strongest frequency.
			for ch, x := range perChannel {
				if f := dominantFrequency(x[9600:], 48000); math.Abs(f-tt.freq) > 5 {
					t.Fatalf("channel %d: received %.1f Hz, want %.0f", ch, f, tt.freq)
				}
			}
		})
	}
}
