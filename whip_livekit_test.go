//go:build linux

package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/rtcbot-go/rtcbot/internal/livekittest"
)

// waitFor polls cond (what a server outside the process shows, which sends
// no events) every 20 ms until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishedVideo returns the MIME type of identity's video track in room,
// "" if it publishes none.
func publishedVideo(t *testing.T, s *livekittest.Server, room, identity string) string {
	for _, p := range s.Participants(t, room) {
		if p.Identity != identity {
			continue
		}
		for _, tr := range p.Tracks {
			if tr.Type == "VIDEO" {
				return tr.MimeType
			}
		}
	}
	return ""
}

// recordHandler keeps the messages of the log records it is given.
type recordHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) messages() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.msgs, "\n")
}

// A robot publishes to a real LiveKit server over WHIP: the server lists
// its video at the camera's size, LiveKit's congestion feedback reaches
// the robot's encoder, and Close ends the session with a DELETE the
// server accepts.
func TestWHIPLiveKit(t *testing.T) {
	s := livekittest.Start(t)
	cam := NewTestPatternCamera(CameraSettings{Width: 640, Height: 480})
	t.Cleanup(func() { cam.Close() })
	logs := &recordHandler{}
	settings := loopbackSettings()
	settings.Logger = slog.New(logs)
	robot, err := NewConnection(settings)
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	robot.Video().PutSubscription(cam.Subscribe())
	token := livekittest.Token(t, "lab", "rover", time.Hour)
	if err := ConnectWHIP(testCtx(t), robot, s.URL+"/whip/v1", token, nil); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, robot.Ready(), "the WHIP session ready")
	waitFor(t, "LiveKit to list rover's VP8 video", func() bool { return publishedVideo(t, s, "lab", "rover") == "video/VP8" })
	waitFor(t, "a bitrate estimate from LiveKit's feedback", func() bool { return robot.LinkStats().TargetBitrate > 0 })
	if st := robot.LinkStats(); st.VideoFramesSent == 0 || st.VideoBytesSent == 0 {
		t.Fatalf("the robot sent nothing: %v", st)
	}

	robot.Close()
	if msgs := logs.messages(); strings.Contains(msgs, "ending the media session") {
		t.Fatalf("the DELETE that ends the session failed:\n%s", msgs)
	}
	waitFor(t, "rover to leave the room", func() bool {
		for _, p := range s.Participants(t, "lab") {
			if p.Identity == "rover" {
				return false
			}
		}
		return true
	})
}

// LiveKit refuses a token signed with another secret, an expired one, and
// one without a room, each with an error matching ErrUnauthorized.
func TestWHIPLiveKitTokens(t *testing.T) {
	s := livekittest.Start(t)
	yes := true
	grant := &auth.VideoGrant{RoomJoin: true, Room: "lab", CanPublish: &yes}
	wrongSecret, _ := auth.NewAccessToken(livekittest.APIKey, strings.Repeat("x", 36)).SetVideoGrant(grant).SetIdentity("rover").ToJWT()
	expired := livekittest.ExpiredToken("lab", "rover")
	noRoom, _ := auth.NewAccessToken(livekittest.APIKey, livekittest.APISecret).SetVideoGrant(&auth.VideoGrant{RoomJoin: true, CanPublish: &yes}).SetIdentity("rover").ToJWT()
	cam := NewTestPatternCamera(CameraSettings{})
	t.Cleanup(func() { cam.Close() })
	for name, token := range map[string]string{"wrong secret": wrongSecret, "expired": expired, "no room": noRoom, "none": ""} {
		t.Run(name, func(t *testing.T) {
			c, err := NewConnection(loopbackSettings())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Video().PutSubscription(cam.Subscribe())
			err = ConnectWHIP(testCtx(t), c, s.URL+"/whip/v1", token, nil)
			if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, ErrRefused) {
				t.Fatalf("ConnectWHIP with a token %s: %v, want ErrUnauthorized", name, err)
			}
		})
	}
}

// The server crashes and comes back on its ports: PublishWHIP republishes,
// within its bounded attempts.
func TestPublishWHIPLiveKitRestart(t *testing.T) {
	s := livekittest.Start(t)
	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240})
	t.Cleanup(func() { cam.Close() })
	token := livekittest.Token(t, "lab", "rover", time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	sessions := make(chan *Connection, 8)
	go func() {
		rs := ReconnectSettings{MinDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxAttempts: 30}
		done <- PublishWHIP(ctx, s.URL+"/whip/v1", token, rs, func() (*Connection, error) {
			settings := loopbackSettings()
			settings.PeerLossTimeout = 2 * time.Second
			c, err := NewConnection(settings)
			if err != nil {
				return nil, err
			}
			c.Video().PutSubscription(cam.Subscribe())
			sessions <- c
			return c, nil
		})
	}()
	published := func() bool { return publishedVideo(t, s, "lab", "rover") == "video/VP8" }
	waitFor(t, "the first session published", published)
	first := <-sessions

	pid := s.PID()
	s.Kill()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed server, process %d, is still in the process table: %v", pid, err)
	}
	closedWithin(t, first.Done(), "the session after the server crashed")
	s.Restart()
	waitFor(t, "the robot to publish again", published)
	select {
	case err := <-done:
		t.Fatalf("PublishWHIP returned %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("PublishWHIP = %v, want context.Canceled", err)
	}
}
