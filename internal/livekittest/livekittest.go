// Package livekittest runs a real LiveKit server (livekit-server v1.13.5,
// which scripts/setup.sh builds; see internal/livekitserver) on 127.0.0.1
// for the tests of the WHIP publisher, package livekit and examples/sfu.
// It is for this module's tests only.
package livekittest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
)

// Version, APIKey, APISecret and InstallCommand are livekitserver's.
const (
	Version        = livekitserver.Version
	APIKey         = livekitserver.APIKey
	APISecret      = livekitserver.APISecret
	InstallCommand = livekitserver.InstallCommand
)

// Server is a livekit-server process on 127.0.0.1 (livekitserver.Server),
// stopped when its test ends; its methods fail the test instead of
// returning errors.
type Server struct {
	*livekitserver.Server
	t testing.TB
}

// Start starts a server on free ports and waits until it answers; it is
// stopped when the test ends. A missing binary fails the test, naming
// InstallCommand.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := livekitserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := livekitserver.Start(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("livekit-server output:\n%s", s.Output())
		}
		s.Close()
	})
	return &Server{Server: s, t: t}
}

// Restart starts the server again on the same ports after Kill or Stop,
// and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Server.Restart(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// Token returns a join token for identity in room, valid for validFor,
// allowed to publish, subscribe and send data.
func Token(t testing.TB, room, identity string, validFor time.Duration) string {
	t.Helper()
	yes := true
	at := auth.NewAccessToken(APIKey, APISecret)
	at.SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &yes, CanSubscribe: &yes, CanPublishData: &yes}).
		SetIdentity(identity).SetValidFor(validFor)
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// Participant is what the server's RoomService lists of a participant.
type Participant struct {
	Identity string  `json:"identity"`
	Tracks   []Track `json:"tracks"`
}

// Track is what the server lists of a published track.
type Track struct {
	Type     string `json:"type"`      // "VIDEO" or "AUDIO"
	MimeType string `json:"mime_type"` // "video/VP8"
	// Width and Height are what the publisher announced through LiveKit's
	// own signaling, 0 for a WHIP publisher.
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Participants lists the participants of room, through the server's
// RoomService (Twirp, JSON), with an admin token.
func (s *Server) Participants(t testing.TB, room string) []Participant {
	t.Helper()
	at := auth.NewAccessToken(APIKey, APISecret)
	at.SetVideoGrant(&auth.VideoGrant{RoomAdmin: true, Room: room}).SetValidFor(time.Minute)
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"room": room})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/twirp/livekit.RoomService/ListParticipants", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ListParticipants: %v", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ListParticipants: %s: %s", resp.Status, reply)
	}
	var list struct {
		Participants []Participant `json:"participants"`
	}
	if err := json.Unmarshal(reply, &list); err != nil {
		t.Fatalf("ListParticipants: %v: %s", err, reply)
	}
	return list.Participants
}

// ExpiredToken returns a join token for identity in room that expired
// two minutes ago, beyond the server's minute of leeway; package auth
// makes none such.
func ExpiredToken(room, identity string) string {
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": APIKey, "sub": identity, "nbf": now - 3600, "exp": now - 120,
		"video": map[string]any{"roomJoin": true, "room": room, "canPublish": true},
	})
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(APISecret))
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}
