package rtcbot

import (
	"encoding/binary"
	"fmt"
	"image"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// packet is one received RTP packet.
type packet struct{ *rtp.Packet }

// frameCounts counts what became of the frames of an incoming video track.
type frameCounts struct {
	decoded    uint64 // delivered
	incomplete uint64 // dropped: a packet was lost for good, or it was too large
	skipped    uint64 // dropped: complete, but after a loss, waiting for a keyframe
	refused    uint64 // dropped: malformed, or refused by the decoder
	keyframes  uint64 // keyframes that began to arrive, complete or not
}

// dropped returns the frames dropped, for any reason.
func (c frameCounts) dropped() uint64 { return c.incomplete + c.skipped + c.refused }

// newVideoDecoder returns the decoder of an incoming video track with the
// codecs of its connection. A codec without a decoder is an error matching
// ErrCodecNotSupported, which names what to import or register.
func newVideoDecoder(codecs videoCodecSet, track *webrtc.TrackRemote) (trackDecoder[image.Image], error) {
	return newVideoAssembler(codecs, track.Codec().MimeType)
}

// newVideoAssembler returns the decoder of an incoming video track of the
// given MIME type (see newVideoDecoder).
func newVideoAssembler(codecs videoCodecSet, mime string) (trackDecoder[image.Image], error) {
	var codec string
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		codec = codecVP8
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		codec = codecH264
	default:
		return nil, fmt.Errorf("rtcbot: receiving %s video is not supported; offer VP8 or H.264: %w", mime, ErrCodecNotSupported)
	}
	newDec, err := codecs.decoder(codec)
	if err != nil {
		return nil, err
	}
	dec, err := newDec()
	if err != nil {
		return nil, fmt.Errorf("rtcbot: %s decoder: %w", codec, err)
	}
	if codec == codecH264 {
		return &h264Assembler{dec: dec, maxAU: maxVP8FrameBytes, needKey: true}, nil
	}
	return newVP8Assembler(dec, maxVP8FrameBytes), nil
}

// Limits on what a peer may send as VP8 video, so that a hostile sender
// cannot make a receiver allocate without bound.
const (
	// maxVP8FrameBytes bounds the bytes of one frame being assembled. A
	// frame whose packets add up to more is dropped as broken: a peer that
	// sends packets without ever setting the marker bit must not grow the
	// buffer forever. libvpx's keyframes of 1080p video are a few hundred
	// KiB even at high bitrates; 4 MiB leaves room for 4K at very high
	// quality.
	maxVP8FrameBytes = 4 << 20
	// maxVP8Pixels bounds the picture size (width times height) a keyframe
	// may declare. VP8's 14-bit fields allow up to 16383x16383, for which
	// libvpx would allocate over a gigabyte on the say-so of a 10-byte
	// header; 4096x4096 covers 4K video. It is the limit codec/vp8 applies
	// too.
	maxVP8Pixels = 4096 * 4096
)

// vp8Assembler joins the RTP packets of each VP8 frame and decodes the frame
// as soon as its last packet (the one with the marker bit) arrives, rather
// than waiting for the next frame to begin, which would add a frame
// interval of latency. A frame with a missing packet is dropped, and frames
// are skipped until the next keyframe, which it asks the sender for. So is
// a frame larger than maxFrame bytes, a keyframe whose header is malformed
// or declares an empty picture or one of more than maxVP8Pixels, and a
// frame that decodes to a picture of another size than its keyframe
// declared.
type vp8Assembler struct {
	dec      VideoDecoder
	depack   codecs.VP8Packet
	maxFrame int // bound on len(frame)
	frame    []byte
	ts       uint32
	nextSeq  uint16
	started  bool // a frame is being assembled
	broken   bool // the frame being assembled lost a packet or is too large
	haveSeq  bool
	needKey  bool // wait for a keyframe before decoding
	width    int  // the picture size the last keyframe declared
	height   int
	count    frameCounts
}

func newVP8Assembler(dec VideoDecoder, maxFrame int) *vp8Assembler {
	return &vp8Assembler{dec: dec, maxFrame: maxFrame, needKey: true}
}

func (a *vp8Assembler) push(p packet, emit func(image.Image)) bool {
	if a.haveSeq && p.SequenceNumber != a.nextSeq {
		if int16(p.SequenceNumber-a.nextSeq) < 0 {
			return false // late or duplicate packet: its frame is gone
		}
		a.broken = true // a gap: packets were lost
	}
	a.haveSeq, a.nextSeq = true, p.SequenceNumber+1
	payload, err := a.depack.Unmarshal(p.Payload)
	if err != nil {
		a.broken = true
		return a.finish(p, emit)
	}
	if a.depack.S == 1 && a.depack.PID == 0 { // the first packet of a frame
		if a.broken || a.started {
			// Packets were lost since the last frame ended, or it never
			// ended: a whole frame may be gone, so no delta frame can be
			// trusted until a keyframe.
			a.needKey = true
		}
		a.frame, a.ts, a.started, a.broken = a.frame[:0], p.Timestamp, true, false
		if len(payload) > 0 && payload[0]&0x01 == 0 { // the frame tag's P bit: a keyframe
			a.count.keyframes++
		}
	} else if !a.started || p.Timestamp != a.ts {
		a.broken = true
	}
	if a.broken {
		// The frame is lost: keep none of its bytes.
		a.frame = a.frame[:0]
		return a.finish(p, emit)
	}
	if len(payload) > a.maxFrame-len(a.frame) {
		// Too large to be a real frame: drop it now and ask for a keyframe
		// without waiting for a marker bit that may never come.
		a.frame, a.broken, a.needKey = a.frame[:0], true, true
		a.finish(p, emit)
		return true
	}
	a.frame = append(a.frame, payload...)
	return a.finish(p, emit)
}

// finish decodes the frame when p is its last packet; it reports whether a
// keyframe is needed.
func (a *vp8Assembler) finish(p packet, emit func(image.Image)) bool {
	if !p.Marker {
		return false
	}
	defer func() { a.started = false }()
	if a.broken || !a.started || len(a.frame) == 0 {
		return a.drop(&a.count.incomplete)
	}
	keyframe := a.frame[0]&0x01 == 0
	if keyframe {
		w, h, ok := vp8KeyframeSize(a.frame)
		if !ok || w == 0 || h == 0 || w*h > maxVP8Pixels {
			return a.drop(&a.count.refused)
		}
		a.width, a.height = w, h
	} else if a.needKey {
		return a.drop(&a.count.skipped)
	}
	img, err := a.dec.Decode(a.frame)
	if err == nil && img == nil {
		// A frame that yields no picture (VideoDecoder allows it): the
		// stream goes on.
		a.needKey = false
		return false
	}
	if err != nil || img.Rect.Dx() != a.width || img.Rect.Dy() != a.height {
		return a.drop(&a.count.refused)
	}
	a.needKey = false
	a.count.decoded++
	emit(img)
	return false
}

// drop drops the frame being finished, counting it in reason: decoding
// waits for a keyframe, which it asks for.
func (a *vp8Assembler) drop(reason *uint64) bool {
	a.needKey = true
	*reason++
	return true
}

// vp8KeyframeSize returns the picture size in a VP8 keyframe's header (RFC
// 6386, section 9.1): a 3-byte frame tag, the start code 0x9d 0x01 0x2a,
// then the width and height as 16-bit little-endian fields whose low 14 bits
// are the size and top 2 bits a scaling hint. It reports false if frame is
// too short to hold the header or lacks the start code.
func vp8KeyframeSize(frame []byte) (w, h int, ok bool) {
	if len(frame) < 10 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, false
	}
	w = int(binary.LittleEndian.Uint16(frame[6:8]) & 0x3fff)
	h = int(binary.LittleEndian.Uint16(frame[8:10]) & 0x3fff)
	return w, h, true
}

func (a *vp8Assembler) frames() frameCounts { return a.count }

func (a *vp8Assembler) close() { a.dec.Close() }

// h264Assembler joins the RTP packets of each H.264 access unit (RFC 6184:
// single NAL units, STAP-A aggregates, FU-A fragments) into Annex-B form and
// decodes the access unit as soon as its last packet (the marker bit)
// arrives. As for VP8, an access unit with a missing packet is dropped, and
// so is everything after it until an IDR picture, which it asks the sender
// for; the decoder (codec/avcodec) hands out only pictures it decoded
// cleanly. Access units are bounded at maxAU bytes.
type h264Assembler struct {
	dec     VideoDecoder
	maxAU   int
	au      []byte
	ts      uint32
	nextSeq uint16
	haveSeq bool
	started bool // an access unit is being assembled
	broken  bool // it lost a packet, or is too large
	inFU    bool // an FU-A fragmented NAL unit is being assembled
	fuNAL   byte // its NAL unit header
	needKey bool // wait for an IDR before decoding
	count   frameCounts
}

func (a *h264Assembler) push(p packet, emit func(image.Image)) bool {
	gap := a.haveSeq && p.SequenceNumber != a.nextSeq
	if gap && int16(p.SequenceNumber-a.nextSeq) < 0 {
		return false // late or duplicate
	}
	a.haveSeq, a.nextSeq = true, p.SequenceNumber+1
	if !a.started || p.Timestamp != a.ts { // a new access unit
		if a.started {
			a.needKey = true // the last one never ended: its marker packet was lost
		}
		a.au, a.ts, a.started, a.broken = a.au[:0], p.Timestamp, true, false
		a.inFU = false // no fragment of a lost NAL unit carries over
		if startsKeyframe(p.Payload) {
			a.count.keyframes++
		}
	}
	if gap {
		// Packets were lost: this access unit, or a whole one before it.
		a.broken, a.needKey = true, true
	}
	if !a.broken && !a.appendPayload(p.Payload) {
		a.broken = true
	}
	if a.broken {
		a.au, a.inFU = a.au[:0], false
	}
	if !p.Marker {
		return false
	}
	a.started = false
	if a.broken || a.inFU || len(a.au) == 0 { // inFU: the last NAL unit's fragments stop short
		a.needKey = true
		a.count.incomplete++
		return true
	}
	if a.needKey && !hasIDR(a.au) {
		a.count.skipped++
		return true
	}
	img, err := a.dec.Decode(a.au)
	if err != nil {
		a.needKey = true
		a.count.refused++
		return true
	}
	if img == nil {
		return false // parameter sets only: no picture
	}
	a.needKey = false
	a.count.decoded++
	emit(img)
	return false
}

// appendPayload appends the NAL units of one RTP payload to the access unit
// in Annex-B form, each behind a 4-byte start code, as pion's
// codecs.H264Packet does, but into the access unit's own buffer, which is
// reused from one access unit to the next: no allocation per packet. It
// takes what packetization-mode 1 carries (RFC 6184): a single NAL unit
// (types 1 to 23), a STAP-A aggregate (24) and FU-A fragments (28), whose
// NAL unit it rebuilds in place from the fragments in a row. It reports
// false for an empty or malformed payload, another packetisation type, a
// fragment out of turn (a continuation without a start, a start or another
// packet while a fragmented unit is open), a fragment whose FU-A headers
// disagree with the first fragment's about the unit's type or NRI, and a
// payload that would make the
// access unit larger than maxAU.
func (a *h264Assembler) appendPayload(payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	t := payload[0] & 0x1f
	if a.inFU && t != 28 {
		return false
	}
	switch {
	case t >= 1 && t <= 23: // a single NAL unit
		return a.appendNAL(payload)
	case t == 24: // STAP-A: units behind 16-bit sizes
		rest := payload[1:]
		for len(rest) >= 2 {
			n := int(binary.BigEndian.Uint16(rest))
			if n > len(rest)-2 {
				return false
			}
			if !a.appendNAL(rest[2 : 2+n]) {
				return false
			}
			rest = rest[2+n:]
		}
		return true
	case t == 28: // FU-A: an FU indicator, an FU header, a fragment
		if len(payload) < 2 {
			return false
		}
		fu := payload[1]
		start, end := fu&0x80 != 0, fu&0x40 != 0
		// The unit's header: NRI of the FU indicator, type of the FU
		// header; every fragment of a unit carries the same.
		header := payload[0]&0x60 | fu&0x1f
		switch {
		case start && !a.inFU:
			if !a.appendNAL([]byte{header}) {
				return false
			}
			a.inFU, a.fuNAL = true, header
		case start || !a.inFU || header != a.fuNAL:
			return false
		}
		fragment := payload[2:]
		if len(fragment) > a.maxAU-len(a.au) {
			return false
		}
		a.au = append(a.au, fragment...)
		a.inFU = !end
		return true
	}
	return false // STAP-B, MTAP, FU-B or a reserved type
}

// appendNAL appends a start code and nal to the access unit, if it stays
// within maxAU.
func (a *h264Assembler) appendNAL(nal []byte) bool {
	if len(nal) > a.maxAU-len(a.au)-4 {
		return false
	}
	a.au = append(a.au, 0, 0, 0, 1)
	a.au = append(a.au, nal...)
	return true
}

// startsKeyframe reports whether an H.264 RTP payload (RFC 6184) begins
// with a parameter set or an IDR slice, as a keyframe's first packet does:
// a single NAL unit, the first unit of a STAP-A, or the start of an FU-A.
func startsKeyframe(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	nal := payload[0] & 0x1f
	switch nal {
	case 24: // STAP-A: a 16-bit size, then the first unit
		if len(payload) < 4 {
			return false
		}
		nal = payload[3] & 0x1f
	case 28: // FU-A: the fragment's header holds the unit's type
		if payload[1]&0x80 == 0 {
			return false // not the first fragment
		}
		nal = payload[1] & 0x1f
	}
	return nal == 5 || nal == 7
}

// hasIDR reports whether an Annex-B access unit holds an IDR picture (NAL
// unit type 5).
func hasIDR(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			if au[i+3]&0x1f == 5 {
				return true
			}
			i += 2
		}
	}
	return false
}

func (a *h264Assembler) frames() frameCounts { return a.count }

func (a *h264Assembler) close() { a.dec.Close() }

func newAudioDecoder(track *webrtc.TrackRemote) (trackDecoder[AudioChunk], error) {
	if !strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeOpus) {
		return nil, fmt.Errorf("rtcbot: receiving %s audio is not supported; offer Opus: %w", track.Codec().MimeType, ErrCodecNotSupported)
	}
	if newOpusDecoder == nil {
		return nil, errNoCgo
	}
	return &opusTrackDecoder{}, nil
}

// opusTrackDecoder decodes Opus packets into chunks with the packet's own
// channel count (the TOC byte says whether it is stereo).
type opusTrackDecoder struct {
	dec      audioDecoder
	channels int
}

func (d *opusTrackDecoder) push(p packet, emit func(AudioChunk)) bool {
	if len(p.Payload) == 0 {
		return false
	}
	channels := 1 + int(p.Payload[0]>>2&1)
	if d.dec == nil || channels != d.channels {
		if d.dec != nil {
			d.dec.Close()
		}
		dec, err := newOpusDecoder(channels)
		if err != nil {
			d.dec = nil
			return false
		}
		d.dec, d.channels = dec, channels
	}
	pcm, err := d.dec.Decode(p.Payload)
	if err != nil {
		return false
	}
	emit(AudioChunk{Samples: pcm, Channels: channels, SampleRate: 48000})
	return false
}

func (d *opusTrackDecoder) frames() frameCounts { return frameCounts{} } // counted for video only

func (d *opusTrackDecoder) close() {
	if d.dec != nil {
		d.dec.Close()
	}
}
