package rtcbot

import "errors"

var (
	// ErrClosed is returned by Get once a subscription (or the producer
	// behind it) has closed and every item it still held has been read, and
	// by the methods of a closed object.
	ErrClosed = errors.New("rtcbot: closed")

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
