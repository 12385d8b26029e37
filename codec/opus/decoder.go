//go:build cgo

package opus

/*
#cgo pkg-config: opus
#include <opus.h>
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Decoder decodes Opus packets into 48 kHz float32 audio. Create one with
// [NewDecoder] and release it with [Decoder.Close].
type Decoder struct {
	mu       sync.Mutex
	dec      *C.OpusDecoder // nil once closed
	channels int
	buf      []float32 // scratch output, 120 ms x channels
	cleanup  runtime.Cleanup
}

// NewDecoder creates a decoder at [SampleRate] whose output has the given
// number of interleaved channels (1 or 2), whatever the channel count of the
// packets it is fed.
func NewDecoder(channels int) (*Decoder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("opus: channels must be 1 or 2, got %d", channels)
	}
	var cerr C.int
	dec := C.opus_decoder_create(SampleRate, C.int(channels), &cerr)
	if cerr != C.OPUS_OK || dec == nil {
		return nil, fmt.Errorf("opus: creating decoder: %w", opusError(cerr))
	}
	d := &Decoder{dec: dec, channels: channels, buf: make([]float32, maxFrameSamples*channels)}
	// Free the C state if the caller forgets Close.
	d.cleanup = runtime.AddCleanup(d, func(p *C.OpusDecoder) { C.opus_decoder_destroy(p) }, dec)
	return d, nil
}

// Decode decodes one packet and returns its samples, interleaved, as a new
// slice of samplesPerChannel*channels values (up to 120 ms). A nil or empty
// packet means the packet was lost: the decoder then conceals one 20 ms frame
// ([FrameSamples] samples per channel). Corrupt packets return an error.
func (d *Decoder) Decode(packet []byte) ([]float32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dec == nil {
		return nil, ErrClosed
	}
	var n C.int
	if len(packet) == 0 {
		n = C.opus_decode_float(d.dec, nil, 0, (*C.float)(&d.buf[0]), FrameSamples, 0)
	} else {
		if len(packet) > math.MaxInt32 {
			return nil, fmt.Errorf("opus: packet too large (%d bytes)", len(packet))
		}
		n = C.opus_decode_float(d.dec, (*C.uchar)(&packet[0]), C.opus_int32(len(packet)),
			(*C.float)(&d.buf[0]), maxFrameSamples, 0)
	}
	if n < 0 {
		return nil, fmt.Errorf("opus: decoding: %w", opusError(n))
	}
	out := make([]float32, int(n)*d.channels)
	copy(out, d.buf)
	return out, nil
}

// Close releases the decoder's C memory. It is safe to call more than once
// and concurrently with Decode; later calls to Decode return [ErrClosed].
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dec == nil {
		return nil
	}
	d.cleanup.Stop()
	C.opus_decoder_destroy(d.dec)
	d.dec = nil
	return nil
}
