// Package lkbridge lets package rtcbot/livekit use rtcbot's own send and
// receive paths (one encoder per source, congestion control, keyframes on
// request, reassembly and decoding) without rtcbot exporting them: rtcbot
// sets these variables in an init function (livekitbridge.go), and package
// livekit, which imports rtcbot, calls them. Nothing here depends on
// LiveKit, and the root package does not depend on LiveKit either.
//
// rtcbot's types cannot be named here (rtcbot imports this package), so
// sources, settings and items travel as any; package livekit wraps each
// function with its real types.
package lkbridge

import (
	"image"

	"github.com/pion/webrtc/v4"
)

// Sender is one outgoing track of rtcbot's send path: a shared, encoded
// track of a source, whose samples go to every peer connection the track
// is added to.
type Sender interface {
	// Track is the pion track to add to a peer connection.
	Track() webrtc.TrackLocal
	// Start counts a connected peer: the track encodes while one is, and
	// starts with a keyframe. The returned function undoes it (idempotent).
	Start() (stop func())
	// RequestKeyframe asks the encoder for a keyframe (a peer sent PLI or
	// FIR); requests are spaced as for rtcbot's own connections.
	RequestKeyframe()
	// SetEstimate gives what congestion control estimates the link
	// carries, in bits per second (0: unknown); the encoder follows it
	// within the track's VideoSettings.
	SetEstimate(bps int)
	// Keyframes counts the keyframes encoded.
	Keyframes() uint64
	// OnError sends the track's encoding errors to f until stop is called.
	OnError(f func(error)) (stop func())
	// Close releases the track (the last holder stops its encoder).
	Close()
}

// Hooks is what rtcbot provides. Each field is set by rtcbot's init.
var (
	// NewVideoSender returns the sender of src, an
	// rtcbot.Getter[image.Image] or rtcbot.Getter[rtcbot.EncodedFrame],
	// encoded with settings, an rtcbot.VideoSettings: the same track that
	// rtcbot's Connections sending src with those settings use.
	NewVideoSender func(src any, settings any) (Sender, error)
	// NewAudioSender returns the Opus sender of src, an
	// rtcbot.Getter[rtcbot.AudioChunk].
	NewAudioSender func(src any) (Sender, error)
	// Bitrates returns the start, least and most bitrate congestion
	// control uses for settings, an rtcbot.VideoSettings.
	Bitrates func(settings any) (start, least, most int)
	// ReceiveVideo reads an incoming video track until it ends, through
	// rtcbot's reorder buffer, reassembly and decoder, calling emit with
	// each picture and requestKeyframe when the stream needs a keyframe.
	// It returns at once with an error matching rtcbot.ErrCodecNotSupported
	// for a codec without a decoder.
	ReceiveVideo func(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, emit func(image.Image), requestKeyframe func()) error
	// ReceiveAudio reads an incoming Opus track until it ends, calling emit
	// with each rtcbot.AudioChunk.
	ReceiveAudio func(track *webrtc.TrackRemote, emit func(any)) error
	// DecodeText decodes a text message as rtcbot's data channels do: a
	// JSON value, else the string.
	DecodeText func(text []byte) any
	// EncodeMessage encodes an outgoing message as rtcbot's data channels
	// do: JSON text, or []byte as it is, at most rtcbot.MaxMessageSize.
	EncodeMessage func(msg any) (data []byte, binary bool, err error)
)
