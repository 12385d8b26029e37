package rtcbot

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A desktop keeps its link through a robot restart: the robot's server goes
// away with its connection, comes back on the same address, and the
// desktop connects again by itself.
func TestKeepConnectedAcrossRobotRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	robotConns := make(chan *Connection, 10)
	serve := func(ln net.Listener) *http.Server {
		srv := &http.Server{Handler: Handler(func(*http.Request) (*Connection, error) {
			c, err := NewConnection(loopbackSettings())
			if err == nil {
				robotConns <- c
			}
			return c, err
		})}
		go srv.Serve(ln)
		return srv
	}
	srv := serve(ln)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desktops := make(chan *Connection, 10)
	done := make(chan error, 1)
	go func() {
		done <- KeepConnected(ctx, "http://"+addr, ReconnectSettings{MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond},
			func() (*Connection, error) {
				c, err := NewConnection(loopbackSettings())
				if err == nil {
					c.OnReady(func() { desktops <- c })
				}
				return c, err
			})
	}()
	first := recv(t, desktops)
	robot := recv(t, robotConns)

	// The robot restarts: its server and connection go, then it is back.
	srv.Close()
	robot.Close()
	closedWithin(t, first.Done(), "desktop's first connection closed")
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv = serve(ln)
	defer srv.Close()
	second := recv(t, desktops)
	robot = recv(t, robotConns)
	defer robot.Close()
	got := robot.Subscribe()
	second.Put("back")
	if m := mustGet(t, got); m != "back" {
		t.Fatalf("got %v", m)
	}

	cancel()
	if err := recv(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("KeepConnected = %v, want context.Canceled", err)
	}
	closedWithin(t, second.Done(), "desktop's connection closed when KeepConnected returned")
}

// With MaxAttempts, a robot that is not there makes KeepConnected give up.
func TestKeepConnectedGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there
	made := 0
	err = KeepConnected(testCtx(t), url, ReconnectSettings{MinDelay: time.Millisecond, MaxAttempts: 3}, func() (*Connection, error) {
		made++
		return NewConnection(loopbackSettings())
	})
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("KeepConnected = %v, want giving up after 3 attempts", err)
	}
	if made != 3 {
		t.Fatalf("%d connections made, want 3", made)
	}
}
