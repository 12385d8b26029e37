package livekit

import (
	"errors"
	"fmt"
	"time"

	"github.com/livekit/protocol/auth"
)

// DefaultTokenValidity is how long a token made by Token is valid when
// Grant.ValidFor is zero: six hours, a working day's session at a robot.
// LiveKit checks a token when a participant joins (and rejoins after the
// server was lost), not while it stays in the room.
const DefaultTokenValidity = 6 * time.Hour

// Grant says who a join token is for and what it allows.
type Grant struct {
	// Room is the room the token joins; required.
	Room string
	// Identity is the participant's identity in the room, unique in it:
	// operators' controls are told apart by it. Required.
	Identity string
	// Name is the participant's display name; default Identity.
	Name string
	// ValidFor is how long the token is valid from now; default
	// DefaultTokenValidity.
	ValidFor time.Duration
	// NoPublish, NoSubscribe and NoData take away the permissions a robot
	// and an operator need, each given by default: to publish media, to
	// subscribe to others' media, and to send data packets (controls,
	// telemetry). A viewer that only watches has NoPublish and NoData.
	NoPublish, NoSubscribe, NoData bool
}

// ErrInvalidGrant is wrapped by Token's error for a grant without a room or
// identity, or with a negative validity.
var ErrInvalidGrant = errors.New("livekit: invalid grant")

// Token returns a join token (a JWT signed with apiSecret) for g, from an
// API key and secret of the LiveKit server (its keys: setting; LiveKit
// Cloud's project keys). Tokens are made on a trusted machine (the
// operator's desktop, a server) and handed to robots and viewers; the
// secret never needs to be on a robot.
func Token(apiKey, apiSecret string, g Grant) (string, error) {
	switch {
	case apiKey == "" || apiSecret == "":
		return "", fmt.Errorf("%w: an API key and secret are needed", ErrInvalidGrant)
	case g.Room == "":
		return "", fmt.Errorf("%w: no room", ErrInvalidGrant)
	case g.Identity == "":
		return "", fmt.Errorf("%w: no identity", ErrInvalidGrant)
	case g.ValidFor < 0:
		return "", fmt.Errorf("%w: validity %v is negative", ErrInvalidGrant, g.ValidFor)
	}
	validFor := g.ValidFor
	if validFor == 0 {
		validFor = DefaultTokenValidity
	}
	name := g.Name
	if name == "" {
		name = g.Identity
	}
	publish, subscribe, data := !g.NoPublish, !g.NoSubscribe, !g.NoData
	at := auth.NewAccessToken(apiKey, apiSecret)
	at.SetVideoGrant(&auth.VideoGrant{
		RoomJoin:       true,
		Room:           g.Room,
		CanPublish:     &publish,
		CanSubscribe:   &subscribe,
		CanPublishData: &data,
	}).SetIdentity(g.Identity).SetName(name).SetValidFor(validFor)
	token, err := at.ToJWT()
	if err != nil {
		return "", fmt.Errorf("livekit: sign token: %w", err)
	}
	return token, nil
}
