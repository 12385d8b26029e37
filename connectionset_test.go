package rtcbot

import (
	"errors"
	"testing"
)

func TestConnectionSet(t *testing.T) {
	var set ConnectionSet
	changes := make(chan int, 16)
	set.OnChange(func(n int) { changes <- n })

	robotA, desktopA := newConn(t), newConn(t)
	robotB, desktopB := newConn(t), newConn(t)
	for _, c := range []*Connection{robotA, robotB} {
		if err := set.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if set.Len() != 2 || recv(t, changes) != 1 || recv(t, changes) != 2 {
		t.Fatalf("set holds %d connections, want 2", set.Len())
	}
	fromA, fromB := desktopA.Subscribe(), desktopB.Subscribe()
	connectPair(t, desktopA, robotA)
	connectPair(t, desktopB, robotB)

	// Put reaches every connection.
	set.Put("hello")
	for _, sub := range []Subscription[any]{fromA, fromB} {
		if m, err := sub.Get(mediaCtx(t)); err != nil || m != "hello" {
			t.Fatalf("got %v, %v", m, err)
		}
	}

	// A peer leaving takes its connection out of the set.
	desktopA.Close()
	if n := recv(t, changes); n != 1 {
		t.Fatalf("after a peer left: %d open, want 1", n)
	}
	if conns := set.Connections(); len(conns) != 1 || conns[0] != robotB {
		t.Fatalf("open connections %v, want only robotB", conns)
	}

	// Close closes the rest and refuses new connections.
	set.Close()
	closedWithin(t, robotB.Done(), "robotB after the set closed")
	late := newConn(t)
	if err := set.Add(late); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v, want ErrClosed", err)
	}
	closedWithin(t, late.Done(), "a connection added after Close")
	if set.Len() != 0 {
		t.Fatalf("%d connections left open", set.Len())
	}
}
