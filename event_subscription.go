package rtcbot

import (
	"context"
	"sync"
)

// Event is a one-shot subscription, RTCBot's EventSubscription: the first
// Put fires it, waking every reader; every Get after that returns the same
// item at once. Later Puts are ignored. Closing an event that never fired
// makes readers return ErrClosed.
type Event[T any] struct {
	closeHooks
	mu     sync.Mutex
	fired  chan struct{}
	item   T
	set    bool
	closed bool
}

// NewEvent returns an event that has not fired.
func NewEvent[T any]() *Event[T] {
	return &Event[T]{fired: make(chan struct{})}
}

// Put fires the event with item, if it has not fired or closed yet.
func (e *Event[T]) Put(item T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set || e.closed {
		return
	}
	e.item, e.set = item, true
	close(e.fired)
}

// Get waits for the event and returns its item.
func (e *Event[T]) Get(ctx context.Context) (T, error) {
	select {
	case <-e.fired:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.set {
		var zero T
		return zero, ErrClosed
	}
	return e.item, nil
}

// Fired returns a channel closed when the event fires or closes.
func (e *Event[T]) Fired() <-chan struct{} { return e.fired }

// Close ends the event. An event that already fired keeps its item.
func (e *Event[T]) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	if !e.set {
		close(e.fired)
	}
	e.mu.Unlock()
	e.run()
	return nil
}
