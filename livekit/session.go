package livekit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/lkbridge"
)

// ReconnectSettings bound how a Robot or Viewer gets back into its room
// when the link to the server is lost. The SDK first resumes or restarts
// the session itself (up to 10 tries, about 10 s for a server that is back
// within a few seconds), republishing the robot's tracks; if it gives up,
// the Robot or Viewer joins the room afresh, up to MaxAttempts times, with
// a delay doubling from InitialDelay to MaxDelay between tries. A refused
// token (ErrUnauthorized) is not retried; after the last try it closes
// with ErrDisconnected.
type ReconnectSettings struct {
	// MaxAttempts is the most fresh joins after the SDK gave up; default
	// 5. Negative: none, close at once.
	MaxAttempts int
	// InitialDelay is the wait before the first fresh join; default 500 ms.
	InitialDelay time.Duration
	// MaxDelay caps the wait between joins; default 5 s.
	MaxDelay time.Duration
	// JoinTimeout bounds each fresh join; default 10 s.
	JoinTimeout time.Duration
}

func (r ReconnectSettings) withDefaults() ReconnectSettings {
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 5
	}
	if r.InitialDelay <= 0 {
		r.InitialDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 5 * time.Second
	}
	if r.JoinTimeout <= 0 {
		r.JoinTimeout = 10 * time.Second
	}
	return r
}

// Message is a data packet received from another participant, decoded as
// an RTCBot data channel message.
type Message struct {
	// From is the sender's identity: messages from one sender arrive in
	// the order it sent them.
	From string
	// Topic is the packet's topic, "" if it had none.
	Topic string
	// Value is the message: a JSON value (map[string]any, []any, float64,
	// string, bool, nil) for text that parses as JSON, the string for other
	// text, []byte for a payload that is not UTF-8.
	Value any
}

// Stats counts what a Robot or Viewer sent and received since it joined,
// over every rejoin.
type Stats struct {
	// BytesSent and PacketsSent count the RTP sent to the server (headers
	// included, retransmissions too): the uplink's media.
	BytesSent, PacketsSent uint64
	// FramesSent counts the video frames sent (the packets closing one).
	FramesSent uint64
	// KeyframeRequests counts the server's requests (PLI, FIR) for a
	// keyframe of the published video; KeyframesSent the keyframes the
	// encoder made, for every peer of the shared track.
	KeyframeRequests, KeyframesSent uint64
	// TargetBitrate is congestion control's last estimate of the uplink,
	// bits per second, 0 until the server's feedback came.
	TargetBitrate int
	// MessagesReceived counts the data packets delivered;
	// MessagesDropped those refused: over rtcbot.MaxMessageSize.
	MessagesReceived, MessagesDropped uint64
	// MessagesSent counts the messages sent, SendFailures those that
	// could not be (not JSON-encodable, too large, no connection, a token
	// without data permission: ErrNoDataPermission).
	MessagesSent, SendFailures uint64
	// Reconnects counts the SDK's resumptions and restarts of the
	// session; Rejoins the fresh joins after the SDK gave up.
	Reconnects, Rejoins uint64
}

// session is what a Robot and a Viewer share: the room, its rejoining,
// the data packets both ways and the interceptors on the SDK's peer
// connections.
type session struct {
	url, token    string
	topic         string
	log           *slog.Logger
	reconnect     ReconnectSettings
	autoSubscribe bool
	sendTo        []string // identities Put sends to, nil for all
	meter         *linkMeter
	interceptors  []interceptor.Factory
	events        *rtcbot.Events
	values        *rtcbot.Producer[any]
	messages      *rtcbot.Producer[Message]
	outgoing      *rtcbot.Consumer[any]
	stop          chan struct{} // closed by shutdown

	gcc, remb atomic.Int64 // the uplink's estimates, bits per second

	received, dropped, sent, sendFailed atomic.Uint64
	reconnects, rejoins                 atomic.Uint64
	failedOnce, droppedOnce             sync.Once

	// Set by Robot and Viewer before the first join.
	onJoined    func(ctx context.Context, room *lksdk.Room) error // after each fresh join
	onTrack     func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant)
	onEstimate  func(bps int)
	onKeyframe  func()
	onShutdown  func()
	onReconnect func()

	mu        sync.Mutex
	room      *lksdk.Room
	gen       uint64 // of the room joined last; callbacks of older rooms are ignored
	closed    bool
	rejoining bool
	wg        sync.WaitGroup // rejoin and track goroutines
}

// sessionSettings is what newSession needs from Robot's and Viewer's
// settings.
type sessionSettings struct {
	topic         string
	log           *slog.Logger
	reconnect     ReconnectSettings
	queue         int
	autoSubscribe bool
	video         rtcbot.VideoSettings
}

func newSession(url, token string, s sessionSettings) (*session, error) {
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.queue <= 0 {
		s.queue = rtcbot.DefaultMessageQueueCapacity
	}
	ss := &session{
		url: url, token: token, topic: s.topic, log: s.log,
		reconnect:     s.reconnect.withDefaults(),
		autoSubscribe: s.autoSubscribe,
		meter:         &linkMeter{},
		events:        rtcbot.NewEvents(),
		values:        rtcbot.NewProducer(func() rtcbot.Subscription[any] { return rtcbot.NewQueue[any](s.queue) }),
		messages:      rtcbot.NewProducer(func() rtcbot.Subscription[Message] { return rtcbot.NewQueue[Message](s.queue) }),
		stop:          make(chan struct{}),
	}
	ss.outgoing = rtcbot.NewConsumer(ss.publish, func() rtcbot.Subscription[any] { return rtcbot.NewQueue[any](s.queue) })
	ss.meter.onKeyframeRequest = func() {
		if ss.onKeyframe != nil {
			ss.onKeyframe()
		}
	}
	ss.meter.onREMB = func(bps int) { ss.setEstimate(&ss.remb, bps) }
	start, least, most := lkbridge.Bitrates(s.video)
	cc, err := congestionInterceptors(start, least, most, func(bps int) { ss.setEstimate(&ss.gcc, bps) })
	if err != nil {
		ss.outgoing.Close()
		return nil, fmt.Errorf("livekit: congestion control: %w", err)
	}
	ss.interceptors = append([]interceptor.Factory{ss.meter}, cc...)
	return ss, nil
}

// setEstimate records one of the uplink's estimates and hands the lower
// known one to the encoder.
func (s *session) setEstimate(which *atomic.Int64, bps int) {
	which.Store(int64(bps))
	if s.onEstimate != nil {
		s.onEstimate(s.estimate())
	}
}

// estimate returns the lower known estimate, 0 if none is known.
func (s *session) estimate() int {
	g, r := s.gcc.Load(), s.remb.Load()
	switch {
	case g == 0:
		return int(r)
	case r == 0:
		return int(g)
	}
	return int(min(g, r))
}

// join joins the room afresh (the first time, and for each rejoin).
func (s *session) join(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.gen++
	gen := s.gen
	s.mu.Unlock()
	current := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.closed && s.gen == gen
	}
	cb := lksdk.NewRoomCallback()
	cb.OnDisconnected = func() {
		if current() {
			s.lost(gen)
		}
	}
	cb.OnReconnecting = func() {
		if current() {
			s.log.Info("livekit: link to the server lost, reconnecting", "url", s.url)
		}
	}
	cb.OnReconnected = func() {
		if current() {
			s.reconnects.Add(1)
			s.log.Info("livekit: reconnected", "url", s.url)
			if s.onReconnect != nil {
				s.onReconnect()
			}
		}
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := data.(*lksdk.UserDataPacket); ok && current() {
			s.deliver(params.SenderIdentity, u.Topic, u.Payload)
		}
	}
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if s.onTrack != nil && current() {
			s.onTrack(track, pub, rp)
		}
	}
	room := lksdk.NewRoom(cb)
	opts := []lksdk.ConnectOption{
		lksdk.WithAutoSubscribe(s.autoSubscribe),
		lksdk.WithInterceptors(s.interceptors),
		lksdk.WithIncludeDefaultInterceptors(true),
		lksdk.WithLogger(sdkLogger(s.log, s.token)),
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts = append(opts, lksdk.WithConnectTimeout(time.Until(deadline)))
	}
	if err := room.JoinWithContextAndToken(ctx, s.url, s.token, opts...); err != nil {
		room.Disconnect()
		return explainJoinError(ctx, s.url, s.token, err)
	}
	s.mu.Lock()
	if s.closed || s.gen != gen {
		s.mu.Unlock()
		room.Disconnect()
		return ErrClosed
	}
	s.room = room
	s.mu.Unlock()
	if s.onJoined != nil {
		if err := s.onJoined(ctx, room); err != nil {
			return err
		}
	}
	s.events.SetReady()
	return nil
}

// currentRoom returns the room joined last, nil while closed.
func (s *session) currentRoom() *lksdk.Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.room
}

// notRejoined are the reasons the server gives for ending a participant's
// session that joining again would not mend, or must not.
var notRejoined = map[livekit.DisconnectReason]bool{
	livekit.DisconnectReason_CLIENT_INITIATED:    true,
	livekit.DisconnectReason_PARTICIPANT_REMOVED: true,
	livekit.DisconnectReason_ROOM_DELETED:        true,
	livekit.DisconnectReason_DUPLICATE_IDENTITY:  true,
}

// lost handles the SDK's giving up on the room of generation gen: it
// rejoins in the background, unless the server meant it.
func (s *session) lost(gen uint64) {
	s.mu.Lock()
	room := s.room
	if s.closed || s.gen != gen || s.rejoining {
		s.mu.Unlock()
		return
	}
	reason := livekit.DisconnectReason_UNKNOWN_REASON
	if room != nil {
		reason = room.DisconnectReason()
	}
	if notRejoined[reason] || s.reconnect.MaxAttempts < 0 {
		s.mu.Unlock()
		s.fail(fmt.Errorf("%w: %s", ErrDisconnected, reason))
		return
	}
	s.rejoining = true
	s.wg.Add(1)
	s.mu.Unlock()
	s.log.Warn("livekit: the SDK could not reconnect; joining the room again", "url", s.url, "reason", reason)
	go s.rejoin(room)
}

// rejoin joins the room afresh, with backoff, up to MaxAttempts times.
func (s *session) rejoin(old *lksdk.Room) {
	defer s.wg.Done()
	if old != nil {
		old.Disconnect()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	delay := s.reconnect.InitialDelay
	var err error
	for attempt := 1; attempt <= s.reconnect.MaxAttempts; attempt++ {
		t := time.NewTimer(delay)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
		s.rejoins.Add(1)
		jctx, jcancel := context.WithTimeout(ctx, s.reconnect.JoinTimeout)
		err = s.join(jctx)
		jcancel()
		if err == nil {
			s.mu.Lock()
			s.rejoining = false
			s.mu.Unlock()
			s.log.Info("livekit: joined the room again", "url", s.url, "attempt", attempt)
			return
		}
		if errors.Is(err, ErrClosed) {
			return
		}
		s.log.Warn("livekit: rejoin failed", "url", s.url, "attempt", attempt, "err", err)
		if errors.Is(err, ErrUnauthorized) {
			break
		}
		delay = min(2*delay, s.reconnect.MaxDelay)
	}
	s.fail(fmt.Errorf("%w: rejoining failed: %w", ErrDisconnected, err))
}

// fail reports err and closes the session, without waiting for its own
// goroutines (fail may run on one).
func (s *session) fail(err error) {
	s.events.SetError(err)
	s.log.Warn("livekit: left the room", "url", s.url, "err", err)
	s.shutdown()
}

// deliver hands a received data packet to the subscribers, decoded as
// RTCBot does.
func (s *session) deliver(from, topic string, payload []byte) {
	if s.topic != "" && topic != s.topic {
		return
	}
	if len(payload) > rtcbot.MaxMessageSize {
		s.dropped.Add(1)
		s.droppedOnce.Do(func() {
			s.log.Warn("livekit: dropped a data packet over rtcbot.MaxMessageSize", "from", from, "bytes", len(payload))
		})
		return
	}
	var v any
	if utf8.Valid(payload) {
		v = lkbridge.DecodeText(payload)
	} else {
		v = bytes.Clone(payload)
	}
	s.received.Add(1)
	s.messages.Publish(Message{From: from, Topic: topic, Value: v})
	s.values.Publish(v)
}

// publish sends one message, on the outgoing consumer's goroutine, so
// that messages leave in the order they were put.
func (s *session) publish(msg any) {
	if err := s.send(msg, s.sendTo); err != nil {
		s.sendFailed.Add(1)
		s.failedOnce.Do(func() { s.log.Warn("livekit: message not sent", "err", err) })
	}
}

// send sends one message reliably to the identities to (all if empty).
func (s *session) send(msg any, to []string) error {
	data, _, err := lkbridge.EncodeMessage(msg)
	if err != nil {
		return err
	}
	room := s.currentRoom()
	if room == nil {
		return ErrClosed
	}
	if p := room.LocalParticipant.Permissions(); p != nil && !p.CanPublishData {
		// The server would drop it without a word.
		return ErrNoDataPermission
	}
	opts := []lksdk.DataPublishOption{lksdk.WithDataPublishReliable(true)}
	if s.topic != "" {
		opts = append(opts, lksdk.WithDataPublishTopic(s.topic))
	}
	if len(to) > 0 {
		opts = append(opts, lksdk.WithDataPublishDestination(to))
	}
	if err := room.LocalParticipant.PublishDataPacket(lksdk.UserData(data), opts...); err != nil {
		return fmt.Errorf("livekit: send: %w", err)
	}
	s.sent.Add(1)
	return nil
}

// stats returns the session's counters.
func (s *session) stats() Stats {
	return Stats{
		BytesSent:        s.meter.bytesSent.Load(),
		PacketsSent:      s.meter.packetsSent.Load(),
		FramesSent:       s.meter.framesSent.Load(),
		KeyframeRequests: s.meter.keyframeRequests.Load(),
		TargetBitrate:    s.estimate(),
		MessagesReceived: s.received.Load(),
		MessagesDropped:  s.dropped.Load(),
		MessagesSent:     s.sent.Load(),
		SendFailures:     s.sendFailed.Load(),
		Reconnects:       s.reconnects.Load(),
		Rejoins:          s.rejoins.Load(),
	}
}

// shutdown leaves the room and ends every subscription; it does not wait
// for the session's goroutines. It reports whether it did anything.
func (s *session) shutdown() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	room := s.room
	close(s.stop)
	s.mu.Unlock()
	s.outgoing.Close()
	if room != nil {
		room.Disconnect()
	}
	if s.onShutdown != nil {
		s.onShutdown()
	}
	s.values.Close()
	s.messages.Close()
	s.events.SetClosed()
	return true
}

// close leaves the room and waits for the session's goroutines.
func (s *session) close() error {
	s.shutdown()
	s.wg.Wait()
	return nil
}
