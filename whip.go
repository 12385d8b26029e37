package rtcbot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WHIP (RFC 9725) and WHEP are the open standards for publishing a stream to
// a media server and watching one from it: the client POSTs its offer as
// application/sdp, with a bearer token; the server answers 201 Created with
// its answer and a Location, the session's address, which the client
// DELETEs to end it. LiveKit, MediaMTX, Janus, OBS and cloud services
// speak them. rtcbot's offers need no trickle ICE (PATCH): they carry every
// candidate.

// whipDeleteTimeout bounds the DELETE that ends a session when its
// connection closes.
const whipDeleteTimeout = 2 * time.Second

// ConnectWHIP publishes conn's outgoing video and audio to the WHIP
// endpoint at endpoint (LiveKit's is http://HOST:7880/whip/v1): it makes
// conn's offer, posts it with token as its bearer token (none if empty)
// through client (nil means http.DefaultClient) and applies the answer.
// It returns once the answer is applied; conn is then ready (Ready,
// OnReady) when media flows, and Close ends the session on the server
// first (a DELETE of its Location, given up to 2 s), then the connection.
//
// It is the robot's side of a media server: the robot sends its stream
// once, with the congestion control and keyframes of any Connection, and
// the server forwards it to every viewer. Set conn up as for a peer
// (conn.Video().PutSubscription(camera.Subscribe())) before calling it. Its
// tracks are offered sendonly; the default data channel is offered too,
// and servers that take none decline it.
//
// An HTTP error from the server is an error wrapping ErrRefused (and
// ErrUnauthorized for a 401 or 403) with the server's reason.
func ConnectWHIP(ctx context.Context, conn *Connection, endpoint, token string, client *http.Client) error {
	return connectMediaSession(ctx, conn, endpoint, token, client)
}

// ConnectWHEP watches the stream of the WHEP endpoint at endpoint into
// conn, as ConnectWHIP publishes: subscribe to conn.Video() (and Audio())
// before calling it, and the pictures arrive there, decoded as from any
// peer. Closing conn ends the session on the server.
func ConnectWHEP(ctx context.Context, conn *Connection, endpoint, token string, client *http.Client) error {
	return connectMediaSession(ctx, conn, endpoint, token, client)
}

// PublishWHIP keeps a robot published at a WHIP endpoint, as KeepConnected
// keeps a desktop connected to a robot: it publishes with ConnectWHIP a new
// Connection from newConn, and when that connection closes or cannot be
// made (the server restarted, the network went away) it publishes again,
// waiting longer after each failure in a row (see ReconnectSettings). The
// sources newConn subscribes stay open across connections, so a camera
// keeps running. It returns when ctx ends, or after s.MaxAttempts failures
// in a row with the last one's error.
func PublishWHIP(ctx context.Context, endpoint, token string, s ReconnectSettings, newConn func() (*Connection, error)) error {
	return keepMediaSession(ctx, endpoint, token, s, newConn)
}

// WatchWHEP keeps watching a WHEP endpoint as PublishWHIP keeps publishing:
// a new Connection from newConn (which subscribes to its video) for each
// session, again when one ends.
func WatchWHEP(ctx context.Context, endpoint, token string, s ReconnectSettings, newConn func() (*Connection, error)) error {
	return keepMediaSession(ctx, endpoint, token, s, newConn)
}

func keepMediaSession(ctx context.Context, endpoint, token string, s ReconnectSettings, newConn func() (*Connection, error)) error {
	connect := func(ctx context.Context, conn *Connection) error {
		return connectMediaSession(ctx, conn, endpoint, token, s.Client)
	}
	return keepConnected(ctx, redactToken(endpoint), s, connect, newConn)
}

// connectMediaSession is the exchange WHIP and WHEP share: they differ only
// in which way the media flows, which conn's set-up decides.
func connectMediaSession(ctx context.Context, conn *Connection, endpoint, token string, client *http.Client) error {
	if client == nil {
		client = http.DefaultClient
	}
	shown := redactToken(endpoint)
	if conn.isDescribed() {
		return ErrConnectionUsed
	}
	conn.mediaSession.Store(true)
	offer, err := conn.GetLocalDescription(ctx, nil)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer.SDP))
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", shown, redactURLError(err, shown))
	}
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", shown, redactURLError(err, shown))
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxOfferSize+1))
	if err != nil {
		return fmt.Errorf("rtcbot: reading answer from %s: %w", shown, err)
	}
	// RFC 9725 answers 201 Created; some servers answer 200 OK.
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return mediaSessionRefusal(shown, resp, reply)
	}
	if len(reply) > MaxOfferSize {
		return fmt.Errorf("%w: the answer from %s is larger than %d bytes", ErrInvalidDescription, shown, MaxOfferSize)
	}
	if !bytes.HasPrefix(reply, []byte("v=0")) {
		return fmt.Errorf("%w: the answer from %s (%s, %s) is not a session description: %s",
			ErrInvalidDescription, shown, resp.Status, resp.Header.Get("Content-Type"), quoteReason(reply))
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		// Relative to the address that answered, after any redirect.
		session, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return fmt.Errorf("rtcbot: %s gave an unusable session address %q: %w", shown, loc, err)
		}
		conn.mu.Lock()
		conn.endSession = func() { deleteMediaSession(client, session, token, conn) }
		conn.mu.Unlock()
	} else {
		conn.log.Warn("rtcbot: the media server gave no session address (Location); it cannot be told when the session ends", "url", shown)
	}
	if err := conn.SetRemoteDescription(SessionDescription{SDP: string(reply), Type: "answer"}); err != nil {
		return fmt.Errorf("rtcbot: the answer from %s: %w", shown, err)
	}
	return nil
}

// mediaSessionRefusal is the error of a WHIP or WHEP server's refusal.
func mediaSessionRefusal(shown string, resp *http.Response, reply []byte) error {
	reason := quoteReason(reply)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %s answered %s: %s (%w)", ErrRefused, shown, resp.Status, reason, ErrUnauthorized)
	case http.StatusBadRequest:
		return fmt.Errorf("%w: %s answered %s: %s (%w)", ErrRefused, shown, resp.Status, reason, ErrInvalidDescription)
	}
	return fmt.Errorf("%w: %s answered %s: %s", ErrRefused, shown, resp.Status, reason)
}

// quoteReason is a server's error body for an error message: trimmed, at
// most 200 bytes, quoted so that control characters show as escapes.
func quoteReason(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 200 {
		body = append(body[:200:200], "..."...)
	}
	return fmt.Sprintf("%q", body)
}

// deleteMediaSession ends a WHIP or WHEP session on its server, for a
// connection that closed.
func deleteMediaSession(client *http.Client, session *url.URL, token string, conn *Connection) {
	ctx, cancel := context.WithTimeout(context.Background(), whipDeleteTimeout)
	defer cancel()
	shown := redactToken(session.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, session.String(), nil)
	if err != nil {
		conn.log.Debug("rtcbot: ending the media session", "url", shown, "err", err)
		return
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		conn.log.Debug("rtcbot: ending the media session", "url", shown, "err", redactURLError(err, shown))
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		conn.log.Debug("rtcbot: ending the media session", "url", shown, "status", resp.Status)
	}
}
