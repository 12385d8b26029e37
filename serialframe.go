package rtcbot

import (
	"bytes"
	"sync/atomic"
)

// The decoders below cut what a serial port delivers, in pieces of any
// size, into records or lines. They hold no goroutine and no port, so tests
// and fuzz targets feed them bytes directly.

// serialCounts counts what the decoders drop; Stats reads it.
type serialCounts struct {
	received atomic.Uint64 // records or lines delivered
	dropped  atomic.Uint64 // records or lines dropped: wrong length, too long
	skipped  atomic.Uint64 // bytes skipped looking for a start byte
}

// serialDecoder turns incoming bytes into items.
type serialDecoder interface {
	// feed takes the next bytes, calling emit with every item they
	// complete.
	feed(p []byte, emit func(any))
	// waiting reports whether a complete record is held until the bytes
	// after it show whether it is one (see recordFramer); the reader then
	// calls idle once the port has been quiet for serialIdle.
	waiting() bool
	// idle tells the decoder that nothing more came: a record it holds is
	// delivered.
	idle(emit func(any))
}

// recordFramer decodes records framed by a start byte: each record is the
// start byte followed by the format's Size bytes of fields.
//
// It scans for the start byte, skipping (and counting) the bytes before it,
// and takes the Size bytes after it as a record. The fields may hold the
// start byte as a value; a record whose fields do not is delivered at once.
// One whose fields do is ambiguous: it may be a record cut short (the
// Arduino reset mid-record, or bytes were lost) whose span has run into the
// next record's start byte. Such a record is delivered only if the next
// byte after it is a start byte, or nothing more arrives for serialIdle;
// if another byte follows, it is dropped and counted, and the scan resumes
// at the start byte inside it, so the record that follows is not lost.
//
// What cannot be caught without a checksum: a record cut short and
// followed by bytes that hold no start byte (noise) before the next record
// comes out as one record of wrong values; a good record whose fields hold
// the start byte and which is followed by noise is dropped.
type recordFramer struct {
	format *RecordFormat
	start  byte
	buf    []byte
	counts *serialCounts
}

func newRecordFramer(f *RecordFormat, start byte, c *serialCounts) *recordFramer {
	return &recordFramer{format: f, start: start, counts: c}
}

func (r *recordFramer) feed(p []byte, emit func(any)) {
	r.buf = append(r.buf, p...)
	n := r.format.Size()
	b := r.buf
	for {
		i := bytes.IndexByte(b, r.start)
		if i < 0 {
			r.counts.skipped.Add(uint64(len(b)))
			b = b[len(b):]
			break
		}
		if i > 0 {
			r.counts.skipped.Add(uint64(i))
			b = b[i:]
		}
		if len(b) < 1+n {
			break // wait for the rest of the record
		}
		fields := b[1 : 1+n]
		j := bytes.IndexByte(fields, r.start)
		if j >= 0 {
			if len(b) == 1+n {
				break // ambiguous: wait for the next byte, or idle
			}
			if b[1+n] != r.start {
				// A record cut short: resume at the start byte inside it.
				r.counts.dropped.Add(1)
				r.counts.skipped.Add(uint64(1 + j))
				b = b[1+j:]
				continue
			}
		}
		r.deliver(fields, emit)
		b = b[1+n:]
	}
	// Keep what is left at the front of buf, so that it does not grow.
	r.buf = append(r.buf[:0], b...)
}

func (r *recordFramer) waiting() bool {
	n := r.format.Size()
	return len(r.buf) == 1+n && r.buf[0] == r.start && bytes.IndexByte(r.buf[1:], r.start) >= 0
}

func (r *recordFramer) idle(emit func(any)) {
	if r.waiting() {
		r.deliver(r.buf[1:], emit)
		r.buf = r.buf[:0]
	}
}

func (r *recordFramer) deliver(fields []byte, emit func(any)) {
	rec, err := r.format.Decode(fields)
	if err != nil { // cannot happen: fields has the format's size
		r.counts.dropped.Add(1)
		return
	}
	r.counts.received.Add(1)
	emit(rec)
}

// recordSplitter decodes records with no start byte: every Size bytes from
// the moment the port opened are a record. It cannot resynchronise: a byte
// lost or added on the line shifts every later record.
type recordSplitter struct {
	format *RecordFormat
	buf    []byte
	counts *serialCounts
}

func (r *recordSplitter) feed(p []byte, emit func(any)) {
	r.buf = append(r.buf, p...)
	n := r.format.Size()
	b := r.buf
	for len(b) >= n && n > 0 {
		rec, _ := r.format.Decode(b[:n])
		r.counts.received.Add(1)
		emit(rec)
		b = b[n:]
	}
	r.buf = append(r.buf[:0], b...)
}

func (r *recordSplitter) waiting() bool  { return false }
func (r *recordSplitter) idle(func(any)) {}

// lineSplitter decodes lines: text up to each "\n", without it (and
// without a "\r" before it, as an Arduino's println sends), as a string. A
// line longer than max bytes is dropped, up to its newline, and counted.
type lineSplitter struct {
	max     int
	buf     []byte
	discard bool // inside a line that was too long
	counts  *serialCounts
}

func (l *lineSplitter) feed(p []byte, emit func(any)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !l.discard {
				l.buf = append(l.buf, p...)
				if len(l.buf) > l.max+1 { // +1: room for a "\r" before the newline
					l.discard, l.buf = true, l.buf[:0]
					l.counts.dropped.Add(1)
				}
			}
			return
		}
		if l.discard {
			l.discard = false
		} else if len(l.buf)+i > l.max+1 { // +1: a "\r" before the newline does not count
			l.buf = l.buf[:0]
			l.counts.dropped.Add(1)
		} else {
			line := append(l.buf, p[:i]...)
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) > l.max {
				l.counts.dropped.Add(1)
			} else {
				l.counts.received.Add(1)
				emit(string(line))
			}
			l.buf = l.buf[:0]
		}
		p = p[i+1:]
	}
}

func (l *lineSplitter) waiting() bool  { return false }
func (l *lineSplitter) idle(func(any)) {}
