package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"net"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// MediaStream is a connection's video or audio, RTCBot's conn.video and
// conn.audio: a consumer of what this side sends and a producer of what the
// peer sends.
//
// Sending: PutSubscription(src) sends what src yields on one outgoing track
// (the first call makes the track; later calls switch what feeds it). Video
// is encoded with the codec of ConnectionSettings.Video (VP8 by default, or
// H.264), audio with Opus; a Source such as a camera is encoded once however
// many connections send it with the same settings. The track must exist
// before the session description is made; if the peer accepts none of its
// codecs, making or applying the description fails.
//
// Receiving: Subscribe yields the decoded media of the peer's first track of
// this kind: video frames as *image.YCbCr (4:2:0) through latest-only
// subscriptions, audio as 48 kHz AudioChunks through queues. Video is
// decoded from VP8 or H.264; lost packets are asked for again (NACK) and a
// frame is never decoded without the frames it refers to. OnTrack
// announces every incoming track. An offerer that sends
// nothing still receives if it subscribed before making the offer, or asked
// with OfferToReceive.
type MediaStream[T any] struct {
	conn       *Connection
	kind       webrtc.RTPCodecType
	received   *Producer[T]
	acquire    func(src any) (sendTrack, error) // src: a Getter[T] or, for video, a Getter[EncodedFrame]
	newDecoder func(track *webrtc.TrackRemote) (trackDecoder[T], error)

	failures warnOnce
	recv     receiveCounters // what incoming video met

	mu        sync.Mutex
	slots     []*sendSlot[T] // outgoing tracks; PutSubscription feeds the first
	direct    Subscription[T]
	toReceive int
	tracks    int
	target    linkTarget // what the connection's link carries
	onTrack   []func(id string, media Source[T])
	closed    bool
}

// sendSlot is one outgoing track of a stream. Before the description is
// made it holds only the source; then the track and its sender.
type sendSlot[T any] struct {
	src      any // a Getter[T] or a Getter[EncodedFrame], until the track is made
	track    sendTrack
	sender   *webrtc.RTPSender
	unactive func() // undoes track.connected
	unreport func() // stops the track's errors reaching the stream

	sentFrom   sentFrames // what track had sent when the peer connected to it
	sentBanked sentFrames // what the peer got from earlier tracks
}

// connect counts the slot's peer as connected to its track.
func (s *sendSlot[T]) connect() {
	s.unactive = s.track.connected()
	s.sentFrom = s.track.sentCount()
}

// sentToPeer counts the frames and keyframes the slot's peer was sent.
func (s *sendSlot[T]) sentToPeer() sentFrames {
	if s.track == nil || s.unactive == nil {
		return s.sentBanked
	}
	return s.sentBanked.plus(s.track.sentCount().minus(s.sentFrom))
}

// trackDecoder turns the RTP packets of one incoming track into items.
type trackDecoder[T any] interface {
	// push takes one packet and calls emit for each item it completes. It
	// reports whether the stream needs a keyframe.
	push(pkt packet, emit func(T)) (needKeyframe bool)
	// frames returns what became of the track's frames so far.
	frames() frameCounts
	close()
}

func newVideoStream(c *Connection) *MediaStream[image.Image] {
	s := c.settings.Video
	codec, capability, codecErr := videoCodec(s)
	s.Codec = codec // one spelling, so tracks are shared whatever the case
	// Pictures need an encoder; encoded frames (PutEncoded) only the codec.
	var newEnc func(VideoEncoderSettings) (VideoEncoder, error)
	encErr := codecErr
	if codecErr == nil {
		newEnc, encErr = c.codecs.encoder(codec)
	}
	return &MediaStream[image.Image]{
		conn:     c,
		kind:     webrtc.RTPCodecTypeVideo,
		received: NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() }),
		acquire: func(src any) (sendTrack, error) {
			if codecErr != nil {
				return nil, codecErr
			}
			switch src := src.(type) {
			case Getter[EncodedFrame]:
				return acquireOutTrack(src, s, capability, func() (sampleEncoder[EncodedFrame], error) {
					return newPassthroughEncoder(codec, src), nil
				})
			case Getter[image.Image]:
				if encErr != nil {
					return nil, encErr
				}
				return acquireOutTrack(src, s, capability, func() (sampleEncoder[image.Image], error) {
					return &videoSampleEncoder{codec: codec, newEnc: newEnc, settings: s}, nil
				})
			}
			return nil, fmt.Errorf("rtcbot: video from a %T", src)
		},
		newDecoder: func(track *webrtc.TrackRemote) (trackDecoder[image.Image], error) {
			return newVideoDecoder(c.codecs, track)
		},
	}
}

func newAudioStream(c *Connection) *MediaStream[AudioChunk] {
	capability := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	return &MediaStream[AudioChunk]{
		conn:     c,
		kind:     webrtc.RTPCodecTypeAudio,
		received: NewProducer(func() Subscription[AudioChunk] { return NewQueue[AudioChunk](256) }),
		acquire: func(src any) (sendTrack, error) {
			chunks, ok := src.(Getter[AudioChunk])
			if !ok {
				return nil, fmt.Errorf("%w: an audio stream sends AudioChunks, not encoded frames", errors.ErrUnsupported)
			}
			return acquireOutTrack(chunks, VideoSettings{}, capability, newOpusSampleEncoder)
		},
		newDecoder: newAudioDecoder,
	}
}

// PutSubscription sends what src yields on the stream's outgoing track:
// frames for video, AudioChunks for audio. A Source (a camera, a microphone)
// is subscribed to and encoded once for every connection sending it. Before
// the description is made, this adds the track; afterwards it switches the
// existing track's input (a connection is never renegotiated).
//
// Like every PutSubscription and Put in rtcbot it returns nothing: what goes
// wrong is reported through the stream's error event (Err, OnError) and its
// log. A first PutSubscription after the description was made has no track
// to feed (ErrNegotiated); a codec the stream cannot encode with fails the
// description itself. On a closed stream it does nothing.
func (m *MediaStream[T]) PutSubscription(src Getter[T]) {
	if err := m.putSubscription(src); err != nil {
		m.fail(err)
	}
}

// PutEncoded sends frames that something else encoded, an H.264 camera or
// encoder say (see EncodedFrame, NewH264Stream, NewH264Command), on the
// stream's outgoing video track as they are, instead of encoding pictures:
// PutSubscription's counterpart, with the same rules (it makes or switches
// the one track, and a Source is sent once for every connection). The
// frames must be in the connection's codec, VideoSettings.Codec, which is
// what the peer is offered; their bitrate is the encoder's. Only video
// streams take encoded frames: on an audio stream it reports
// errors.ErrUnsupported through the error event.
func (m *MediaStream[T]) PutEncoded(src Getter[EncodedFrame]) {
	if err := m.putSubscription(src); err != nil {
		m.fail(err)
	}
}

func (m *MediaStream[T]) putSubscription(src any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	if len(m.slots) == 0 || m.slots[0].sender == nil {
		if m.conn.isDescribed() {
			return fmt.Errorf("%w: the connection has no outgoing %s track; put the subscription before making the description", ErrNegotiated, m.kind)
		}
		if len(m.slots) == 0 {
			m.slots = append(m.slots, &sendSlot[T]{})
		}
		m.slots[0].src = src
		return nil
	}
	slot := m.slots[0]
	t, err := m.acquire(src)
	if err != nil {
		return err
	}
	if err := slot.sender.ReplaceTrack(t.localTrack()); err != nil {
		t.release()
		return fmt.Errorf("rtcbot: switch track: %w", err)
	}
	slot.swapTrack(t, m.fail, m.target)
	return nil
}

// AddTrack adds another outgoing track fed by src, besides the one
// PutSubscription feeds (RTCBot's addTrack). It must be called before the
// description is made. The peer announces each track it receives through
// its OnTrack.
func (m *MediaStream[T]) AddTrack(src Getter[T]) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.conn.isDescribed() {
		return ErrNegotiated
	}
	if len(m.slots) == 0 {
		m.slots = append(m.slots, &sendSlot[T]{}) // the PutSubscription slot stays first
	}
	m.slots = append(m.slots, &sendSlot[T]{src: src})
	return nil
}

// swapTrack makes t the slot's track, releasing the old one; t's encoding
// errors go to report, and t follows target (what the connection's link
// carries, 0 if unknown).
func (s *sendSlot[T]) swapTrack(t sendTrack, report func(error), target linkTarget) {
	old, unactive := s.track, s.unactive
	if s.unreport != nil {
		s.unreport()
	}
	if old != nil {
		old.dropTarget(s)
	}
	if target.bps > 0 {
		t.setTarget(s, target)
	}
	s.sentBanked = s.sentToPeer()
	s.track, s.src, s.unactive = t, nil, nil
	s.unreport = t.reportErrors(report)
	if unactive != nil {
		unactive()
		s.connect()
	}
	if old != nil {
		old.release()
	}
}

// Put sends one item (a frame, an audio chunk) on the outgoing track,
// stopping any other input, like RTCBot's put_nowait. The first Put must come
// before the description is made, as it adds the track; otherwise the
// stream's error event reports ErrNegotiated, as for PutSubscription. On a
// closed stream it does nothing.
func (m *MediaStream[T]) Put(item T) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	direct := m.direct
	if direct == nil {
		if m.kind == webrtc.RTPCodecTypeVideo {
			direct = NewLatest[T]()
		} else {
			direct = NewQueue[T](256)
		}
		m.direct = direct
	}
	feeding := false
	if len(m.slots) > 0 {
		slot := m.slots[0]
		feeding = slot.src == any(direct) || (slot.track != nil && slot.track.input() == any(direct))
	}
	m.mu.Unlock()
	direct.Put(item)
	if !feeding {
		m.PutSubscription(direct)
	}
}

// OfferToReceive asks for n incoming tracks of this kind when this side
// makes the offer (RTCBot's offerToReceive); it has no effect on the
// answering side.
func (m *MediaStream[T]) OfferToReceive(n int) {
	m.mu.Lock()
	m.toReceive = n
	m.mu.Unlock()
}

// OnTrack runs f for every incoming track of this kind with the track's id
// and a Source of its decoded media. The first track's Source is the stream
// itself.
func (m *MediaStream[T]) OnTrack(f func(id string, media Source[T])) {
	m.mu.Lock()
	m.onTrack = append(m.onTrack, f)
	m.mu.Unlock()
}

// Subscribe returns a new subscription to the decoded media of the peer's
// first track: latest-only for video, a queue for audio.
func (m *MediaStream[T]) Subscribe() Subscription[T] { return m.received.Subscribe() }

// SubscribeWith registers s to receive the decoded media and returns it.
func (m *MediaStream[T]) SubscribeWith(s Subscription[T]) Subscription[T] {
	return m.received.SubscribeWith(s)
}

// SubscribeFunc calls f with each decoded frame or chunk, on a goroutine of
// its own (a slow f skips video frames).
func (m *MediaStream[T]) SubscribeFunc(f func(T)) *Callback[T] { return m.received.SubscribeFunc(f) }

// Unsubscribe removes and closes s; it reports whether s was subscribed.
func (m *MediaStream[T]) Unsubscribe(s Subscription[T]) bool { return m.received.Unsubscribe(s) }

// Get returns the next decoded item through a default subscription.
func (m *MediaStream[T]) Get(ctx context.Context) (T, error) { return m.received.Get(ctx) }

// Ready returns a channel closed when the first incoming media has been
// decoded.
func (m *MediaStream[T]) Ready() <-chan struct{} { return m.received.Ready() }

// OnError runs f with the stream's first error, at once if it had one: what
// it sends could not be encoded (audio at a rate other than 48 kHz, a
// frame the encoder refuses; each such item is dropped), or a
// PutSubscription or Put could not be carried out. The first failure is also
// logged.
func (m *MediaStream[T]) OnError(f func(error)) { m.received.OnError(f) }

// Err returns the stream's first error, nil if it had none.
func (m *MediaStream[T]) Err() error { return m.received.Err() }

// fail reports an error of what the stream sends.
func (m *MediaStream[T]) fail(err error) {
	m.failures.log(m.conn.log, "rtcbot: outgoing media dropped", "kind", m.kind, "err", err)
	m.received.SetError(err)
}

// prepare adds the outgoing tracks and, for an offer, the receive slots,
// before the description is made.
func (m *MediaStream[T]) prepare(offering bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	sending := 0
	for _, slot := range m.slots {
		if slot.src == nil { // AddTrack without PutSubscription
			continue
		}
		t, err := m.acquire(slot.src)
		if err != nil {
			return err
		}
		var sender *webrtc.RTPSender
		if offering && m.conn.mediaSession.Load() {
			var tr *webrtc.RTPTransceiver
			tr, err = m.conn.pc.AddTransceiverFromTrack(t.localTrack(), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err == nil {
				sender = tr.Sender()
			}
		} else {
			sender, err = m.conn.pc.AddTrack(t.localTrack())
		}
		if err != nil {
			t.release()
			return fmt.Errorf("rtcbot: add %s track: %w", m.kind, err)
		}
		slot.sender = sender
		slot.swapTrack(t, m.fail, m.target)
		m.conn.goTracked(func() { m.readRTCP(slot) })
		sending++
	}
	if !offering {
		return nil
	}
	want := m.toReceive
	if want == 0 && m.received.Subscribers() > 0 {
		want = 1
	}
	for i := sending; i < want; i++ {
		if _, err := m.conn.pc.AddTransceiverFromKind(m.kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("rtcbot: add %s receiver: %w", m.kind, err)
		}
	}
	return nil
}

// setTarget makes the stream's outgoing tracks follow what the connection's
// link carries, in bits per second.
func (m *MediaStream[T]) setTarget(target linkTarget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.target = target
	for _, slot := range m.slots {
		if slot.track != nil {
			slot.track.setTarget(slot, target)
		}
	}
}

// sentToPeer counts the frames and keyframes the stream's peer was sent.
func (m *MediaStream[T]) sentToPeer() sentFrames {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n sentFrames
	for _, slot := range m.slots {
		n = n.plus(slot.sentToPeer())
	}
	return n
}

// sending reports whether the stream has an outgoing track.
func (m *MediaStream[T]) sending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, slot := range m.slots {
		if slot.sender != nil {
			return true
		}
	}
	return false
}

// peerConnected is called when the connection reaches the peer: the
// outgoing tracks start encoding (with a keyframe).
func (m *MediaStream[T]) peerConnected() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for _, slot := range m.slots {
		if slot.track != nil && slot.unactive == nil {
			slot.connect()
		}
	}
}

// readRTCP reads the peer's reports on a slot's track (the interceptors need
// them read) and turns keyframe requests into keyframes.
func (m *MediaStream[T]) readRTCP(slot *sendSlot[T]) {
	for {
		pkts, _, err := slot.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				m.mu.Lock()
				if slot.track != nil {
					slot.track.requestKeyframe(m.conn.estimate.target())
				}
				m.mu.Unlock()
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				if p.Bitrate > 0 && m.kind == webrtc.RTPCodecTypeVideo {
					m.conn.setEstimate(&m.conn.estimate.remb, int(min(p.Bitrate, math.MaxInt32)))
				}
			}
		}
		m.conn.refreshVideoTarget()
	}
}

// receive reads an incoming track until it ends, decoding it into the
// stream (first track) or a Source of its own (announced through OnTrack).
// The OnTrack callbacks run before the goroutine counts as one the
// connection's Close waits for, so a callback may close the connection.
func (m *MediaStream[T]) receive(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	dec, err := m.newDecoder(track)
	if err != nil {
		if !m.conn.enter() {
			return
		}
		defer m.conn.wg.Done()
		m.conn.log.Warn("rtcbot: incoming track not decoded", "kind", m.kind, "codec", track.Codec().MimeType, "err", err)
		for {
			if _, _, err := track.ReadRTP(); err != nil {
				return
			}
		}
	}
	defer dec.close()
	m.mu.Lock()
	out := m.received
	if m.tracks > 0 {
		out = NewProducer(m.received.newSub)
		defer out.Close()
	}
	m.tracks++
	fs := m.onTrack
	m.mu.Unlock()
	for _, f := range fs {
		f(track.ID(), out)
	}
	if !m.conn.enter() {
		return // closed, maybe by a callback
	}
	defer m.conn.wg.Done()
	emit := func(item T) {
		out.Publish(item)
		out.SetReady()
	}
	if m.kind != webrtc.RTPCodecTypeVideo { // audio is not resent: no reordering
		for {
			p, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			dec.push(packet{p}, emit)
		}
	}
	m.receiveInOrder(track, receiver, func(p *rtp.Packet) bool { return dec.push(packet{p}, emit) }, dec.frames)
}

// receiveInOrder reads a video track through a reorder buffer, which holds
// the packets after a hole while the NACK interceptor has the missing one
// resent, for a wait that follows the round-trip time, and asks for a
// keyframe when decode says a frame cannot be repaired.
func (m *MediaStream[T]) receiveInOrder(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, decode func(*rtp.Packet) (needKeyframe bool),
	frames func() frameCounts) {
	ssrc := uint32(track.SSRC())
	var counts counted
	readInOrder(track, receiver, decode, frames, func() { m.conn.requestKeyframe(ssrc) }, func(now counted) {
		counts = m.recv.update(counts, now)
	})
}

// readInOrder reads track until it ends, passing its packets to decode in
// sequence order through a reorder buffer that waits for late and
// retransmitted packets, and calls requestKeyframe when decode reports
// that the stream needs a keyframe (spaced by keyframeAsker). After each
// read it gives report, if not nil, what the track met so far. It is the
// receive loop of a Connection's tracks and of package livekit's.
func readInOrder(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, decode func(*rtp.Packet) (needKeyframe bool),
	frames func() frameCounts, requestKeyframe func(), report func(counted)) {
	var buf reorderBuffer
	var asker keyframeAsker
	var packets, bytes uint64
	var rtt time.Duration
	var rttAt, deadline time.Time
	now := time.Now()
	measureRTT := func() {
		if now.Sub(rttAt) > time.Second {
			rtt, rttAt = roundTrip(receiver.Transport()), now
		}
	}
	deliver := func(p *rtp.Packet) {
		if !decode(p) {
			return
		}
		measureRTT()
		if asker.ask(now, rtt, frames().keyframes) {
			requestKeyframe()
		}
	}
	for {
		p, _, err := track.ReadRTP()
		now = time.Now()
		if buf.held > 0 {
			measureRTT()
		}
		if err == nil {
			packets++
			bytes += uint64(len(p.Payload))
			buf.push(p, now, deliver)
		} else if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
			return
		}
		next := buf.expire(now, reorderWait(rtt), deliver)
		if !next.Equal(deadline) {
			track.SetReadDeadline(next)
			deadline = next
		}
		if report != nil {
			report(counted{packets, bytes, buf.repaired, buf.lost, frames()})
		}
	}
}

// roundTrip returns the round-trip time ICE last measured on the selected
// candidate pair of a connection's transport, 0 if it has none.
func roundTrip(dtls *webrtc.DTLSTransport) time.Duration {
	if dtls == nil {
		return 0
	}
	stats, ok := dtls.ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return 0
	}
	return time.Duration(stats.CurrentRoundTripTime * float64(time.Second))
}

// close stops sending and ends the subscriptions to received media.
func (m *MediaStream[T]) close() {
	m.mu.Lock()
	m.closed = true
	slots, direct := m.slots, m.direct
	m.slots = nil
	m.mu.Unlock()
	for _, slot := range slots {
		if slot.unreport != nil {
			slot.unreport()
		}
		if slot.unactive != nil {
			slot.unactive()
		}
		if slot.track != nil {
			slot.track.dropTarget(slot)
			slot.track.release()
		}
	}
	if direct != nil {
		direct.Close()
	}
	m.received.Close()
}
