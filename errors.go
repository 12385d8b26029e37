package rtcbot

import "errors"

var (
	// ErrClosed is returned by Get once a subscription (or the producer
	// behind it) has closed and every item it still held has been read, and
	// by the methods of a closed object.
	ErrClosed = errors.New("rtcbot: closed")

	// ErrCodecNotSupported is wrapped by the errors of media this build
	// cannot encode or decode: a VideoSettings.Codec other than "VP8" and
	// "H264", H.264 without an H.264 encoder registered (import package
	// github.com/rtcbot-go/rtcbot/codec/h264, or see RegisterVideoEncoder),
	// any media in a build without cgo, and an incoming track in a codec
	// without a decoder (logged, as the track is then not decoded).
	ErrCodecNotSupported = errors.New("rtcbot: codec not supported")

	// ErrConnectionUsed is returned when a Connection's description is asked
	// for a second time: a connection serves one peer, once. Handler answers
	// it with 409 Conflict and leaves the connection as it is.
	ErrConnectionUsed = errors.New("rtcbot: the connection is in use: its description was already made (a connection serves one peer, once)")

	// ErrInvalidDescription wraps every reason a peer's session description
	// is refused: not an offer or answer, malformed SDP, or over the limits
	// of MaxMediaSections and MaxCandidates. Handler answers it with 400.
	ErrInvalidDescription = errors.New("rtcbot: invalid session description")

	// ErrUnauthorized is the error of a request to Handler without the
	// bearer token HandlerSettings.Token asks for.
	ErrUnauthorized = errors.New("rtcbot: missing or wrong token")

	// ErrNegotiated is the error of a change that needs a new negotiation
	// on a connection whose description was made already: a connection is
	// never renegotiated, so every track exists before the description.
	// AddTrack returns it, and a stream's error event reports a first
	// PutSubscription or Put that comes too late.
	ErrNegotiated = errors.New("rtcbot: the session is already negotiated: add tracks before making the description")

	// ErrChannelExists is returned by AddDataChannel and AddLatestChannel
	// for a label in use: the "default" channel's, or another open
	// channel's.
	ErrChannelExists = errors.New("rtcbot: a data channel with this label exists already")

	// ErrPeerLost is the error of a connection whose peer stopped
	// answering (ICE failed, or nothing heard for PeerLossTimeout): the
	// connection reports it through Err and OnError, and closes. A
	// Websocket whose peer does not answer a ping in
	// WebsocketSettings.PingTimeout cuts the connection: a server-side one
	// (or a client with NoReconnect) then closes with this error, a client
	// reconnects.
	ErrPeerLost = errors.New("rtcbot: connection to the peer failed or was lost")

	// ErrNoAudioDevice is wrapped by the error NewMicrophone and NewSpeaker
	// return when there is no usable sound device: the machine has no sound
	// card (or sound server), the named device does not exist, it could not
	// be opened in time, or the program was built without cgo. Check it
	// with errors.Is to fall back to something else, such as a ToneSource.
	ErrNoAudioDevice = errors.New("rtcbot: no audio device")

	// ErrFrameTooSmall is wrapped by the error of a test pattern camera
	// asked for frames smaller than 32x30 pixels (timecode.MinWidth x
	// timecode.MinHeight), too small to carry a timecode stamp: the camera
	// reports it through Err and OnError and is closed when
	// NewTestPatternCamera returns.
	ErrFrameTooSmall = errors.New("rtcbot: frame size too small")

	// ErrNoFrame is wrapped by the error of HeadlessDisplay.Snapshot before
	// the display has received a frame.
	ErrNoFrame = errors.New("rtcbot: no frame received yet")

	// ErrRefused is wrapped by the error of Connect, ConnectWHIP and
	// ConnectWHEP when the robot or media server answers the offer with an
	// HTTP error; for a 401 (and, from a WHIP or WHEP server, a 403) the
	// error matches ErrUnauthorized too, for a 409 ErrConnectionUsed, for a
	// 400 ErrInvalidDescription.
	ErrRefused = errors.New("rtcbot: the peer refused the connection")

	// ErrInvalidSettings is wrapped by the errors of constructors given
	// settings out of range (a negative buffer, an unsupported sample rate,
	// a tone above the Nyquist frequency, ...).
	ErrInvalidSettings = errors.New("rtcbot: invalid settings")

	// ErrMessageTooLarge is wrapped by the error of a message that encodes
	// to more than MaxMessageSize bytes: it is not sent. A Websocket
	// reports it too for a message over MaxMessageSize from its peer,
	// which closes the connection.
	ErrMessageTooLarge = errors.New("rtcbot: message too large")

	// ErrAudioFormat is wrapped by the errors of audio that cannot be
	// played or sent as it is: chunks at another sample rate, with a
	// channel count the codec or device does not take, or with a sample
	// count that is not whole frames.
	ErrAudioFormat = errors.New("rtcbot: audio format not supported")

	// ErrNoDisplay is wrapped by CheckDisplay's error, and by cv.Display's,
	// when there is no display to show pictures on.
	ErrNoDisplay = errors.New("rtcbot: no display")

	// ErrEncodedFrame is wrapped by the errors of encoded video that cannot
	// be sent or split as it is: an EncodedFrame that is not in the
	// connection's codec's form, and an H.264 byte stream (NewH264Stream)
	// with invalid NAL units or an access unit over MaxAccessUnitSize. The
	// frame, or the bytes up to the next start code, are dropped; the next
	// keyframe recovers.
	ErrEncodedFrame = errors.New("rtcbot: malformed encoded video")

	// ErrInvalidRecord is wrapped by the errors of a record that does not
	// fit its RecordFormat: a missing key, a value of the wrong type or out
	// of its field's range (300 for a B), a tuple of the wrong length, or
	// data of the wrong size to decode. A SerialConnection sends nothing for
	// such a record and reports the error through its error event.
	ErrInvalidRecord = errors.New("rtcbot: invalid record")
)
