// Package rtcbot streams a robot's camera, audio and sensors over WebRTC and
// sends controls back. It is the Go mirror of RTCBot, the Python library,
// and speaks its wire protocol: a Go robot works with a Python RTCBot desktop
// or RTCBot's browser client, and the other way round.
//
// # Producers, consumers and subscriptions
//
// Everything in rtcbot is a producer (a camera, a gamepad, an incoming
// connection), a consumer (a display, a speaker, an outgoing connection), or
// both. They are wired together with subscriptions: a subscription has a
// non-blocking Put, used by the producer, and a blocking Get, used by the
// consumer.
//
//	cam := ...                      // a producer of frames
//	frames := cam.Subscribe()       // a new subscription: sees every frame
//	frame, err := frames.Get(ctx)   // waits for the next frame
//
// Each call to Subscribe returns an independent subscription, so any number
// of readers see every item. The kind of subscription decides what happens
// when a reader is slower than its producer:
//
//   - Queue (the default for messages and events) keeps items in order, up to
//     a bound; when full it drops the oldest and counts the drop.
//   - Latest (the default for video) keeps only the newest item, so a slow
//     reader skips frames rather than falling behind.
//   - Event fires once, waking every reader (ready and close events).
//   - SubscribeFunc calls a function with each item, on a goroutine of its
//     own; the Callback it returns is not a subscription (there is nothing
//     to Get): Close unsubscribes it.
//   - GetterFunc calls a function on each Get; Delayed subscribes only on
//     the first Get; Rebatch re-cuts audio chunks to a fixed length.
//
// A consumer reads a subscription in the background once handed one with
// PutSubscription, and a second PutSubscription replaces the first without
// stopping the consumer. Handing it a producer directly subscribes for you:
//
//	display.PutSubscription(cam)    // RTCBot: display.putSubscription(cam)
//
// Map adapts a producer of one type into a source of another, for example
// gamepad events into connection messages.
//
// Producer, Consumer and Events are the building blocks of sources and sinks
// of your own, RTCBot's base classes: a sensor's goroutine calls Publish,
// SetReady and SetError on its Producer, a Consumer's handler may call
// SetReady and SetError, and Close ends either (see examples/threads).
// rtcbot's devices hold theirs in unexported fields, so a camera or a
// speaker shows only the verbs its users call.
//
// # Connections
//
// A Connection is a WebRTC peer speaking RTCBot's protocol: signaling is one
// round trip (Handler serves RTCBot's POST /connect, Connect posts an offer to
// one), messages are JSON on the "default" data channel (conn.Put sends,
// conn.Subscribe receives), and conn.Video() and conn.Audio() carry frames
// (image.Image, VP8 or H.264; see Codecs and licences) and AudioChunks
// (Opus). A source sent by many
// connections is encoded once. A robot driven by one desktop at a time
// takes MaxConnections 1 and ReplaceOnReconnect, so a reloaded page or a
// restarted desktop closes its stale connection and takes over:
//
//	settings := rtcbot.HandlerSettings{Token: token, MaxConnections: 1, ReplaceOnReconnect: true}
//	http.Handle("/connect", rtcbot.NewHandler(settings,
//		func(*http.Request) (*rtcbot.Connection, error) {
//			conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{})
//			if err != nil {
//				return nil, err
//			}
//			conn.Video().PutSubscription(cam)
//			conn.SubscribeFunc(func(msg any) { fmt.Println("Control message:", msg) })
//			return conn, nil
//		}))
//
// # Codecs and licences
//
// In a cgo build the package sends and receives VP8 (libvpx) and Opus
// (libopus), both under BSD licences, and links no other codec. H.264 is
// turned on by importing package github.com/rtcbot-go/rtcbot/codec/h264,
// which registers x264 and FFmpeg's libavcodec, both GPL-2.0+ as Debian
// builds them: a program that imports it is under the GPL when
// distributed. Without it, VideoSettings.Codec "H264" fails with
// ErrCodecNotSupported and connections offer to receive VP8 only. Another
// encoder or decoder (a hardware one, OpenH264) plugs in through the
// VideoEncoder and VideoDecoder interfaces with RegisterVideoEncoder and
// RegisterVideoDecoder. Without cgo the package carries data channels
// only: media fails with ErrCodecNotSupported.
//
// # On a network
//
// Nothing a peer sends can crash or wedge a Connection: malformed or
// oversized descriptions are refused with ErrInvalidDescription (a 400 from
// the handler), channels a peer should not open are closed, hostile video
// packets are dropped. HandlerSettings requires a token, refuses pages from
// other sites and bounds the connections open at once. A Watchdog tells the
// robot when its controls stop, AddLatestChannel carries commands where only
// the newest matters, and KeepConnected reconnects a desktop after the
// robot restarts.
//
// Video is made for lossy links: missing packets are asked for again
// (NACK) and waited for briefly, a frame is never decoded without the
// frames it refers to, and the encoder follows what each link carries
// (congestion control on transport-wide feedback, or the peer's REMB),
// between VideoSettings' MinBitrate, StartBitrate and MaxBitrate; below the
// floor it sends a smaller picture or fewer frames, as
// VideoSettings.Degradation says. Connection.LinkStats shows what a link
// does.
//
// # Devices
//
// Camera (NewTestPatternCamera here; OpenCV in package cv, V4L2 in package
// v4l2), HeadlessDisplay (a window in package cv), Gamepad, Keyboard, Mouse,
// SimulatedGamepad, Microphone, Speaker and ToneSource are producers and
// consumers like any other. Each Close releases its device and goroutines,
// and a device that fails reports the error and closes its subscriptions.
// NewMicrophone and NewSpeaker take a context, which bounds the wait for the
// sound system.
//
// # Ending streams
//
// Unlike RTCBot, every stream has a clear end. Closing a producer closes
// every subscription to it; a reader gets the items still held, then
// ErrClosed. Every blocking call takes a context.Context. Closing a consumer
// stops its goroutine. Ready, error and close events (Events) fire exactly
// once, and a callback added after its event fired runs at once.
//
// # Errors
//
// No Put or PutSubscription returns an error, on any type: what goes wrong
// fires the object's error event (OnError, Err) and is logged. Errors a
// program may test for are sentinels matched with errors.Is (ErrClosed,
// ErrNegotiated, ErrNoAudioDevice, ErrPeerLost, ...).
package rtcbot
