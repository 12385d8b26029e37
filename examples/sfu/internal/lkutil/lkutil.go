// Package lkutil holds what the sfu robot and desktop share: the flags
// that say where the LiveKit server is and how to get a join token, and
// logging that keeps the LiveKit SDK's chatter out of an example's output.
// It is internal, as examples/internal/exampleutil is: copy it with the
// examples.
package lkutil

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/rtcbot-go/rtcbot/livekit"
)

// DefaultURL is the development server of examples/sfu/livekit-dev.yaml.
const DefaultURL = "ws://127.0.0.1:7880"

// Flags are the command-line flags that say where the server is and how
// the participant gets its join token.
type Flags struct {
	URL, Room, Identity      string
	Token, APIKey, APISecret string
}

// Register registers -url, -room, -identity (default identity), -token,
// -api-key and -api-secret, whose defaults come from LiveKit's usual
// environment variables.
func (f *Flags) Register(identity, identityUsage string) {
	url := os.Getenv("LIVEKIT_URL")
	if url == "" {
		url = DefaultURL
	}
	flag.StringVar(&f.URL, "url", url, "the LiveKit server's address, ws://HOST:7880 or wss://HOST (default $LIVEKIT_URL, else "+DefaultURL+")")
	flag.StringVar(&f.Room, "room", "lab", "the room to join, when the token is made here")
	flag.StringVar(&f.Identity, "identity", identity, identityUsage)
	flag.StringVar(&f.Token, "token", os.Getenv("LIVEKIT_TOKEN"), "join token, made where the API secret is kept (default $LIVEKIT_TOKEN)")
	flag.StringVar(&f.APIKey, "api-key", os.Getenv("LIVEKIT_API_KEY"), "without -token: the server's API key, to make a token here (default $LIVEKIT_API_KEY)")
	flag.StringVar(&f.APISecret, "api-secret", os.Getenv("LIVEKIT_API_SECRET"), "without -token: the server's API secret (default $LIVEKIT_API_SECRET)")
}

// JoinToken returns -token, or a token made from -api-key and -api-secret for
// -identity in -room with the permissions of g (whose Room and Identity
// it sets).
func (f *Flags) JoinToken(g livekit.Grant) (string, error) {
	if f.Token != "" {
		return f.Token, nil
	}
	if f.APIKey == "" || f.APISecret == "" {
		return "", errors.New("no join token: give -token (or $LIVEKIT_TOKEN), or -api-key and -api-secret (or $LIVEKIT_API_KEY and $LIVEKIT_API_SECRET) to make one; see examples/sfu/README.md")
	}
	g.Room, g.Identity = f.Room, f.Identity
	return livekit.Token(f.APIKey, f.APISecret, g)
}

// MayPublishData reports whether token allows sending data packets
// (controls, status), reading its claims without checking its signature
// (the server checks that): the server drops, without a word to the
// sender, the packets of a participant that may not. A token it cannot
// read is taken to allow it, and left to the server to judge.
func MayPublishData(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return true
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return true
	}
	var claims struct {
		Video struct {
			CanPublishData *bool `json:"canPublishData"`
		} `json:"video"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Video.CanPublishData == nil {
		return true // LiveKit's default
	}
	return *claims.Video.CanPublishData
}

// JoinError says what to do about a join to url that failed with err.
func JoinError(url string, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, livekit.ErrTokenExpired):
		return fmt.Errorf("joining %s: the token has expired, make a new one: %w", url, err)
	case errors.Is(err, livekit.ErrUnauthorized):
		return fmt.Errorf("joining %s: the server refused the token (made with another server's key or secret, or for another room?): %w", url, err)
	}
	return fmt.Errorf("joining %s (is a LiveKit server running there? see examples/sfu/README.md): %w", url, err)
}

// Logger returns the logger for livekit.RobotSettings.Logger and
// ViewerSettings.Logger: package livekit's own messages (a lost server,
// a rejoin, a message not sent) to the standard logger, and none of the
// SDK's, which package livekit logs there one level down: the errors that
// matter it reports itself, and the SDK's would repeat them while it
// retries.
func Logger() *slog.Logger {
	return slog.New(ownOnly{slog.Default().Handler()})
}

// ownOnly passes on the records of package livekit itself, whose messages
// start with "livekit: ".
type ownOnly struct{ h slog.Handler }

func (o ownOnly) Enabled(ctx context.Context, l slog.Level) bool { return o.h.Enabled(ctx, l) }

func (o ownOnly) Handle(ctx context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "livekit: ") {
		return nil
	}
	return o.h.Handle(ctx, r)
}

func (o ownOnly) WithAttrs(a []slog.Attr) slog.Handler { return ownOnly{o.h.WithAttrs(a)} }

func (o ownOnly) WithGroup(name string) slog.Handler { return ownOnly{o.h.WithGroup(name)} }
