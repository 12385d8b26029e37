package rtcbot

import (
	"bytes"
	"reflect"
	"testing"
)

// frameCollector feeds a decoder and keeps what it emits.
type frameCollector struct {
	dec    serialDecoder
	counts *serialCounts
	got    []any
}

func newFramerCollector(t testing.TB, format string, start byte) *frameCollector {
	t.Helper()
	f, err := ParseRecordFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	c := &frameCollector{counts: &serialCounts{}}
	c.dec = newRecordFramer(f, start, c.counts)
	return c
}

func (c *frameCollector) emit(v any) { c.got = append(c.got, v) }

// feed gives the decoder data in pieces of size n (all at once if n <= 0).
func (c *frameCollector) feed(data []byte, n int) {
	if n <= 0 {
		n = len(data)
	}
	for len(data) > 0 {
		k := min(n, len(data))
		c.dec.feed(data[:k], c.emit)
		data = data[k:]
	}
}

func tuple(vs ...int64) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// After noise, a record cut short, and a record cut by the next one's start
// byte, the reader finds its place again and every good record arrives, in
// whatever pieces the port delivers them.
func TestRecordFramerResynchronises(t *testing.T) {
	const S = 0xA5
	rec := func(a, b byte) []byte { return []byte{S, a, 0, b} } // "<hB": a, b
	var stream []byte
	stream = append(stream, 0x00, 0x13, 0x37, 0xff)              // noise before the first record
	stream = append(stream, rec(1, 1)...)                        // good
	stream = append(stream, S, 9)                                // cut short (2 of 4 bytes)...
	stream = append(stream, rec(2, 2)...)                        // ...run into by a good record
	stream = append(stream, 'h', 'e', 'l', 'l', 'o', '\r', '\n') // the sketch printed a line
	stream = append(stream, rec(3, 3)...)                        // good
	stream = append(stream, S, 7, 7)                             // cut short, 3 of 4 bytes
	stream = append(stream, rec(4, 4)...)                        // good
	stream = append(stream, rec(5, S)...)                        // good, holds the start byte
	stream = append(stream, rec(S, 6)...)                        // good, holds the start byte
	stream = append(stream, rec(7, 7)...)                        // good
	want := []any{tuple(1, 1), tuple(2, 2), tuple(3, 3), tuple(4, 4), tuple(5, S), tuple(S, 6), tuple(7, 7)}
	for _, piece := range []int{0, 1, 2, 3, 5, 7} {
		c := newFramerCollector(t, "<hB", S)
		c.feed(stream, piece)
		c.dec.idle(c.emit)
		if !reflect.DeepEqual(c.got, want) {
			t.Fatalf("in pieces of %d: got %v, want %v", piece, c.got, want)
		}
		if d := c.counts.dropped.Load(); d != 2 {
			t.Errorf("in pieces of %d: %d records dropped, want the 2 cut short", piece, d)
		}
		if s := c.counts.skipped.Load(); s != 4+2+7+3 {
			t.Errorf("in pieces of %d: %d bytes skipped, want 16 (noise and the records cut short)", piece, s)
		}
	}
}

// A record whose fields hold the start byte waits for the next byte, or
// for the port to go quiet; one that does not is delivered at once.
func TestRecordFramerAmbiguousRecordWaits(t *testing.T) {
	const S = 0xA5
	c := newFramerCollector(t, "<BB", S)
	c.feed([]byte{S, 1, 2}, 0)
	if len(c.got) != 1 || c.dec.waiting() {
		t.Fatalf("a plain record: got %v, waiting %v", c.got, c.dec.waiting())
	}
	c.feed([]byte{S, S, 2}, 0)
	if len(c.got) != 1 || !c.dec.waiting() {
		t.Fatalf("a record holding the start byte: got %v, waiting %v; want it held", c.got, c.dec.waiting())
	}
	c.dec.idle(c.emit)
	if !reflect.DeepEqual(c.got, []any{tuple(1, 2), tuple(S, 2)}) || c.dec.waiting() {
		t.Fatalf("after idle: got %v", c.got)
	}
	c.feed([]byte{S, 3, S}, 0)
	c.feed([]byte{S, 4, 4}, 0) // the next start byte confirms it
	if !reflect.DeepEqual(c.got[2:], []any{tuple(3, S), tuple(4, 4)}) {
		t.Fatalf("confirmed by the next record: got %v", c.got)
	}
}

// Without a start byte, records are every Size bytes.
func TestRecordSplitter(t *testing.T) {
	f, _ := ParseRecordFormat("<BB", "a", "b")
	counts := &serialCounts{}
	var got []any
	d := &recordSplitter{format: f, counts: counts}
	for _, b := range []byte{1, 2, 3, 4, 5} {
		d.feed([]byte{b}, func(v any) { got = append(got, v) })
	}
	want := []any{map[string]any{"a": int64(1), "b": int64(2)}, map[string]any{"a": int64(3), "b": int64(4)}}
	if !reflect.DeepEqual(got, want) || counts.received.Load() != 2 {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestLineSplitter(t *testing.T) {
	counts := &serialCounts{}
	l := &lineSplitter{max: 8, counts: counts}
	var got []any
	emit := func(v any) { got = append(got, v) }
	in := "I received: 1\r\nok\n\nexactly8\r\n" + "much too long for 8\n" + "a line that goes on and on" + " and on\r\nlast\n" + "partial"
	for _, piece := range []int{1, 3, len(in)} {
		got = nil
		*counts = serialCounts{}
		*l = lineSplitter{max: 8, counts: counts}
		for s := in; len(s) > 0; {
			k := min(piece, len(s))
			l.feed([]byte(s[:k]), emit)
			s = s[k:]
		}
		want := []any{"ok", "", "exactly8", "last"}
		if !reflect.DeepEqual(got, want) || counts.dropped.Load() != 3 {
			t.Fatalf("pieces of %d: got %q (%d dropped), want %q and 3 dropped", piece, got, counts.dropped.Load(), want)
		}
	}
}

// FuzzRecordFraming feeds the start-byte framer any bytes, in pieces of
// any size, and checks that it never panics and emits only whole records;
// then that a stream of good records separated by noise arrives whole:
// every record, in order, however it is cut into pieces.
func FuzzRecordFraming(f *testing.F) {
	f.Add([]byte{0xA5, 1, 0, 2, 0xA5, 9, 0xA5, 3, 0, 4}, []byte("noise"), uint8(3))
	f.Add(bytes.Repeat([]byte{0xA5}, 13), []byte{}, uint8(1))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{0xA5, 0xA5, 1}, uint8(0))
	f.Fuzz(func(t *testing.T, data, noise []byte, piece uint8) {
		const S = 0xA5
		const format = "<hB"
		c := newFramerCollector(t, format, S)
		c.feed(data, int(piece))
		c.dec.idle(c.emit)
		for _, rec := range c.got {
			if v, ok := rec.([]any); !ok || len(v) != 2 {
				t.Fatalf("emitted %v", rec)
			}
		}
		if n := uint64(len(c.got)); c.counts.received.Load() != n {
			t.Fatalf("%d received counted, %d emitted", c.counts.received.Load(), n)
		}

		// Good records: data cut into 3-byte fields. Noise, without start
		// bytes, follows each record whose fields hold none (after one
		// that does, noise makes it ambiguous: see recordFramer).
		noise = bytes.ReplaceAll(noise, []byte{S}, nil)
		rf, _ := ParseRecordFormat(format)
		var stream []byte
		var want []any
		stream = append(stream, noise...)
		for i := 0; i+3 <= len(data); i += 3 {
			fields := data[i : i+3]
			rec, _ := rf.Decode(fields)
			want = append(want, rec)
			stream = append(append(stream, S), fields...)
			if bytes.IndexByte(fields, S) < 0 {
				stream = append(stream, noise...)
			}
		}
		c = newFramerCollector(t, format, S)
		c.feed(stream, int(piece))
		c.dec.idle(c.emit)
		if !reflect.DeepEqual(c.got, want) {
			t.Fatalf("stream %x in pieces of %d: got %v, want %v", stream, piece, c.got, want)
		}
		if c.counts.dropped.Load() != 0 {
			t.Fatalf("stream %x: %d dropped", stream, c.counts.dropped.Load())
		}
	})
}
