package rtcbot

import (
	"context"
	"errors"
	"testing"
)

// ramp returns a stereo chunk of frames frames whose samples count up from
// first (exact in float32 below 2^24).
func ramp(first, frames, channels int) AudioChunk {
	s := make([]float32, frames*channels)
	for i := range s {
		s[i] = float32(first + i)
	}
	return AudioChunk{Samples: s, Channels: channels, SampleRate: 48000}
}

func TestRebatch1024To960(t *testing.T) {
	const in, out, chunks = 1024, 960, 15 // 15*1024 = 16*960
	r := NewRebatch(out, 0)
	defer r.Close()
	next := 0
	for c := range chunks {
		r.Put(ramp(c*in*2, in, 2))
	}
	for k := range 16 {
		ch := mustGet[AudioChunk](t, r)
		if ch.Frames() != out || len(ch.Samples) != out*2 || ch.Channels != 2 || ch.SampleRate != 48000 {
			t.Fatalf("chunk %d: %d frames, %d samples, %d channels, %d Hz; want 960 stereo at 48 kHz",
				k, ch.Frames(), len(ch.Samples), ch.Channels, ch.SampleRate)
		}
		for i, v := range ch.Samples {
			if v != float32(next) {
				t.Fatalf("chunk %d sample %d = %v, want %d", k, i, v, next)
			}
			next++
		}
	}
	if next != chunks*in*2 {
		t.Fatalf("read %d samples, want %d", next, chunks*in*2)
	}
	wantEmpty[AudioChunk](t, r)
	if r.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0", r.Dropped())
	}
}

// A reader on another goroutine waits for enough samples.
func TestRebatchWaitsForEnough(t *testing.T) {
	r := NewRebatch(960, 0)
	defer r.Close()
	got := make(chan AudioChunk, 1)
	go func() {
		ch, err := r.Get(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- ch
	}()
	r.Put(ramp(0, 500, 1))
	select {
	case <-got:
		t.Fatal("Get returned with only 500 of 960 frames")
	default:
	}
	r.Put(ramp(500, 500, 1))
	ch := recv(t, got)
	if ch.Frames() != 960 || ch.Samples[0] != 0 || ch.Samples[959] != 959 {
		t.Fatalf("got %d frames from %v to %v", ch.Frames(), ch.Samples[0], ch.Samples[len(ch.Samples)-1])
	}
}

// Returned chunks do not alias the internal buffer.
func TestRebatchChunksIndependent(t *testing.T) {
	r := NewRebatch(4, 0)
	defer r.Close()
	r.Put(ramp(0, 8, 1))
	a := mustGet[AudioChunk](t, r)
	r.Put(ramp(100, 4, 1))
	b := mustGet[AudioChunk](t, r)
	c := mustGet[AudioChunk](t, r)
	if a.Samples[0] != 0 || b.Samples[0] != 4 || c.Samples[0] != 100 {
		t.Fatalf("chunks start at %v, %v, %v; want 0, 4, 100", a.Samples[0], b.Samples[0], c.Samples[0])
	}
}

func TestRebatchOverflowDropsOldest(t *testing.T) {
	r := NewRebatch(960, 1920)
	defer r.Close()
	for c := range 3 { // 3072 frames into room for 1920
		r.Put(ramp(c*1024*2, 1024, 2))
	}
	if d := r.Dropped(); d != 3072-1920 {
		t.Fatalf("Dropped = %d, want %d", d, 3072-1920)
	}
	next := (3072 - 1920) * 2
	for k := range 2 {
		ch := mustGet[AudioChunk](t, r)
		for i, v := range ch.Samples {
			if v != float32(next) {
				t.Fatalf("chunk %d sample %d = %v, want %d (the newest kept)", k, i, v, next)
			}
			next++
		}
	}
	wantEmpty[AudioChunk](t, r)
}

func TestRebatchCapacityAtLeastTwoChunks(t *testing.T) {
	r := NewRebatch(960, 100) // raised to 1920
	defer r.Close()
	r.Put(ramp(0, 1920, 1))
	if r.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0 (capacity raised to 2*frames)", r.Dropped())
	}
	r.Put(ramp(1920, 1, 1))
	if r.Dropped() != 1 {
		t.Fatalf("Dropped = %d, want 1", r.Dropped())
	}
}

func TestRebatchFormatChangeDiscards(t *testing.T) {
	r := NewRebatch(4, 0)
	defer r.Close()
	r.Put(ramp(0, 3, 2)) // 3 stereo frames held
	r.Put(ramp(1000, 6, 1))
	if d := r.Dropped(); d != 3 {
		t.Fatalf("Dropped after channel change = %d, want 3", d)
	}
	ch := mustGet[AudioChunk](t, r)
	if ch.Channels != 1 || ch.Samples[0] != 1000 || ch.Frames() != 4 {
		t.Fatalf("got %d channels from %v (%d frames); want mono from 1000", ch.Channels, ch.Samples[0], ch.Frames())
	}
	// Two mono frames are held; a rate change discards them.
	r.Put(AudioChunk{Samples: []float32{1, 2, 3, 4}, Channels: 1, SampleRate: 16000})
	if d := r.Dropped(); d != 5 {
		t.Fatalf("Dropped after rate change = %d, want 5", d)
	}
	ch = mustGet[AudioChunk](t, r)
	if ch.SampleRate != 16000 || ch.Samples[0] != 1 {
		t.Fatalf("got %d Hz from %v, want 16000 Hz from 1", ch.SampleRate, ch.Samples[0])
	}
	// A chunk with no channels is ignored.
	r.Put(AudioChunk{Samples: []float32{9, 9, 9, 9}})
	wantEmpty[AudioChunk](t, r)
}

// A trailing partial frame (len(Samples) not a multiple of Channels) is cut.
func TestRebatchPartialFrameIgnored(t *testing.T) {
	r := NewRebatch(2, 0)
	defer r.Close()
	r.Put(AudioChunk{Samples: []float32{0, 1, 2, 3, 4}, Channels: 2, SampleRate: 48000})
	r.Put(AudioChunk{Samples: []float32{5, 6}, Channels: 2, SampleRate: 48000})
	ch := mustGet[AudioChunk](t, r)
	want := []float32{0, 1, 2, 3}
	for i := range want {
		if ch.Samples[i] != want[i] {
			t.Fatalf("got %v, want %v", ch.Samples, want)
		}
	}
}

func TestRebatchClose(t *testing.T) {
	r := NewRebatch(4, 0)
	r.Put(ramp(0, 10, 1)) // two whole chunks and a partial one
	errc := make(chan error, 1)
	blocked := NewRebatch(4, 0)
	go func() {
		_, err := blocked.Get(context.Background())
		errc <- err
	}()
	blocked.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Get after Close = %v, want ErrClosed", err)
	}

	r.Close()
	r.Close()
	r.Put(ramp(100, 10, 1)) // after Close: ignored
	for _, first := range []float32{0, 4} {
		ch := mustGet[AudioChunk](t, r)
		if ch.Samples[0] != first {
			t.Fatalf("held chunk starts at %v, want %v", ch.Samples[0], first)
		}
	}
	wantClosed[AudioChunk](t, r) // the partial chunk is discarded
}

func TestAudioChunkFrames(t *testing.T) {
	for _, c := range []struct {
		chunk AudioChunk
		want  int
	}{
		{AudioChunk{Samples: make([]float32, 10), Channels: 2}, 5},
		{AudioChunk{Samples: make([]float32, 11), Channels: 2}, 5},
		{AudioChunk{Samples: make([]float32, 10), Channels: 1}, 10},
		{AudioChunk{Samples: make([]float32, 10)}, 0},
		{AudioChunk{Samples: make([]float32, 10), Channels: -1}, 0},
	} {
		if got := c.chunk.Frames(); got != c.want {
			t.Errorf("Frames(%d samples, %d channels) = %d, want %d", len(c.chunk.Samples), c.chunk.Channels, got, c.want)
		}
	}
}
