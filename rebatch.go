package rtcbot

import (
	"context"
	"sync"
)

// Rebatch is a subscription that re-cuts audio into chunks of a fixed number
// of frames (samples per channel), RTCBot's RebatchSubscription: an encoder
// that wants 960-frame chunks can read a microphone that delivers 1024.
// Chunks put in must all have the same channel count and sample rate (a
// change of either discards what is held). It holds at most capacity frames
// and drops the oldest beyond that.
type Rebatch struct {
	closeHooks
	frames   int
	capacity int

	mu       sync.Mutex
	buf      []float32
	channels int
	rate     int
	closed   bool
	dropped  uint64
	more     chan struct{} // closed and replaced whenever samples arrive
}

// NewRebatch returns a rebatching subscription that yields chunks of frames
// frames, holding at most capacityFrames (at least 2*frames; 0 means one
// second at 48 kHz or 2*frames, whichever is larger).
func NewRebatch(frames, capacityFrames int) *Rebatch {
	if frames <= 0 {
		frames = 1
	}
	if capacityFrames <= 0 {
		capacityFrames = 48000
	}
	capacityFrames = max(capacityFrames, 2*frames)
	return &Rebatch{frames: frames, capacity: capacityFrames, more: make(chan struct{})}
}

// Put appends the chunk's samples.
func (r *Rebatch) Put(chunk AudioChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || chunk.Channels <= 0 {
		return
	}
	if chunk.Channels != r.channels || chunk.SampleRate != r.rate {
		r.dropped += uint64(len(r.buf) / max(r.channels, 1))
		r.buf = r.buf[:0]
		r.channels, r.rate = chunk.Channels, chunk.SampleRate
	}
	r.buf = append(r.buf, chunk.Samples[:chunk.Frames()*chunk.Channels]...)
	if over := len(r.buf)/r.channels - r.capacity; over > 0 {
		r.buf = r.buf[:copy(r.buf, r.buf[over*r.channels:])]
		r.dropped += uint64(over)
	}
	close(r.more)
	r.more = make(chan struct{})
}

// Get returns the next chunk of exactly the configured number of frames,
// waiting until enough samples have arrived. After Close it returns the whole
// chunks still held, then ErrClosed (a partial chunk left over is discarded).
func (r *Rebatch) Get(ctx context.Context) (AudioChunk, error) {
	for {
		r.mu.Lock()
		if r.channels > 0 && len(r.buf) >= r.frames*r.channels {
			n := r.frames * r.channels
			out := AudioChunk{Samples: append([]float32(nil), r.buf[:n]...), Channels: r.channels, SampleRate: r.rate}
			r.buf = r.buf[:copy(r.buf, r.buf[n:])]
			r.mu.Unlock()
			return out, nil
		}
		if r.closed {
			r.mu.Unlock()
			return AudioChunk{}, ErrClosed
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return AudioChunk{}, ctx.Err()
		}
	}
}

// Dropped returns how many frames were discarded because the buffer was
// full or the format changed.
func (r *Rebatch) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close ends the subscription; readers get ErrClosed.
func (r *Rebatch) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.more)
	r.more = make(chan struct{})
	r.mu.Unlock()
	r.run()
	return nil
}
