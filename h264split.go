package rtcbot

import (
	"bytes"
	"fmt"
	"time"
)

// MaxAccessUnitSize bounds an access unit of an H.264 byte stream
// (NewH264Stream): bytes that reach it without the next access unit
// beginning are dropped as an error, up to the next start code. A 4K
// keyframe at a high bitrate is a few hundred kilobytes.
const MaxAccessUnitSize = 8 << 20

// H.264 NAL unit types (ITU-T H.264 table 7-1) the splitter looks at.
const (
	nalSlice    = 1
	nalIDR      = 5
	nalSEI      = 6
	nalSPS      = 7
	nalPPS      = 8
	nalAUD      = 9
	nalEndSeq   = 10
	nalEndStrm  = 11
	nalPrefix   = 14 // prefix NAL unit (SVC)
	nalReserved = 18 // the last type that begins an access unit (7.4.1.2.3)
)

// nalUnit is one NAL unit of the access unit being gathered: where its
// start code begins in the splitter's buffer, and its type.
type nalUnit struct {
	off int
	typ byte
}

// h264Splitter splits an H.264 Annex-B byte stream into access units
// (ITU-T H.264 7.4.1.2.3): a new one begins with an access unit delimiter,
// SPS, PPS, SEI or types 14 to 18 after a picture's slices, or with a slice
// whose first_mb_in_slice is 0 (the first of the next picture). An access
// unit is complete when the next one begins, or when flush is called
// (the stream went quiet after a slice): then it is emitted as an
// EncodedFrame, its invalid NAL units dropped, the latest SPS and PPS put
// before an IDR picture that came without them, so that a viewer who joins
// at any keyframe can start. It allocates the Data of each frame (frames
// are shared by subscribers) and nothing else once its buffer has grown.
type h264Splitter struct {
	buf     []byte    // from the start of the current access unit
	nals    []nalUnit // of the current access unit, the last one still open
	scan    int       // where to look for the next start code
	vcl     bool      // the current access unit has a slice
	skip    bool      // dropping bytes until the next start code (after an error)
	flushed bool      // flush emitted the last access unit: bytes before the next start code mean it was cut short

	sps, pps []byte // the latest, with their start codes
	emit     func(EncodedFrame)
	fail     func(error) // a malformed stream: what was dropped and why

	cutShort int // access units flush emitted before their end
}

// write adds p, which arrived at now, and emits the access units it
// completes.
func (s *h264Splitter) write(p []byte, now time.Time) {
	s.buf = append(s.buf, p...)
	for {
		at, n := findStartCode(s.buf, s.scan)
		if at < 0 {
			// Keep the last two bytes unscanned: a start code may span
			// two writes.
			s.scan = max(len(s.buf)-3, s.scan)
			break
		}
		if at+n+2 > len(s.buf) {
			// The NAL unit's header (and the first byte of a slice's
			// header) has not come yet.
			s.scan = at
			break
		}
		s.scan = at + n
		s.startNAL(at, n, now)
	}
	if len(s.buf) > MaxAccessUnitSize {
		s.fail(fmt.Errorf("%w: no access unit boundary within %d bytes (MaxAccessUnitSize)", ErrEncodedFrame, MaxAccessUnitSize))
		s.reset()
		s.skip = true
	}
}

// startNAL handles the NAL unit whose start code (n bytes) is at off.
func (s *h264Splitter) startNAL(off, n int, now time.Time) {
	if s.skip {
		// Drop what came before this start code.
		s.buf = s.buf[:copy(s.buf, s.buf[off:])]
		s.scan -= off
		off, s.skip = 0, false
		s.nals, s.vcl = s.nals[:0], false
	}
	if len(s.nals) == 0 && off > 0 {
		// Bytes before the first start code of an access unit are not
		// H.264, unless they are zeros (leading_zero_8bits).
		switch {
		case len(bytes.Trim(s.buf[:off], "\x00")) == 0:
		case s.flushed:
			// The flushed access unit was not complete: these bytes
			// are the end of its last NAL unit.
			s.cutShort++
			s.fail(fmt.Errorf("%w: an access unit was sent before its end (the stream paused inside a picture for longer than FlushAfter); %d bytes dropped", ErrEncodedFrame, off))
		default:
			s.fail(fmt.Errorf("%w: %d bytes before a start code dropped", ErrEncodedFrame, off))
		}
		s.buf = s.buf[:copy(s.buf, s.buf[off:])]
		s.scan -= off
		off = 0
	}
	s.flushed = false
	header := s.buf[off+n]
	typ := header & 0x1f
	var next byte // the first byte of the payload, 0 if it has not come
	if off+n+1 < len(s.buf) {
		next = s.buf[off+n+1]
	}
	if s.vcl && beginsAccessUnit(typ, next) {
		s.finish(off, now)
		off = 0
	}
	s.nals = append(s.nals, nalUnit{off: off, typ: typ})
	if typ == nalSlice || typ == nalIDR {
		s.vcl = true
	}
}

// beginsAccessUnit reports whether a NAL unit of type typ, whose next byte
// is next, begins a new access unit after one that has a slice.
func beginsAccessUnit(typ, next byte) bool {
	switch {
	case typ == nalAUD || typ == nalSEI || typ == nalSPS || typ == nalPPS:
		return true
	case typ >= nalPrefix && typ <= nalReserved:
		return true
	case typ == nalSlice || typ == nalIDR:
		// first_mb_in_slice, ue(v), is 0 exactly when its first bit is 1.
		return next&0x80 != 0
	}
	return false
}

// continues reports whether p, the bytes that came after a read that left
// a picture open, continue that access unit, rather than begin the next
// one (or, unknown, too short to say).
func (s *h264Splitter) continues(p []byte) bool {
	i := 0
	for i < len(p) && p[i] == 0 {
		i++
	}
	if i < 2 || i+2 >= len(p) || p[i] != 1 {
		return true
	}
	return !beginsAccessUnit(p[i+1]&0x1f, p[i+2])
}

// flushable reports whether the stream going quiet now would mean the
// current access unit is complete: it has a slice, and a slice is open last.
func (s *h264Splitter) flushable() bool {
	if !s.vcl || s.skip || len(s.nals) == 0 {
		return false
	}
	last := s.nals[len(s.nals)-1].typ
	return last == nalSlice || last == nalIDR
}

// flush emits the current access unit, if it is flushable, taking its
// last NAL unit to end where the bytes end: before a start code whose NAL
// unit has not begun yet, and before up to three zeros, which may be the
// beginning of one. Those bytes stay for the next access unit.
func (s *h264Splitter) flush(now time.Time) {
	if !s.flushable() {
		return
	}
	end := len(s.buf)
	if at, _ := findStartCode(s.buf, s.scan); at >= 0 {
		end = at
	}
	last := s.nals[len(s.nals)-1].off + 4 // past the last NAL unit's start code and header
	for end > last && end > len(s.buf)-3 && s.buf[end-1] == 0 {
		end--
	}
	s.finish(end, now)
	s.flushed = true
}

// finish emits the access unit that ends at end and keeps the bytes after
// it for the next.
func (s *h264Splitter) finish(end int, now time.Time) {
	s.emitUnit(end, now)
	s.buf = s.buf[:copy(s.buf, s.buf[end:])]
	s.scan = max(s.scan-end, 0)
	s.nals, s.vcl = s.nals[:0], false
}

// emitUnit emits the current access unit, buf[:end], checking its NAL
// units.
func (s *h264Splitter) emitUnit(end int, now time.Time) {
	size, idr, hasSPS, hasPPS := 0, false, false, false
	for i, u := range s.nals {
		next := end
		if i+1 < len(s.nals) {
			next = s.nals[i+1].off
		}
		nal := s.buf[u.off:next]
		if bad := invalidNAL(nal); bad != "" {
			s.fail(fmt.Errorf("%w: NAL unit dropped: %s", ErrEncodedFrame, bad))
			s.nals[i].typ = 0xff // dropped
			continue
		}
		size += len(nal)
		switch u.typ {
		case nalIDR:
			idr = true
		case nalSPS:
			hasSPS = true
			s.sps = append(s.sps[:0], nal...)
		case nalPPS:
			hasPPS = true
			s.pps = append(s.pps[:0], nal...)
		}
	}
	if size == 0 {
		return
	}
	addSPS := idr && !hasSPS && len(s.sps) > 0
	addPPS := idr && !hasPPS && len(s.pps) > 0
	if addSPS {
		size += len(s.sps)
	}
	if addPPS {
		size += len(s.pps)
	}
	data := make([]byte, 0, size)
	inserted := !addSPS && !addPPS
	for i, u := range s.nals {
		if u.typ == 0xff {
			continue
		}
		if !inserted && u.typ != nalAUD {
			// After an access unit delimiter, which comes first.
			if addSPS {
				data = append(data, s.sps...)
			}
			if addPPS {
				data = append(data, s.pps...)
			}
			inserted = true
		}
		next := end
		if i+1 < len(s.nals) {
			next = s.nals[i+1].off
		}
		data = append(data, s.buf[u.off:next]...)
	}
	s.emit(EncodedFrame{Data: data, Keyframe: idr, Time: now})
}

// invalidNAL says what is wrong with nal (with its start code), "" if
// nothing: a NAL unit of a byte stream has its forbidden bit clear and a
// type from 1 to 23 (0 is unspecified, 24 to 31 are RTP's).
func invalidNAL(nal []byte) string {
	i := bytes.IndexByte(nal, 1) + 1 // after the start code
	if i >= len(nal) {
		return "empty"
	}
	header := nal[i]
	switch typ := header & 0x1f; {
	case header&0x80 != 0:
		return "forbidden bit set"
	case typ == 0 || typ >= 24:
		return fmt.Sprintf("type %d is not one of a byte stream", typ)
	case len(nal) == i+1 && typ != nalAUD && typ != nalEndSeq && typ != nalEndStrm:
		return fmt.Sprintf("type %d without a payload", typ)
	}
	return ""
}

// end emits what is left at the end of the stream, if it is a picture.
func (s *h264Splitter) end(now time.Time) {
	s.drain(now)
	if s.vcl && !s.skip {
		s.finish(len(s.buf), now)
	}
	s.reset()
}

// drain takes the bytes so far to be all there is, at the end of the
// stream: it handles the start codes that write left for more bytes, and
// drops a start code without a header at the end.
func (s *h264Splitter) drain(now time.Time) {
	for {
		at, n := findStartCode(s.buf, s.scan)
		if at < 0 {
			return
		}
		if at+n >= len(s.buf) {
			s.buf = s.buf[:at]
			s.scan = at
			return
		}
		s.scan = at + n
		s.startNAL(at, n, now)
	}
}

// reset forgets the access unit being gathered.
func (s *h264Splitter) reset() {
	s.buf, s.nals, s.scan, s.vcl, s.skip, s.flushed = s.buf[:0], s.nals[:0], 0, false, false, false
}

// findStartCode returns the position of the first start code in b at or
// after from, 00 00 01 or 00 00 00 01, and its length; -1 if there is
// none.
func findStartCode(b []byte, from int) (at, n int) {
	i := bytes.Index(b[min(from, len(b)):], annexBStart)
	if i < 0 {
		return -1, 0
	}
	at = from + i
	if at > 0 && b[at-1] == 0 {
		return at - 1, 4
	}
	return at, 3
}
