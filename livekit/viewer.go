package livekit

import (
	"context"
	"image"
	"log/slog"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/lkbridge"
)

// ViewerSettings configures a Viewer. The zero value watches every
// participant that publishes.
type ViewerSettings struct {
	// Robot is the identity of the participant whose video and audio the
	// viewer decodes and to whom Put sends; default "": every
	// participant's tracks are decoded into the same streams, and Put
	// sends to all.
	Robot string
	// Topic, if set, is the topic of the data packets the viewer sends,
	// and the only one whose packets it delivers; default "".
	Topic string
	// MessageQueueCapacity bounds each subscription to received messages
	// and the queue of outgoing ones (default
	// rtcbot.DefaultMessageQueueCapacity, 64).
	MessageQueueCapacity int
	// Reconnect bounds getting back into the room after the server was
	// lost.
	Reconnect ReconnectSettings
	// Logger receives the viewer's and the LiveKit SDK's diagnostics;
	// default slog.Default().
	Logger *slog.Logger
}

// Viewer is an operator's desktop in a LiveKit room (the offload
// desktop): it decodes the robot's video and audio through rtcbot's
// receive path (lost packets asked for again, no frame decoded without the
// ones it refers to, keyframes asked for when needed) into latest-only
// picture and queued audio subscriptions, and sends controls to the robot
// as reliable data packets, in RTCBot's message shapes:
//
//	frames := viewer.Video().Subscribe()
//	viewer.Put(map[string]any{"code": "ABS_X", "state": 12000})
//
// Video frames are *image.YCbCr (4:2:0). After the server was lost, the
// viewer reconnects (see ReconnectSettings) and the streams go on with the
// robot's republished tracks.
type Viewer struct {
	s     *session
	robot string
	video *rtcbot.Producer[image.Image]
	audio *rtcbot.Producer[rtcbot.AudioChunk]
}

// JoinViewer joins the room of token on the server at url, and
// subscribes to ViewerSettings.Robot's tracks (every participant's if
// empty). A refused or expired token is an error matching ErrUnauthorized.
func JoinViewer(ctx context.Context, url, token string, settings ViewerSettings) (*Viewer, error) {
	s, err := newSession(url, token, sessionSettings{
		topic: settings.Topic, log: settings.Logger, reconnect: settings.Reconnect,
		queue: settings.MessageQueueCapacity, autoSubscribe: true,
	})
	if err != nil {
		return nil, err
	}
	v := &Viewer{
		s:     s,
		robot: settings.Robot,
		video: rtcbot.NewProducer(func() rtcbot.Subscription[image.Image] { return rtcbot.NewLatest[image.Image]() }),
		audio: rtcbot.NewProducer(func() rtcbot.Subscription[rtcbot.AudioChunk] { return rtcbot.NewQueue[rtcbot.AudioChunk](256) }),
	}
	if settings.Robot != "" {
		s.sendTo = []string{settings.Robot}
	}
	s.onTrack = v.receive
	s.onShutdown = func() {
		v.video.Close()
		v.audio.Close()
	}
	if err := s.join(ctx); err != nil {
		s.close()
		return nil, err
	}
	return v, nil
}

// receive decodes one subscribed track until it ends, on a goroutine Close
// waits for.
func (v *Viewer) receive(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	if v.robot != "" && rp.Identity() != v.robot {
		return // not decoded; the SDK drops what is not read
	}
	v.s.mu.Lock()
	if v.s.closed {
		v.s.mu.Unlock()
		return
	}
	v.s.wg.Add(1)
	v.s.mu.Unlock()
	go func() {
		defer v.s.wg.Done()
		var err error
		switch track.Kind() {
		case webrtc.RTPCodecTypeVideo:
			ssrc := track.SSRC()
			err = lkbridge.ReceiveVideo(track, pub.Receiver(), func(img image.Image) {
				if isBlankFrame(img) {
					return
				}
				v.video.Publish(img)
				v.video.SetReady()
			}, func() { rp.WritePLI(ssrc) })
		case webrtc.RTPCodecTypeAudio:
			err = lkbridge.ReceiveAudio(track, func(c any) {
				v.audio.Publish(c.(rtcbot.AudioChunk))
				v.audio.SetReady()
			})
		}
		if err != nil {
			v.s.log.Warn("livekit: incoming track not decoded", "from", rp.Identity(), "kind", track.Kind(), "codec", track.Codec().MimeType, "err", err)
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
			}
		}
	}()
}

// Video returns the decoded video of the robot: latest-only
// subscriptions of *image.YCbCr frames; Ready is closed at the first
// frame. The blank 8x8 pictures LiveKit sends while the robot's track is
// muted or replaced (a robot that rejoined) are left out.
func (v *Viewer) Video() rtcbot.Source[image.Image] { return v.video }

// VideoReady returns a channel closed once the first frame was decoded.
func (v *Viewer) VideoReady() <-chan struct{} { return v.video.Ready() }

// Audio returns the decoded audio of the robot: queued 48 kHz chunks.
func (v *Viewer) Audio() rtcbot.Source[rtcbot.AudioChunk] { return v.audio }

// Identity returns the viewer's identity in the room.
func (v *Viewer) Identity() string {
	if room := v.s.currentRoom(); room != nil {
		return room.LocalParticipant.Identity()
	}
	return ""
}

// Stats returns what the viewer sent and received so far.
func (v *Viewer) Stats() Stats { return v.s.stats() }

// Put sends msg (a control) without blocking, JSON-encoded as RTCBot does,
// as a reliable data packet to ViewerSettings.Robot (to everyone if
// unset); messages leave in the order they are put. A message that cannot
// be sent is counted (Stats.SendFailures) and logged once.
func (v *Viewer) Put(msg any) { v.s.outgoing.Put(msg) }

// PutSubscription sends every message src yields (a gamepad's events,
// say), as Put does, replacing the previous input.
func (v *Viewer) PutSubscription(src rtcbot.Getter[any]) { v.s.outgoing.PutSubscription(src) }

// Subscribe returns a new queue of the messages received (the robot's
// telemetry), in RTCBot's shapes.
func (v *Viewer) Subscribe() rtcbot.Subscription[any] { return v.s.values.Subscribe() }

// SubscribeWith registers s to receive every message and returns it.
func (v *Viewer) SubscribeWith(s rtcbot.Subscription[any]) rtcbot.Subscription[any] {
	return v.s.values.SubscribeWith(s)
}

// SubscribeMessages returns a new queue of the messages received with
// their senders.
func (v *Viewer) SubscribeMessages() rtcbot.Subscription[Message] { return v.s.messages.Subscribe() }

// Ready returns a channel closed once the viewer has joined the room.
func (v *Viewer) Ready() <-chan struct{} { return v.s.events.Ready() }

// Done returns a channel closed once the viewer has left the room for
// good.
func (v *Viewer) Done() <-chan struct{} { return v.s.events.Done() }

// Err returns the viewer's first error, nil if it had none.
func (v *Viewer) Err() error { return v.s.events.Err() }

// OnError runs f with the viewer's first error, at once if it had one.
func (v *Viewer) OnError(f func(error)) { v.s.events.OnError(f) }

// OnClose runs f once the viewer has left the room for good.
func (v *Viewer) OnClose(f func()) { v.s.events.OnClose(f) }

// Wait blocks until the viewer leaves the room for good or ctx ends,
// returning the viewer's error or ctx's.
func (v *Viewer) Wait(ctx context.Context) error { return v.s.events.Wait(ctx) }

// SubscribeFunc calls f with every message received, in order, on a
// goroutine of its own.
func (v *Viewer) SubscribeFunc(f func(msg any)) *rtcbot.Callback[any] {
	return v.s.values.SubscribeFunc(f)
}

// Close leaves the room, ends every subscription and waits for every
// goroutine it started. It is idempotent.
func (v *Viewer) Close() error { return v.s.close() }

// isBlankFrame reports whether img is one of the blank pictures LiveKit's
// server sends a subscriber while a track is muted, switched or ending (an
// 8x8 VP8 keyframe, VP8KeyFrame8x8 in its sfu package), which are no
// picture of the robot's camera and are not delivered.
func isBlankFrame(img image.Image) bool {
	return img.Bounds().Dx() == 8 && img.Bounds().Dy() == 8
}
