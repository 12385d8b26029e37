package rtcbot

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/internal/lkbridge"
)

// This file gives package rtcbot/livekit the send and receive paths of
// rtcbot's connections through internal/lkbridge, so that a robot in a
// LiveKit room encodes each source once (the same shared track its direct
// connections use), with rtcbot's congestion control and keyframe
// handling, and a viewer decodes through rtcbot's reorder buffer and
// assemblers, without rtcbot exporting any of it or depending on LiveKit.

func init() {
	lkbridge.NewVideoSender = bridgeVideoSender
	lkbridge.NewAudioSender = bridgeAudioSender
	lkbridge.Bitrates = bridgeBitrates
	lkbridge.ReceiveVideo = bridgeReceiveVideo
	lkbridge.ReceiveAudio = bridgeReceiveAudio
	lkbridge.DecodeText = decodeText
	lkbridge.EncodeMessage = encodeMessage
}

// bridgeSender is a shared outgoing track held by one LiveKit publisher.
type bridgeSender struct {
	t       sendTrack
	linkBps atomic.Int64
	once    sync.Once
}

func (s *bridgeSender) Track() webrtc.TrackLocal { return s.t.localTrack() }

func (s *bridgeSender) Start() (stop func()) { return s.t.connected() }

func (s *bridgeSender) RequestKeyframe() { s.t.requestKeyframe(int(s.linkBps.Load())) }

// SetEstimate hands the encoder the estimate less the packets' headers, as
// Connection.videoTarget does (the SDK's NACK responder is not held to a
// share of the estimate, so no resends are taken off).
func (s *bridgeSender) SetEstimate(bps int) {
	s.linkBps.Store(int64(bps))
	if bps <= 0 {
		s.t.dropTarget(s)
		return
	}
	s.t.setTarget(s, linkTarget{bps: max(bps*headerShare/100, lowestBitrate)})
}

func (s *bridgeSender) Keyframes() uint64 { return s.t.sentCount().keyframes }

func (s *bridgeSender) OnError(f func(error)) (stop func()) { return s.t.reportErrors(f) }

func (s *bridgeSender) Close() {
	s.once.Do(func() {
		s.t.dropTarget(s)
		s.t.release()
	})
}

// bridgeVideoSender acquires the track of src (pictures or encoded frames)
// as a Connection's video stream does.
func bridgeVideoSender(src any, settings any) (lkbridge.Sender, error) {
	s, ok := settings.(VideoSettings)
	if !ok {
		return nil, fmt.Errorf("%w: video settings of type %T", ErrInvalidSettings, settings)
	}
	codec, capability, err := videoCodec(s)
	if err != nil {
		return nil, err
	}
	s.Codec = codec // one spelling, so the track is shared with connections
	var t sendTrack
	switch src := src.(type) {
	case Getter[EncodedFrame]:
		t, err = acquireOutTrack(src, s, capability, func() (sampleEncoder[EncodedFrame], error) {
			return newPassthroughEncoder(codec, src), nil
		})
	case Getter[image.Image]:
		newEnc, encErr := registeredVideoCodecs().encoder(codec)
		if encErr != nil {
			return nil, encErr
		}
		t, err = acquireOutTrack(src, s, capability, func() (sampleEncoder[image.Image], error) {
			return &videoSampleEncoder{codec: codec, newEnc: newEnc, settings: s}, nil
		})
	default:
		return nil, fmt.Errorf("rtcbot: video from a %T", src)
	}
	if err != nil {
		return nil, err
	}
	return &bridgeSender{t: t}, nil
}

// bridgeAudioSender acquires the Opus track of src as a Connection's audio
// stream does.
func bridgeAudioSender(src any) (lkbridge.Sender, error) {
	chunks, ok := src.(Getter[AudioChunk])
	if !ok {
		return nil, fmt.Errorf("%w: audio from a %T", errors.ErrUnsupported, src)
	}
	capability := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	t, err := acquireOutTrack(chunks, VideoSettings{}, capability, newOpusSampleEncoder)
	if err != nil {
		return nil, err
	}
	return &bridgeSender{t: t}, nil
}

// bridgeBitrates returns GCC's bounds for settings, as
// registerCongestionControl sets them.
func bridgeBitrates(settings any) (start, least, most int) {
	s, _ := settings.(VideoSettings)
	top := s.MaxBitrate
	if top == 0 {
		top = math.MaxInt32 // the encoder's default follows the picture size
	}
	return s.startBitrate(0, 0), lowestBitrate, max(top, lowestBitrate)
}

// bridgeReceiveVideo decodes an incoming video track as a Connection's
// video stream does (readInOrder), until the track ends.
func bridgeReceiveVideo(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, emit func(image.Image), requestKeyframe func()) error {
	dec, err := newVideoDecoder(registeredVideoCodecs(), track)
	if err != nil {
		return err
	}
	defer dec.close()
	decode := func(p *rtp.Packet) bool { return dec.push(packet{p}, emit) }
	readInOrder(track, receiver, decode, dec.frames, requestKeyframe, nil)
	return nil
}

// bridgeReceiveAudio decodes an incoming Opus track into AudioChunks until
// the track ends.
func bridgeReceiveAudio(track *webrtc.TrackRemote, emit func(any)) error {
	dec, err := newAudioDecoder(track)
	if err != nil {
		return err
	}
	defer dec.close()
	out := func(c AudioChunk) { emit(c) }
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return nil
		}
		dec.push(packet{p}, out)
	}
}
