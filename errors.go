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
)
