package rtcbot

import (
	"context"
	"sync"
)

// GetterFunc adapts a function to a Getter, RTCBot's GetterSubscription: each
// Get calls the function. Use it to hand a polled sensor to a consumer.
type GetterFunc[T any] func(ctx context.Context) (T, error)

// Get calls f.
func (f GetterFunc[T]) Get(ctx context.Context) (T, error) { return f(ctx) }

// Delayed is a subscription that subscribes to its source only on the first
// Get, RTCBot's DelayedSubscription: nothing piles up before anyone reads
// (for example microphone audio before a connection is up). Close it to
// unsubscribe.
type Delayed[T any] struct {
	src    Source[T]
	mu     sync.Mutex
	sub    Subscription[T]
	closed bool
}

// NewDelayed returns a subscription to src that starts on the first Get.
func NewDelayed[T any](src Source[T]) *Delayed[T] {
	return &Delayed[T]{src: src}
}

func (d *Delayed[T]) current(subscribe bool) (Subscription[T], error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if d.sub == nil && subscribe {
		d.sub = d.src.Subscribe()
	}
	return d.sub, nil
}

// Get subscribes to the source if this is the first Get, then reads from it.
func (d *Delayed[T]) Get(ctx context.Context) (T, error) {
	sub, err := d.current(true)
	if err != nil {
		var zero T
		return zero, err
	}
	return sub.Get(ctx)
}

// Put passes item to the underlying subscription once it exists, and drops
// it before.
func (d *Delayed[T]) Put(item T) {
	if sub, _ := d.current(false); sub != nil {
		sub.Put(item)
	}
}

// Close unsubscribes from the source; readers get ErrClosed.
func (d *Delayed[T]) Close() error {
	d.mu.Lock()
	sub := d.sub
	d.closed = true
	d.mu.Unlock()
	if sub != nil {
		d.src.Unsubscribe(sub)
		return sub.Close()
	}
	return nil
}
