package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// ReconnectSettings configures KeepConnected. The zero value retries for
// ever, waiting from 250 ms up to 5 s between attempts.
type ReconnectSettings struct {
	// Client posts the offers; nil means http.DefaultClient.
	Client *http.Client
	// MinDelay is the wait after the first failure (default 250 ms); each
	// failure in a row doubles it, up to MaxDelay (default 5 s), with up to
	// a fifth more at random so that many desktops do not retry in step.
	MinDelay, MaxDelay time.Duration
	// MaxAttempts bounds the attempts in a row that fail to connect before
	// KeepConnected gives up; 0 means it tries until its context ends. A
	// connection that became ready starts the count again.
	MaxAttempts int
	// Logger receives a line for each attempt that fails and each
	// connection that ends; default slog.Default().
	Logger *slog.Logger
}

// KeepConnected is the desktop side of a link that must survive restarts:
// it connects to the robot's /connect at url (as Connect does) and, each
// time the connection closes or cannot be made, connects again with a new
// Connection, waiting longer after each failure in a row (see
// ReconnectSettings). A robot that restarts is found again once it is back.
//
// newConn makes each connection and sets it up before its offer:
// subscribe to its video, put a gamepad on it. Sources such as a gamepad
// stay open across connections; what newConn subscribes is closed with each
// connection.
//
// KeepConnected returns when ctx ends (with ctx's error, after stopping what
// feeds the current connection's default channel and closing it once the
// peer has acknowledged what it sent, waiting up to a second), or after MaxAttempts failures in a
// row (with the last one's error).
func KeepConnected(ctx context.Context, url string, s ReconnectSettings, newConn func() (*Connection, error)) error {
	connect := func(ctx context.Context, conn *Connection) error { return Connect(ctx, conn, url, s.Client) }
	return keepConnected(ctx, redactToken(url), s, connect, newConn)
}

// keepConnected is KeepConnected with the signaling of each connection
// done by connect; shown is the peer's address for logs and errors.
func keepConnected(ctx context.Context, shown string, s ReconnectSettings, connect func(context.Context, *Connection) error, newConn func() (*Connection, error)) error {
	if s.MinDelay <= 0 {
		s.MinDelay = 250 * time.Millisecond
	}
	if s.MaxDelay < s.MinDelay {
		s.MaxDelay = max(5*time.Second, s.MinDelay)
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	failures := 0
	for {
		ready, err := connectOnce(ctx, connect, newConn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if ready {
			failures = 0
		}
		if err == nil {
			continue // the connection was up and closed cleanly: connect again at once
		}
		if ready {
			s.Logger.Info("rtcbot: connection lost; reconnecting", "url", shown, "err", err)
			continue
		}
		failures++
		if s.MaxAttempts > 0 && failures >= s.MaxAttempts {
			return fmt.Errorf("rtcbot: gave up after %d attempts to connect to %s: %w", failures, shown, err)
		}
		delay := backoffDelay(s.MinDelay, s.MaxDelay, failures)
		s.Logger.Info("rtcbot: cannot connect; retrying", "url", shown, "attempt", failures, "in", delay.Round(time.Millisecond), "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// connectOnce makes one connection and holds it until it closes or ctx ends.
// It reports whether the connection became ready, and the reason it ended
// (nil for a clean close by either side).
func connectOnce(ctx context.Context, connect func(context.Context, *Connection) error, newConn func() (*Connection, error)) (ready bool, err error) {
	conn, err := newConn()
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if err := connect(ctx, conn); err != nil {
		return false, err
	}
	select {
	case <-conn.Ready():
	case <-conn.Done():
		return false, errors.Join(errors.New("rtcbot: connection closed before it was ready"), conn.Err())
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case <-conn.Done():
		return true, conn.Err()
	case <-ctx.Done():
		// Stop sending, and let the robot have what was sent before closing.
		conn.StopSubscription()
		flush, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Flush(flush)
		return true, ctx.Err()
	}
}

// backoffDelay is the wait before the next attempt after failures failed
// ones in a row (at least 1): minDelay doubled for each failure after the
// first, up to maxDelay, plus up to a fifth more at random so that many
// clients do not retry in step.
func backoffDelay(minDelay, maxDelay time.Duration, failures int) time.Duration {
	delay := min(minDelay<<min(max(failures, 1)-1, 20), maxDelay)
	return delay + rand.N(delay/5+1)
}
