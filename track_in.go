package rtcbot

import (
	"fmt"
	"image"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// packet is one received RTP packet.
type packet struct{ *rtp.Packet }

func newVideoDecoder(track *webrtc.TrackRemote) (trackDecoder[image.Image], error) {
	if !strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeVP8) {
		return nil, fmt.Errorf("rtcbot: receiving %s video is not supported; offer VP8", track.Codec().MimeType)
	}
	if newVP8Decoder == nil {
		return nil, errNoCgo
	}
	dec, err := newVP8Decoder()
	if err != nil {
		return nil, err
	}
	return &vp8Assembler{dec: dec, needKey: true}, nil
}

// vp8Assembler joins the RTP packets of each VP8 frame and decodes the frame
// as soon as its last packet (the one with the marker bit) arrives, rather
// than waiting for the next frame to begin, which would add a frame
// interval of latency. A frame with a missing packet is dropped, and frames
// are skipped until the next keyframe, which it asks the sender for.
type vp8Assembler struct {
	dec      videoDecoder
	depack   codecs.VP8Packet
	frame    []byte
	ts       uint32
	nextSeq  uint16
	started  bool // a frame is being assembled
	broken   bool // the frame being assembled lost a packet
	haveSeq  bool
	needKey  bool // wait for a keyframe before decoding
	decodeOK int  // frames decoded
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
		a.frame, a.ts, a.started, a.broken = a.frame[:0], p.Timestamp, true, false
	} else if !a.started || p.Timestamp != a.ts {
		a.broken = true
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
		a.needKey = true
		return true
	}
	keyframe := a.frame[0]&0x01 == 0
	if a.needKey && !keyframe {
		return true
	}
	img, err := a.dec.Decode(a.frame)
	if err != nil {
		a.needKey = true
		return true
	}
	a.needKey = false
	a.decodeOK++
	emit(img)
	return false
}

func (a *vp8Assembler) close() { a.dec.Close() }

func newAudioDecoder(track *webrtc.TrackRemote) (trackDecoder[AudioChunk], error) {
	if !strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeOpus) {
		return nil, fmt.Errorf("rtcbot: receiving %s audio is not supported; offer Opus", track.Codec().MimeType)
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

func (d *opusTrackDecoder) close() {
	if d.dec != nil {
		d.dec.Close()
	}
}
