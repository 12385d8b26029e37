package livekit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rtcbot-go/rtcbot"
)

var (
	// ErrUnauthorized is rtcbot's own: the server refused the join token
	// (a wrong signature or API key, a token for another room, no
	// permission to join), or it expired. Join and a rejoin return it
	// wrapped with the server's reason; it is not retried.
	ErrUnauthorized = rtcbot.ErrUnauthorized

	// ErrTokenExpired is wrapped, with ErrUnauthorized, by the error of a
	// join the server refused whose token has expired by this machine's
	// clock.
	ErrTokenExpired = errors.New("livekit: the join token has expired")

	// ErrDisconnected is the error of a Robot or Viewer that lost the room
	// and could not rejoin within ReconnectSettings.MaxAttempts, or that
	// the server removed (the room was deleted, the participant removed,
	// another joined with its identity): it closes, reporting it through
	// Err and OnError.
	ErrDisconnected = errors.New("livekit: disconnected from the room")

	// ErrNoDataPermission is the error of a message a Robot or Viewer
	// could not send because its token does not allow data packets
	// (Grant.NoData), which the server would drop: it is counted in
	// Stats.SendFailures and logged once.
	ErrNoDataPermission = errors.New("livekit: the join token does not allow sending data")

	// ErrClosed is rtcbot's: the methods of a closed Robot or Viewer
	// return it.
	ErrClosed = rtcbot.ErrClosed
)

// explainJoinError turns the SDK's error of a failed join into one that
// says why: the SDK reports a refused websocket handshake as "bad
// handshake", so the server's validation endpoint is asked what was wrong
// with the token. A refused token is an error matching ErrUnauthorized
// (and ErrTokenExpired if it has expired); anything else is returned
// wrapped as it is.
func explainJoinError(ctx context.Context, serverURL, token string, joinErr error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("livekit: join: %w (%w)", ctx.Err(), joinErr)
	}
	reason, refused := validateToken(ctx, serverURL, token)
	if !refused {
		return fmt.Errorf("livekit: join %s: %w", serverURL, joinErr)
	}
	if tokenExpired(token) {
		return fmt.Errorf("%w: %w: %s", ErrUnauthorized, ErrTokenExpired, reason)
	}
	return fmt.Errorf("%w: the server refused the token: %s", ErrUnauthorized, reason)
}

// validateToken asks the server's /rtc/validate endpoint about token; it
// reports whether the server refused it (401 or 403), and its reason.
func validateToken(ctx context.Context, serverURL, token string) (reason string, refused bool) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/rtc/validate"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return "", false
	}
	// The server quotes the token back: keep credentials out of errors
	// and logs.
	reason = strings.TrimSpace(strings.ReplaceAll(string(body), token, "<token>"))
	if reason == "" {
		reason = resp.Status
	}
	return reason, true
}

// tokenExpired reports whether token's expiry, read without checking its
// signature, has passed by this machine's clock.
func tokenExpired(token string) bool {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil || claims.ExpiresAt == nil {
		return false
	}
	return claims.ExpiresAt.Before(time.Now())
}
