//go:build cgo

package opus

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// sine returns frames 20 ms frames of interleaved samples, one sine per
// channel at the given frequencies, amplitude 0.5.
func sine(frames int, freqs ...float64) [][]float32 {
	ch := len(freqs)
	out := make([][]float32, frames)
	for f := range out {
		buf := make([]float32, FrameSamples*ch)
		for i := 0; i < FrameSamples; i++ {
			t := float64(f*FrameSamples+i) / SampleRate
			for c, hz := range freqs {
				buf[i*ch+c] = float32(0.5 * math.Sin(2*math.Pi*hz*t))
			}
		}
		out[f] = buf
	}
	return out
}

// channel extracts channel c of an interleaved signal with ch channels.
func channel(x []float32, ch, c int) []float64 {
	out := make([]float64, 0, len(x)/ch)
	for i := c; i < len(x); i += ch {
		out = append(out, float64(x[i]))
	}
	return out
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// goertzelPower is the power of x at frequency hz.
func goertzelPower(x []float64, hz float64) float64 {
	w := 2 * math.Pi * hz / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// dominantFreq scans 100..2000 Hz in 5 Hz steps, then refines around the
// peak in 0.25 Hz steps.
func dominantFreq(x []float64) float64 {
	best, bestP := 0.0, -1.0
	scan := func(lo, hi, step float64) {
		for hz := lo; hz <= hi; hz += step {
			if p := goertzelPower(x, hz); p > bestP {
				best, bestP = hz, p
			}
		}
	}
	scan(100, 2000, 5)
	scan(best-10, best+10, 0.25)
	return best
}

// roundTrip encodes and decodes 1 s of audio and returns the input and the
// output, both interleaved.
func roundTrip(t *testing.T, freqs ...float64) (in, out []float32) {
	t.Helper()
	ch := len(freqs)
	enc, err := NewEncoder(EncoderSettings{Channels: ch})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if enc.Channels() != ch {
		t.Fatalf("Channels() = %d, want %d", enc.Channels(), ch)
	}
	for _, frame := range sine(50, freqs...) {
		pkt, err := enc.Encode(frame)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkt) == 0 {
			t.Fatal("empty packet")
		}
		pcm, err := dec.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != FrameSamples*ch {
			t.Fatalf("decoded %d samples, want %d", len(pcm), FrameSamples*ch)
		}
		in = append(in, frame...)
		out = append(out, pcm...)
	}
	return in, out
}

func checkTone(t *testing.T, name string, in, out []float64, hz float64) {
	t.Helper()
	skip := 2 * FrameSamples // codec delay and start-up
	out = out[skip:]
	if got := dominantFreq(out); math.Abs(got-hz) > 5 {
		t.Errorf("%s: dominant frequency %.2f Hz, want %.0f±5", name, got, hz)
	}
	inR, outR := rms(in[skip:]), rms(out)
	if math.Abs(outR-inR) > 0.2*inR {
		t.Errorf("%s: RMS %.4f, input %.4f (more than 20%% off)", name, outR, inR)
	}
	t.Logf("%s: RMS in %.4f out %.4f", name, inR, outR)
}

func TestRoundTripMono(t *testing.T) {
	in, out := roundTrip(t, 440)
	checkTone(t, "mono", channel(in, 1, 0), channel(out, 1, 0), 440)
}

func TestRoundTripStereo(t *testing.T) {
	in, out := roundTrip(t, 440, 660)
	checkTone(t, "left", channel(in, 2, 0), channel(out, 2, 0), 440)
	checkTone(t, "right", channel(in, 2, 1), channel(out, 2, 1), 660)
}

// A decoder's output channel count does not depend on the packet's.
func TestDecodeChannelMismatch(t *testing.T) {
	for _, tc := range []struct{ encCh, decCh int }{{1, 2}, {2, 1}} {
		enc, err := NewEncoder(EncoderSettings{Channels: tc.encCh})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder(tc.decCh)
		if err != nil {
			t.Fatal(err)
		}
		freqs := []float64{440, 440}[:tc.encCh]
		for _, frame := range sine(3, freqs...) {
			pkt, err := enc.Encode(frame)
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := dec.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != FrameSamples*tc.decCh {
				t.Errorf("%d->%d channels: decoded %d samples, want %d",
					tc.encCh, tc.decCh, len(pcm), FrameSamples*tc.decCh)
			}
		}
		enc.Close()
		dec.Close()
	}
}

func TestNewEncoderSettings(t *testing.T) {
	good := []EncoderSettings{
		{},
		{Channels: 2},
		{Channels: 1, Bitrate: 6000, Application: ApplicationVoIP, Complexity: 1},
		{Channels: 2, Bitrate: 510000, Application: ApplicationLowDelay, Complexity: 10},
	}
	for _, s := range good {
		e, err := NewEncoder(s)
		if err != nil {
			t.Errorf("NewEncoder(%+v): %v", s, err)
			continue
		}
		want := s.Channels
		if want == 0 {
			want = 1
		}
		if e.Channels() != want {
			t.Errorf("NewEncoder(%+v).Channels() = %d, want %d", s, e.Channels(), want)
		}
		// Every application must actually encode.
		if _, err := e.Encode(make([]float32, FrameSamples*want)); err != nil {
			t.Errorf("NewEncoder(%+v).Encode: %v", s, err)
		}
		e.Close()
	}
	bad := []EncoderSettings{
		{Channels: 3},
		{Channels: -1},
		{Bitrate: -1},
		{Complexity: 11},
		{Complexity: -1},
		{Application: 99},
	}
	for _, s := range bad {
		if e, err := NewEncoder(s); err == nil {
			e.Close()
			t.Errorf("NewEncoder(%+v) succeeded, want error", s)
		}
	}
	for _, ch := range []int{0, 3, -1} {
		if d, err := NewDecoder(ch); err == nil {
			d.Close()
			t.Errorf("NewDecoder(%d) succeeded, want error", ch)
		}
	}
}

func TestEncodeWrongLength(t *testing.T) {
	for _, ch := range []int{1, 2} {
		enc, err := NewEncoder(EncoderSettings{Channels: ch})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, FrameSamples*ch - 1, FrameSamples*ch + 1, 480 * ch, FrameSamples * ch * 2} {
			if _, err := enc.Encode(make([]float32, n)); err == nil {
				t.Errorf("%d channels: Encode(%d samples) succeeded, want error", ch, n)
			}
		}
		if _, err := enc.Encode(nil); err == nil {
			t.Errorf("%d channels: Encode(nil) succeeded, want error", ch)
		}
		// The encoder is still usable afterwards.
		if _, err := enc.Encode(make([]float32, FrameSamples*ch)); err != nil {
			t.Errorf("%d channels: Encode after bad length: %v", ch, err)
		}
		enc.Close()
	}
}

func TestDecodePLC(t *testing.T) {
	for _, ch := range []int{1, 2} {
		dec, err := NewDecoder(ch)
		if err != nil {
			t.Fatal(err)
		}
		// Concealment without any previous packet and after a real one.
		enc, err := NewEncoder(EncoderSettings{Channels: ch})
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := enc.Encode(sine(1, []float64{440, 660}[:ch]...)[0])
		if err != nil {
			t.Fatal(err)
		}
		enc.Close()
		for i, p := range [][]byte{nil, {}, pkt, nil, nil} {
			pcm, err := dec.Decode(p)
			if err != nil {
				t.Fatalf("%d channels, packet %d: %v", ch, i, err)
			}
			if len(pcm) != FrameSamples*ch {
				t.Errorf("%d channels, packet %d: got %d samples, want %d", ch, i, len(pcm), FrameSamples*ch)
			}
		}
		dec.Close()
	}
}

func TestDecodeGarbage(t *testing.T) {
	dec, err := NewDecoder(2)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	inputs := [][]byte{
		{0xff},
		{0xff, 0xff, 0xff, 0xff},
		{0x03},             // code 3 with no frame count byte
		{0x03, 0xff},       // code 3, 63 frames: too long
		{0x01, 0x00, 0x00}, // code 1 with odd payload length
		{0x02, 0xfc},       // code 2 with a bad frame length
		make([]byte, 1500),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, 1+r.IntN(400))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		inputs = append(inputs, b)
	}
	errs := 0
	for _, in := range inputs {
		pcm, err := dec.Decode(in)
		if err != nil {
			errs++
			continue
		}
		if len(pcm)%2 != 0 || len(pcm) == 0 || len(pcm) > maxFrameSamples*2 {
			t.Errorf("Decode(% x...) returned %d samples", in[:1], len(pcm))
		}
	}
	if errs == 0 {
		t.Error("no garbage input was rejected")
	}
	// A known invalid packet must be an error, not silence.
	if _, err := dec.Decode([]byte{0x03}); err == nil {
		t.Error("Decode(code 3 packet without count byte) succeeded, want error")
	}
}

func TestCloseIdempotent(t *testing.T) {
	enc, err := NewEncoder(EncoderSettings{})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := enc.Encode(make([]float32, FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := enc.Close(); err != nil {
			t.Errorf("Encoder.Close #%d: %v", i, err)
		}
		if err := dec.Close(); err != nil {
			t.Errorf("Decoder.Close #%d: %v", i, err)
		}
	}
	if _, err := enc.Encode(make([]float32, FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: err = %v, want ErrClosed", err)
	}
	if _, err := dec.Decode(pkt); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: err = %v, want ErrClosed", err)
	}
	if _, err := dec.Decode(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode(nil) after Close: err = %v, want ErrClosed", err)
	}
	if enc.Channels() != 1 {
		t.Errorf("Channels after Close = %d, want 1", enc.Channels())
	}
}

// Close racing with Encode/Decode must not crash; calls return either a
// result or ErrClosed.
func TestCloseConcurrent(t *testing.T) {
	for range 20 {
		enc, err := NewEncoder(EncoderSettings{})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder(1)
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]float32, FrameSamples)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var unexpected []error
		record := func(err error) {
			if err != nil && !errors.Is(err, ErrClosed) {
				mu.Lock()
				unexpected = append(unexpected, err)
				mu.Unlock()
			}
		}
		for range 2 {
			wg.Go(func() {
				for range 20 {
					pkt, err := enc.Encode(frame)
					record(err)
					_, err = dec.Decode(pkt) // nil pkt after close: PLC or ErrClosed
					record(err)
				}
			})
		}
		wg.Go(func() { enc.Close() })
		wg.Go(func() { dec.Close() })
		wg.Wait()
		for _, err := range unexpected {
			t.Error(err)
		}
		if _, err := enc.Encode(frame); !errors.Is(err, ErrClosed) {
			t.Errorf("Encode after concurrent Close: %v", err)
		}
	}
}

// The returned slices must not alias the codec's scratch buffers.
func TestResultsAreFresh(t *testing.T) {
	enc, err := NewEncoder(EncoderSettings{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	frames := sine(2, 440)
	p1, _ := enc.Encode(frames[0])
	keep := append([]byte(nil), p1...)
	if _, err := enc.Encode(frames[1]); err != nil {
		t.Fatal(err)
	}
	if string(p1) != string(keep) {
		t.Error("second Encode overwrote the first packet")
	}
	d1, _ := dec.Decode(p1)
	keepPCM := append([]float32(nil), d1...)
	if _, err := dec.Decode(nil); err != nil {
		t.Fatal(err)
	}
	for i := range d1 {
		if d1[i] != keepPCM[i] {
			t.Fatal("second Decode overwrote the first output")
		}
	}
}

func FuzzDecode(f *testing.F) {
	enc, err := NewEncoder(EncoderSettings{})
	if err != nil {
		f.Fatal(err)
	}
	for _, frame := range sine(3, 440) {
		pkt, err := enc.Encode(frame)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkt)
	}
	enc.Close()
	f.Add([]byte{})
	f.Add([]byte{0x03, 0x83, 0x01})
	f.Fuzz(func(t *testing.T, packet []byte) {
		for _, ch := range []int{1, 2} {
			dec, err := NewDecoder(ch)
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := dec.Decode(packet)
			dec.Close()
			if err != nil {
				continue
			}
			if len(pcm) == 0 || len(pcm)%ch != 0 || len(pcm) > maxFrameSamples*ch {
				t.Fatalf("%d channels: %d samples from a %d-byte packet", ch, len(pcm), len(packet))
			}
		}
	})
}

func BenchmarkEncodeMono20ms(b *testing.B) {
	enc, err := NewEncoder(EncoderSettings{})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	frames := sine(50, 440)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := enc.Encode(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDecodeMono20ms(b *testing.B) {
	enc, err := NewEncoder(EncoderSettings{})
	if err != nil {
		b.Fatal(err)
	}
	var pkts [][]byte
	for _, frame := range sine(50, 440) {
		p, err := enc.Encode(frame)
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	enc.Close()
	dec, err := NewDecoder(1)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := dec.Decode(pkts[i%len(pkts)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
