// Package rtcbot streams a robot's camera, audio and sensors over WebRTC and
// sends controls back. It is the Go mirror of RTCBot, the Python library, and
// speaks its wire protocol: a Go robot works with a Python RTCBot desktop or
// RTCBot's browser client, and the other way round.
//
// # The data flow
//
// Everything is a source, RTCBot's producer (a camera, a gamepad, what a
// connection receives), a sink, RTCBot's consumer (a display, a speaker,
// what a connection sends), or both, and a Subscription carries items from
// one to the next:
//
//	robot                                                  desktop
//	camera -> Subscription -> conn.Video()  ~~ WebRTC ~~>  conn.Video() -> Subscription -> display
//	motors <- Subscription <- conn          <~~ WebRTC ~~  conn         <- Subscription <- gamepad
//
// A sink's PutSubscription takes a source (it subscribes for you) or a
// subscription, and reads it in the background; Subscribe makes a
// subscription to read yourself with Get:
//
//	// On the robot:
//	conn.Video().PutSubscription(cam)     // RTCBot: conn.video.putSubscription(cam)
//	controls := conn.Subscribe()          // RTCBot: @conn.subscribe
//	msg, err := controls.Get(ctx)         // waits for the next control message
//
//	// On the desktop:
//	display.PutSubscription(conn.Video()) // RTCBot: display.putSubscription(conn.video)
//	conn.PutSubscription(rtcbot.Map(pad, func(e rtcbot.InputEvent) any { return e }))
//
// # Subscriptions
//
// A subscription has a non-blocking Put, used by its source, and a blocking
// Get, used by its reader. Each Subscribe returns an independent one, so
// every reader sees every item; its kind decides what happens to a reader
// slower than its source:
//
//   - Queue (the default for messages and events) keeps items in order, up to
//     a bound; when full it drops the oldest and counts the drop.
//   - Latest (the default for video) keeps only the newest item, so a slow
//     reader skips frames rather than falling behind.
//   - Event fires once, waking every reader (ready and close events).
//   - SubscribeFunc calls a function with each item on a goroutine of its
//     own; the Callback it returns has no Get: Close unsubscribes it.
//   - GetterFunc calls a function on each Get; Delayed subscribes only on
//     the first Get; Rebatch re-cuts audio chunks to a fixed length; Map
//     turns a source of one type into a source of another.
//
// A second PutSubscription replaces a sink's input without stopping it.
// Producer, Consumer and Events, RTCBot's base classes, make sources and
// sinks of your own: a sensor's goroutine calls Publish, SetReady and
// SetError on its Producer (see the SourceOfYourOwn example and
// examples/threads).
//
// # Connections
//
// A Connection is a WebRTC peer speaking RTCBot's protocol. Signaling is one
// round trip: the desktop makes an offer, the robot answers it. NewHandler
// (or Handler, with default settings) serves RTCBot's POST /connect on the
// robot, asking for a fresh Connection per offer; Connect posts a desktop's
// offer to it, and KeepConnected connects again whenever the robot restarts.
// A robot serving several peers keeps them in a ConnectionSet. A robot
// driven by one desktop at a time takes MaxConnections 1 and
// ReplaceOnReconnect, so a reloaded page or a restarted desktop closes its
// stale connection and takes over:
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
// Messages are JSON on the "default" data channel: conn.Put sends,
// conn.Subscribe receives, DecodeMessage turns a message into a struct.
// AddDataChannel and AddLatestChannel open channels of their own (the peer
// gets them from OnDataChannel); a DataChannel is a source and a sink like
// the connection. conn.Video() and conn.Audio() are MediaStreams: sinks of
// what this side sends (image.Image frames, AudioChunks), sources of what
// the peer sends, decoded. A source sent by many connections is encoded
// once.
//
// Websocket carries the same messages over a websocket, without WebRTC
// (RTCBot's Websocket): DialWebsocket is a client that reconnects,
// AcceptWebsocket and WebsocketHandler serve the other end.
//
// # With and without cgo
//
// Media needs cgo: the codecs and the sound devices are C libraries. With
// CGO_ENABLED=0 the package builds in pure Go and carries data channels,
// subscriptions, the test pattern camera, the headless display and the input
// devices; video and audio tracks fail with ErrCodecNotSupported, and
// NewMicrophone and NewSpeaker with ErrNoAudioDevice.
//
// # Codecs and licences
//
// A program links the C libraries of the packages it imports, and nothing
// else. With cgo, importing rtcbot alone sends and receives VP8 and Opus
// under BSD licences. H.264 is on only in a program that imports
// [github.com/rtcbot-go/rtcbot/codec/h264] for its side effect, which makes
// the program GPL when distributed:
//
//	package     C library (Debian 12 package)          licence
//	rtcbot      libvpx (libvpx7): VP8                  BSD-3-Clause
//	rtcbot      libopus (libopus0): Opus               BSD-3-Clause, BSD-2-Clause
//	rtcbot      miniaudio, compiled in: sound devices  public domain or MIT-0
//	codec/h264  libx264 (libx264-164): H.264 encoding  GPL-2.0-or-later
//	codec/h264  libavcodec (libavcodec59): decoding    GPL-2.0-or-later as Debian builds it
//	cv          OpenCV (libopencv-*406)                Apache-2.0, BSD-3-Clause; on Debian
//	                                                   it links libavcodec59, so GPL too
//
// Without codec/h264, VideoSettings.Codec "H264" fails with
// ErrCodecNotSupported and a connection offers to receive VP8 only. Another
// encoder or decoder (a hardware one, OpenH264) plugs in from outside the
// module through the VideoEncoder and VideoDecoder interfaces, with
// RegisterVideoEncoder and RegisterVideoDecoder.
//
// # Devices
//
// Camera (NewTestPatternCamera here, [github.com/rtcbot-go/rtcbot/cv] for
// OpenCV, [github.com/rtcbot-go/rtcbot/v4l2] for Linux's V4L2),
// HeadlessDisplay (a window in package cv), Gamepad, SimulatedGamepad,
// Keyboard, Mouse, Microphone, Speaker and ToneSource are sources and sinks
// like any other. Each Close releases its device and goroutines; a device
// that fails reports the error and closes its subscriptions.
//
// # On a network
//
// Nothing a peer sends can crash or wedge a Connection: malformed or
// oversized descriptions are refused with ErrInvalidDescription (a 400 from
// the handler), channels a peer should not open are closed, hostile video
// packets are dropped. HandlerSettings takes a token, refuses pages from
// other sites and bounds the connections open at once. A Watchdog tells the
// robot when its controls stop; AddLatestChannel carries commands where only
// the newest matters.
//
// Video is made for lossy links: lost packets are asked for again (NACK), a
// frame is never decoded without the frames it refers to, and the encoder
// follows what each link carries, between VideoSettings' MinBitrate and
// MaxBitrate; below the floor it sends a smaller picture or fewer frames, as
// VideoSettings.Degradation says. Connection.LinkStats shows what a link
// does.
//
// # Ending streams and errors
//
// Unlike RTCBot, every stream has a clear end. Closing a source closes every
// subscription to it: a reader gets the items still held, then ErrClosed.
// Closing a sink stops its goroutine. Every blocking call takes a
// context.Context. Ready, error and close events fire exactly once, and a
// callback added after its event fired runs at once.
//
// No Put or PutSubscription returns an error: what goes wrong fires the
// object's error event (OnError, Err) and is logged. Errors a program may
// test for are sentinels matched with errors.Is (ErrClosed, ErrNegotiated,
// ErrNoAudioDevice, ErrPeerLost, ...).
//
// # Examples
//
// The examples below run on 127.0.0.1 as tests: NewConnection (two
// connections signaled by hand), Handler and NewHandler (a robot's
// /connect), Connect (a desktop), DataChannel (a named channel) and
// MediaStream (video from a camera to a desktop). RTCBot's tutorials are
// programs in the module's examples directory, each run with go run:
//
//   - [github.com/rtcbot-go/rtcbot/examples/basics]: sources, sinks and subscriptions
//   - [github.com/rtcbot-go/rtcbot/examples/threads]: a sensor of your own
//   - [github.com/rtcbot-go/rtcbot/examples/streaming]: video to a browser
//   - [github.com/rtcbot-go/rtcbot/examples/remotecontrol]: a browser watches and drives a robot
//   - [github.com/rtcbot-go/rtcbot/examples/audio]: audio and video with a browser
//   - [github.com/rtcbot-go/rtcbot/examples/multiconnect]: many viewers of one camera
//   - [github.com/rtcbot-go/rtcbot/examples/offload/robot] and
//     [github.com/rtcbot-go/rtcbot/examples/offload/desktop]: offloading,
//     the robot's camera to a desktop and its gamepad back
package rtcbot
