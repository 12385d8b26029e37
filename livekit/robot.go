package livekit

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"sync"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/lkbridge"
)

// RobotSettings configures a Robot. The zero value is ready to use.
type RobotSettings struct {
	// Video configures the encoding of the published video, as
	// rtcbot.ConnectionSettings.Video does for a connection: codec (VP8
	// by default), bitrates, degradation. A source published with the
	// same settings as an rtcbot.Connection sends it is encoded once for
	// both.
	Video rtcbot.VideoSettings
	// Topic, if set, is the topic of the data packets the robot sends,
	// and the only one whose packets it delivers; default "": packets of
	// every topic are delivered, and sent without one.
	Topic string
	// MessageQueueCapacity bounds each subscription to received messages
	// and the queue of outgoing ones (default
	// rtcbot.DefaultMessageQueueCapacity, 64); a full queue drops its
	// oldest message.
	MessageQueueCapacity int
	// Reconnect bounds getting back into the room after the server was
	// lost.
	Reconnect ReconnectSettings
	// Logger receives the robot's and the LiveKit SDK's diagnostics;
	// default slog.Default().
	Logger *slog.Logger
}

// Robot is a robot in a LiveKit room: it publishes its camera and
// microphone through rtcbot's own send path (each source encoded once, for
// the room and any rtcbot.Connection sending it, its bitrate following
// Google Congestion Control on the server's feedback, a keyframe when the
// server asks for one), and receives the data packets operators send, in
// RTCBot's message shapes, as a Connection's data channel delivers them.
//
// Controls work as on a Connection, watchdog included:
//
//	controls := rtcbot.NewWatchdog[any](250*time.Millisecond, nil)
//	robot.SubscribeWith(controls)
//	controls.OnTimeout(stopMotors)
//
// SubscribeMessages gives each message with its sender's identity; each
// operator's messages arrive in the order it sent them. Put sends
// telemetry to every participant.
//
// When the server is lost, the robot reconnects and republishes (see
// ReconnectSettings); messages stop meanwhile, so a watchdog fires.
type Robot struct {
	s     *session
	video rtcbot.VideoSettings

	mu     sync.Mutex
	tracks []*robotTrack
}

// robotTrack is one published source.
type robotTrack struct {
	sender   lkbridge.Sender
	opts     lksdk.TrackPublicationOptions
	video    bool
	stop     func() // undoes sender.Start
	unreport func()
}

// JoinRobot joins the room of token (made by Token, or any LiveKit join
// token) on the server at url (ws:// or wss://, or LiveKit Cloud's
// project URL). A refused or expired token is an error matching
// ErrUnauthorized. The robot publishes nothing until PublishVideo or
// PublishAudio.
func JoinRobot(ctx context.Context, url, token string, settings RobotSettings) (*Robot, error) {
	s, err := newSession(url, token, sessionSettings{
		topic: settings.Topic, log: settings.Logger, reconnect: settings.Reconnect,
		queue: settings.MessageQueueCapacity, video: settings.Video,
	})
	if err != nil {
		return nil, err
	}
	r := &Robot{s: s, video: settings.Video}
	s.onJoined = r.republish
	s.onEstimate = func(bps int) {
		for _, t := range r.published() {
			if t.video {
				t.sender.SetEstimate(bps)
			}
		}
	}
	s.onKeyframe = func() {
		for _, t := range r.published() {
			if t.video {
				t.sender.RequestKeyframe()
			}
		}
	}
	s.onShutdown = r.release
	if err := s.join(ctx); err != nil {
		s.close()
		return nil, err
	}
	return r, nil
}

// PublishVideo publishes the pictures src yields (a camera, say) as the
// robot's camera track, encoded with RobotSettings.Video.
func (r *Robot) PublishVideo(ctx context.Context, src rtcbot.Getter[image.Image]) error {
	return r.publishVideo(ctx, src)
}

// PublishEncoded publishes frames something else encoded (an H.264
// camera, see rtcbot.EncodedFrame) as the robot's camera track, as they
// are; they must be in RobotSettings.Video's codec.
func (r *Robot) PublishEncoded(ctx context.Context, src rtcbot.Getter[rtcbot.EncodedFrame]) error {
	return r.publishVideo(ctx, src)
}

func (r *Robot) publishVideo(ctx context.Context, src any) error {
	sender, err := lkbridge.NewVideoSender(src, r.video)
	if err != nil {
		return err
	}
	opts := lksdk.TrackPublicationOptions{Name: "camera", Source: livekit.TrackSource_CAMERA}
	if cam, ok := src.(interface{ Settings() rtcbot.CameraSettings }); ok {
		cs := cam.Settings()
		opts.VideoWidth, opts.VideoHeight = cs.Width, cs.Height
	}
	return r.publish(ctx, &robotTrack{sender: sender, opts: opts, video: true})
}

// PublishAudio publishes the audio src yields (a microphone, say) as the
// robot's microphone track, in Opus: 48 kHz chunks of one or two
// channels.
func (r *Robot) PublishAudio(ctx context.Context, src rtcbot.Getter[rtcbot.AudioChunk]) error {
	sender, err := lkbridge.NewAudioSender(src)
	if err != nil {
		return err
	}
	return r.publish(ctx, &robotTrack{sender: sender, opts: lksdk.TrackPublicationOptions{Name: "microphone", Source: livekit.TrackSource_MICROPHONE}})
}

// publish starts t's encoder and publishes it in the current room; it is
// republished after every fresh join.
func (r *Robot) publish(ctx context.Context, t *robotTrack) error {
	t.unreport = t.sender.OnError(func(err error) { r.s.events.SetError(err) })
	t.stop = t.sender.Start()
	if t.video {
		if bps := r.s.estimate(); bps > 0 {
			t.sender.SetEstimate(bps)
		}
	}
	r.mu.Lock()
	room := r.s.currentRoom()
	if room == nil {
		r.mu.Unlock()
		t.release()
		return ErrClosed
	}
	r.tracks = append(r.tracks, t)
	r.mu.Unlock()
	return r.publishIn(ctx, room, t)
}

// publishIn publishes t in room, waiting for the server's answer or ctx.
// The SDK's PublishTrack takes no context: if ctx ends first, the track
// stays the robot's and is published when the SDK is done.
func (r *Robot) publishIn(ctx context.Context, room *lksdk.Room, t *robotTrack) error {
	done := make(chan error, 1)
	opts := t.opts
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		_, err := room.LocalParticipant.PublishTrack(t.sender.Track(), &opts)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("livekit: publish %s: %w", t.opts.Name, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("livekit: publish %s: %w", t.opts.Name, ctx.Err())
	}
}

// republish publishes the robot's tracks in a room joined afresh (the SDK
// republishes them itself when it restarts a session).
func (r *Robot) republish(ctx context.Context, room *lksdk.Room) error {
	for _, t := range r.published() {
		if err := r.publishIn(ctx, room, t); err != nil {
			return err
		}
	}
	return nil
}

func (r *Robot) published() []*robotTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*robotTrack(nil), r.tracks...)
}

// release stops the robot's encoders (once the room is left).
func (r *Robot) release() {
	r.mu.Lock()
	tracks := r.tracks
	r.tracks = nil
	r.mu.Unlock()
	for _, t := range tracks {
		t.release()
	}
}

func (t *robotTrack) release() {
	t.unreport()
	t.stop()
	t.sender.Close()
}

// Identity returns the robot's identity in the room.
func (r *Robot) Identity() string {
	if room := r.s.currentRoom(); room != nil {
		return room.LocalParticipant.Identity()
	}
	return ""
}

// Stats returns what the robot sent and received so far; KeyframesSent
// counts the keyframes its video encoder made.
func (r *Robot) Stats() Stats {
	st := r.s.stats()
	for _, t := range r.published() {
		if t.video {
			st.KeyframesSent += t.sender.Keyframes()
		}
	}
	return st
}

// Put sends msg to every participant without blocking, JSON-encoded as
// RTCBot does ([]byte as it is), as a reliable data packet; messages
// leave in the order they are put. A message that cannot be sent is
// counted (Stats.SendFailures) and logged once.
func (r *Robot) Put(msg any) { r.s.outgoing.Put(msg) }

// PutSubscription sends every message src yields, as Put does, replacing
// the previous input.
func (r *Robot) PutSubscription(src rtcbot.Getter[any]) { r.s.outgoing.PutSubscription(src) }

// Subscribe returns a new queue of the messages received, in RTCBot's
// shapes (see Message.Value).
func (r *Robot) Subscribe() rtcbot.Subscription[any] { return r.s.values.Subscribe() }

// SubscribeWith registers s (an rtcbot.Watchdog, say) to receive every
// message and returns it.
func (r *Robot) SubscribeWith(s rtcbot.Subscription[any]) rtcbot.Subscription[any] {
	return r.s.values.SubscribeWith(s)
}

// SubscribeFunc calls f with every message received, in order, on a
// goroutine of its own.
func (r *Robot) SubscribeFunc(f func(msg any)) *rtcbot.Callback[any] {
	return r.s.values.SubscribeFunc(f)
}

// Unsubscribe removes and closes s; it reports whether s was subscribed.
func (r *Robot) Unsubscribe(s rtcbot.Subscription[any]) bool { return r.s.values.Unsubscribe(s) }

// Get returns the next message through a default subscription.
func (r *Robot) Get(ctx context.Context) (any, error) { return r.s.values.Get(ctx) }

// SubscribeMessages returns a new queue of the messages received with
// their senders.
func (r *Robot) SubscribeMessages() rtcbot.Subscription[Message] { return r.s.messages.Subscribe() }

// SubscribeMessagesWith registers s to receive every message with its
// sender and returns it.
func (r *Robot) SubscribeMessagesWith(s rtcbot.Subscription[Message]) rtcbot.Subscription[Message] {
	return r.s.messages.SubscribeWith(s)
}

// Ready returns a channel closed once the robot has joined the room.
func (r *Robot) Ready() <-chan struct{} { return r.s.events.Ready() }

// Done returns a channel closed once the robot has left the room for
// good: closed, or ErrDisconnected.
func (r *Robot) Done() <-chan struct{} { return r.s.events.Done() }

// Err returns the robot's first error (ErrDisconnected, an encoding
// error), nil if it had none.
func (r *Robot) Err() error { return r.s.events.Err() }

// OnError runs f with the robot's first error, at once if it had one.
func (r *Robot) OnError(f func(error)) { r.s.events.OnError(f) }

// OnClose runs f once the robot has left the room for good.
func (r *Robot) OnClose(f func()) { r.s.events.OnClose(f) }

// Wait blocks until the robot leaves the room for good or ctx ends,
// returning the robot's error or ctx's.
func (r *Robot) Wait(ctx context.Context) error { return r.s.events.Wait(ctx) }

// Close leaves the room, stops the robot's encoders (unless rtcbot
// connections still send the same sources), ends every subscription and
// waits for every goroutine it started. It is idempotent.
func (r *Robot) Close() error { return r.s.close() }
