package rtcbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// relayRobot is a robot for the relay tests: a signaling handler with its
// token, streaming a test pattern of its own size and answering every
// message with its name, connected to the relay at relayURL until the
// test ends.
func relayRobot(t *testing.T, relayURL, name, token string, width, height int) {
	t.Helper()
	cam := NewTestPatternCamera(CameraSettings{Width: width, Height: height})
	t.Cleanup(func() { cam.Close() })
	var conns ConnectionSet
	t.Cleanup(func() { conns.Close() })
	h := NewHandler(HandlerSettings{Token: token}, func(*http.Request) (*Connection, error) {
		c, err := NewConnection(loopbackSettings())
		if err != nil {
			return nil, err
		}
		c.Video().PutSubscription(cam)
		c.SubscribeFunc(func(any) { c.Put(name) })
		return c, conns.Add(c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeRelay(ctx, "ws"+strings.TrimPrefix(relayURL, "http")+"/robots/"+name, h, WebsocketSettings{Token: "relay-secret"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("ServeRelay(%s) = %v, want context.Canceled", name, err)
		}
	})
}

// relayedRobots returns the names the relay lists.
func relayedRobots(t *testing.T, relayURL string) []string {
	t.Helper()
	resp, err := http.Get(relayURL + "/robots")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var names []string
	if err := json.NewDecoder(resp.Body).Decode(&names); err != nil {
		t.Fatal(err)
	}
	return names
}

// relayDesktop connects a desktop through the relay to the named robot.
func relayDesktop(t *testing.T, relayURL, name, token string) (*Connection, Subscription[image.Image], error) {
	t.Helper()
	c := newConn(t)
	frames := c.Video().Subscribe()
	err := Connect(mediaCtx(t), c, fmt.Sprintf("%s/robots/%s/connect?token=%s", relayURL, name, token), nil)
	return c, frames, err
}

// Two robots behind a relay, and two desktops at once, each reaching the
// robot it names: the right picture size, the right name in answers.
// Wrong tokens are refused, the robot's by the robot and the relay's by
// the relay, and an unknown robot is a 404.
func TestRelay(t *testing.T) {
	r := NewRelay(RelaySettings{RobotToken: "relay-secret"})
	t.Cleanup(func() { r.Close() })
	relay := httptest.NewServer(r)
	t.Cleanup(relay.Close)
	relayRobot(t, relay.URL, "rover", "rover-token", 160, 120)
	relayRobot(t, relay.URL, "arm", "arm-token", 320, 240)
	eventually(t, "both robots connected", func() bool {
		return slices.Equal(relayedRobots(t, relay.URL), []string{"arm", "rover"})
	})

	var wg sync.WaitGroup
	for _, r := range []struct {
		name, token string
		width       int
	}{{"rover", "rover-token", 160}, {"arm", "arm-token", 320}} {
		desktop, frames, err := relayDesktop(t, relay.URL, r.name, r.token)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		msgs := desktop.Subscribe()
		wg.Go(func() { // both desktops at once
			ctx := mediaCtx(t)
			for range 5 {
				img, err := frames.Get(ctx)
				if err != nil || img.Bounds().Dx() != r.width {
					t.Errorf("%s: frame %v, %v; want one %d wide", r.name, img, err, r.width)
					return
				}
			}
			desktop.Put("hello") // the robot answers with its name
			if got, err := msgs.Get(ctx); got != r.name {
				t.Errorf("%s answered %v, %v", r.name, got, err)
			}
		})
	}
	wg.Wait()

	if _, _, err := relayDesktop(t, relay.URL, "rover", "arm-token"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("the arm's token for the rover: %v, want ErrUnauthorized", err)
	}
	if _, _, err := relayDesktop(t, relay.URL, "tractor", "x"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "404") {
		t.Errorf("an unknown robot: %v, want a 404", err)
	}
	impostor, err := DialWebsocket("ws"+strings.TrimPrefix(relay.URL, "http")+"/robots/rover", WebsocketSettings{Token: "wrong", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	closedWithin(t, impostor.Done(), "a robot with the wrong relay token")
	if err := impostor.Err(); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("a robot with the wrong relay token: %v, want ErrUnauthorized", err)
	}
	if got := relayedRobots(t, relay.URL); !slices.Equal(got, []string{"arm", "rover"}) {
		t.Errorf("robots %v after the impostor, want arm and rover", got)
	}
}

// A robot whose websocket drops, here with the relay restarting on its
// address, dials in again and is reached again.
func TestRelayRobotReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	start := func(ln net.Listener) (*Relay, *httptest.Server) {
		r := NewRelay(RelaySettings{RobotToken: "relay-secret"})
		srv := httptest.NewUnstartedServer(r)
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(func() { r.Close() })
		return r, srv
	}
	r, relay := start(ln)
	relayRobot(t, relay.URL, "rover", "rover-token", 160, 120)
	eventually(t, "the robot connected", func() bool { return len(relayedRobots(t, relay.URL)) == 1 })
	if _, _, err := relayDesktop(t, relay.URL, "rover", "rover-token"); err != nil {
		t.Fatal(err)
	}

	r.Close() // the robot's websocket drops
	relay.Close()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	_, relay = start(ln)
	t.Cleanup(relay.Close)
	eventually(t, "the robot connected again", func() bool { return len(relayedRobots(t, relay.URL)) == 1 })
	_, frames, err := relayDesktop(t, relay.URL, "rover", "rover-token")
	if err != nil {
		t.Fatal(err)
	}
	if img := mustGet(t, frames); img.Bounds().Dx() != 160 {
		t.Fatalf("frame %v", img.Bounds())
	}
}

// A robot that answers with a status no HTTP response has gets its client a
// 502 from the relay, which goes on serving.
func TestRelayBadStatus(t *testing.T) {
	r := NewRelay(RelaySettings{})
	t.Cleanup(func() { r.Close() })
	relay := httptest.NewServer(r)
	t.Cleanup(relay.Close)
	ws, err := DialWebsocket("ws"+strings.TrimPrefix(relay.URL, "http")+"/robots/odd", WebsocketSettings{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	requests := ws.Subscribe()
	go func() {
		for {
			msg, err := requests.Get(context.Background())
			if err != nil {
				return
			}
			req, _ := DecodeMessage[relayRequest](msg)
			ws.Put(relayResponse{ID: req.ID, Status: 7, Body: "nonsense"})
		}
	}()
	eventually(t, "the robot connected", func() bool { return len(relayedRobots(t, relay.URL)) == 1 })
	for range 2 {
		resp, err := http.Post(relay.URL+"/robots/odd/connect", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %s, want 502", resp.Status)
		}
	}
}
