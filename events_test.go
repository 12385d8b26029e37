package rtcbot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEventsReadyOnce(t *testing.T) {
	e := NewEvents()
	var early atomic.Int32
	e.OnReady(func() { early.Add(1) })
	if e.IsReady() {
		t.Fatal("IsReady before SetReady")
	}
	notClosed(t, e.Ready(), "Ready before SetReady")
	e.SetReady()
	e.SetReady()
	if !e.IsReady() {
		t.Fatal("IsReady false after SetReady")
	}
	closedWithin(t, e.Ready(), "Ready")
	if n := early.Load(); n != 1 {
		t.Fatalf("early OnReady ran %d times, want 1", n)
	}
	// Added after ready: runs at once, exactly once.
	late := 0
	e.OnReady(func() { late++ })
	if late != 1 {
		t.Fatalf("late OnReady ran %d times at registration, want 1", late)
	}
	e.SetReady()
	e.SetClosed()
	if late != 1 || early.Load() != 1 {
		t.Fatalf("ready callbacks ran again (late %d, early %d)", late, early.Load())
	}
}

func TestEventsCloseIsNotReady(t *testing.T) {
	e := NewEvents()
	ran := false
	e.OnReady(func() { ran = true })
	if !e.SetClosed() {
		t.Fatal("first SetClosed = false")
	}
	if ran {
		t.Fatal("ready callback ran on close")
	}
	e.SetReady() // after close: nothing
	if ran || e.IsReady() {
		t.Fatal("SetReady after close fired ready")
	}
	notClosed(t, e.Ready(), "Ready after close")
	e.OnReady(func() { ran = true })
	if ran {
		t.Fatal("OnReady after close ran")
	}
}

func TestEventsCloseOnce(t *testing.T) {
	e := NewEvents()
	var n atomic.Int32
	e.OnClose(func() { n.Add(1) })
	var wg sync.WaitGroup
	var fired atomic.Int32
	for range 8 {
		wg.Go(func() {
			if e.SetClosed() {
				fired.Add(1)
			}
		})
	}
	wg.Wait()
	if fired.Load() != 1 {
		t.Fatalf("SetClosed reported firing %d times, want 1", fired.Load())
	}
	if n.Load() != 1 {
		t.Fatalf("OnClose ran %d times, want 1", n.Load())
	}
	if !e.IsClosed() {
		t.Fatal("IsClosed false")
	}
	closedWithin(t, e.Done(), "Done")
	late := 0
	e.OnClose(func() { late++ })
	if late != 1 {
		t.Fatalf("late OnClose ran %d times, want 1 at once", late)
	}
}

func TestEventsFirstErrorKept(t *testing.T) {
	e := NewEvents()
	first, second := errors.New("first"), errors.New("second")
	var got []error
	e.OnError(func(err error) { got = append(got, err) })
	e.SetError(nil) // ignored
	if e.Err() != nil || len(got) != 0 {
		t.Fatal("SetError(nil) recorded an error")
	}
	e.SetError(first)
	e.SetError(second)
	if e.Err() != first {
		t.Fatalf("Err = %v, want first", e.Err())
	}
	if len(got) != 1 || got[0] != first {
		t.Fatalf("OnError saw %v, want [first]", got)
	}
	var late error
	e.OnError(func(err error) { late = err })
	if late != first {
		t.Fatalf("late OnError got %v, want first", late)
	}
	if e.IsClosed() {
		t.Fatal("SetError closed the object")
	}
	// Wait returns the error once closed.
	e.SetClosed()
	if err := e.Wait(testCtx(t)); err != first {
		t.Fatalf("Wait = %v, want first", err)
	}
}

func TestEventsWait(t *testing.T) {
	e := NewEvents()
	errc := make(chan error, 1)
	go func() { errc <- e.Wait(context.Background()) }()
	e.SetClosed()
	if err := recv(t, errc); err != nil {
		t.Fatalf("Wait after a clean close = %v, want nil", err)
	}

	open := NewEvents()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { errc <- open.Wait(ctx) }()
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

// Callbacks may register further callbacks (they run outside the lock).
func TestEventsCallbackReentry(t *testing.T) {
	e := NewEvents()
	inner := make(chan struct{})
	e.OnReady(func() {
		e.OnReady(func() { close(inner) })
	})
	e.SetReady()
	closedWithin(t, inner, "nested OnReady")
	closed := make(chan struct{})
	e.OnClose(func() { e.OnClose(func() { close(closed) }) })
	e.SetClosed()
	closedWithin(t, closed, "nested OnClose")
}
