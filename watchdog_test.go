package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// watchdogEvents records a watchdog's events and when they came.
type watchdogEvents struct {
	mu     sync.Mutex
	events []string
	at     []time.Time
	ch     chan string
}

func watchEvents[T any](w *Watchdog[T]) *watchdogEvents {
	e := &watchdogEvents{ch: make(chan string, 100)}
	record := func(name string) func() {
		return func() {
			e.mu.Lock()
			e.events = append(e.events, name)
			e.at = append(e.at, time.Now())
			e.mu.Unlock()
			select {
			case e.ch <- name:
			default: // tests that make many events read the list instead
			}
		}
	}
	w.OnTimeout(record("timeout"))
	w.OnResume(record("resume"))
	return e
}

func (e *watchdogEvents) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// sendEvery puts a message into w every period until stop is closed, and
// returns the longest gap between two puts.
func sendEvery(w interface{ Put(any) }, period time.Duration, stop <-chan struct{}) (longest time.Duration, last time.Time) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	last = time.Now()
	w.Put("drive")
	for {
		select {
		case <-stop:
			return longest, last
		case <-tick.C:
			now := time.Now()
			longest = max(longest, now.Sub(last))
			last = now
			w.Put("drive")
		}
	}
}

func TestWatchdogTimeoutAndResume(t *testing.T) {
	const timeout = 200 * time.Millisecond
	w := NewWatchdog[any](timeout, nil)
	defer w.Close()
	e := watchEvents(w)

	// Steady controls: no timeout, unless the machine really paused the
	// sender for longer than the timeout.
	stop := make(chan struct{})
	time.AfterFunc(5*timeout, func() { close(stop) })
	longest, last := sendEvery(w, 10*time.Millisecond, stop)
	steady := e.list()
	if len(steady) > 0 && longest < timeout {
		t.Fatalf("events %v while messages came at most %v apart", steady, longest)
	}
	for range steady { // only after a real stall of the sender, logged
		t.Logf("the sender stalled for %v: event %s", longest, <-e.ch)
	}

	// The sender stops: the timeout comes no sooner than the timeout after
	// the last message, and within one more timeout (the longest the
	// watchdog waits between checks).
	if got := recv(t, e.ch); got != "timeout" {
		t.Fatalf("event %q, want timeout", got)
	}
	e.mu.Lock()
	after := e.at[len(steady)].Sub(last)
	e.mu.Unlock()
	if after < timeout || after > 2*timeout {
		t.Fatalf("timeout reported %v after the last message, want between %v and %v", after, timeout, 2*timeout)
	}
	if !w.TimedOut() {
		t.Fatal("TimedOut() = false after the timeout")
	}
	t.Logf("timeout reported %v after the last message (timeout %v)", after, timeout)

	// Controls resume: reported at once, and the message is delivered.
	for range 100 {
		mustGet(t, w) // drain what the steady phase left
		if w.buf.(*Queue[any]).Len() == 0 {
			break
		}
	}
	w.Put("again")
	if got := recv(t, e.ch); got != "resume" {
		t.Fatalf("event %q, want resume", got)
	}
	if w.TimedOut() {
		t.Fatal("TimedOut() = true after a message")
	}
	if m := mustGet(t, w); m != "again" {
		t.Fatalf("got %v, want the resumed message", m)
	}

	// Silent again: a second timeout; then Close, which adds nothing since
	// the controls are already stopped.
	if got := recv(t, e.ch); got != "timeout" {
		t.Fatalf("event %q, want a second timeout", got)
	}
	w.Close()
	wantClosed(t, w)
	if got := e.list()[len(steady):]; !slices.Equal(got, []string{"timeout", "resume", "timeout"}) {
		t.Fatalf("events %v", got)
	}
}

func TestWatchdogCloseStopsLiveControls(t *testing.T) {
	w := NewWatchdog[any](time.Hour, nil)
	e := watchEvents(w)
	w.Put("drive")
	w.Close()
	if got := e.list(); !slices.Equal(got, []string{"timeout"}) {
		t.Fatalf("events %v, want one timeout at Close", got)
	}
	if m := mustGet(t, w); m != "drive" {
		t.Fatalf("got %v", m)
	}
	wantClosed(t, w)
	w.Put("late") // dropped, no event
	if got := e.list(); len(got) != 1 {
		t.Fatalf("events %v after Close", got)
	}
}

// Events come in order, once each, however puts and timeouts race.
func TestWatchdogEventsAlternate(t *testing.T) {
	w := NewWatchdog[any](time.Millisecond, NewLatest[any]())
	e := watchEvents(w)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				w.Put(i)
				if i%(g+2) == 0 {
					time.Sleep(2 * time.Millisecond) // let a timeout through
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	got := e.list()
	if len(got) < 2 {
		t.Fatalf("only %d events", len(got))
	}
	for i, ev := range got {
		want := "timeout"
		if i%2 == 1 {
			want = "resume"
		}
		if ev != want {
			t.Fatalf("event %d is %s, want %s: %v", i, ev, want, got)
		}
	}
	if got[len(got)-1] != "timeout" {
		t.Fatalf("last event %s, want timeout (closed)", got[len(got)-1])
	}
}

// Over a real connection: the robot's watchdog fires when the desktop stops
// sending controls and clears when they come again.
func TestWatchdogOverConnection(t *testing.T) {
	const timeout = 200 * time.Millisecond
	robot, desktop := newConn(t), newConn(t)
	controls := NewWatchdog[any](timeout, nil)
	robot.SubscribeWith(controls)
	e := watchEvents(controls)
	connectPair(t, desktop, robot)
	if got := recv(t, e.ch); got != "timeout" { // nothing sent yet
		t.Fatalf("event %q, want the first timeout", got)
	}

	stop := make(chan struct{})
	done := make(chan time.Time)
	go func() {
		_, last := sendEvery(desktop, 10*time.Millisecond, stop)
		done <- last
	}()
	if got := recv(t, e.ch); got != "resume" {
		t.Fatalf("event %q, want resume when controls start", got)
	}
	close(stop)
	last := recv(t, done)
	if got := recv(t, e.ch); got != "timeout" {
		t.Fatalf("event %q, want timeout when controls stop", got)
	}
	if since := time.Since(last); since < timeout {
		t.Fatalf("timeout %v after the last message was sent, before the timeout %v", since, timeout)
	}
	desktop.Put("one more")
	if got := recv(t, e.ch); got != "resume" {
		t.Fatalf("event %q, want resume", got)
	}
	desktop.Close()
	closedWithin(t, robot.Done(), "robot closed after the desktop")
	if got := recv(t, e.ch); got != "timeout" {
		t.Fatalf("event %q, want timeout when the connection closes", got)
	}
	for { // what it held, then the end
		if _, err := controls.Get(testCtx(t)); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("Get = %v, want ErrClosed", err)
			}
			break
		}
	}
}

func ExampleWatchdog() {
	controls := NewWatchdog[any](50*time.Millisecond, nil)
	defer controls.Close()
	stopped := make(chan struct{}, 1)
	controls.OnTimeout(func() { stopped <- struct{}{} })
	controls.OnResume(func() { fmt.Println("controls back") })

	<-stopped // nothing has come yet
	fmt.Println("no controls: motors stopped")
	controls.Put(map[string]any{"speed": 0.5})
	msg, _ := controls.Get(context.Background())
	fmt.Println("drive:", msg)
	<-stopped
	fmt.Println("controls lost: motors stopped")
	// Output:
	// no controls: motors stopped
	// controls back
	// drive: map[speed:0.5]
	// controls lost: motors stopped
}
