package rtcbot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Get once a subscription (or the producer behind
// it) has closed and every item it still held has been read.
var ErrClosed = errors.New("rtcbot: closed")

// A Getter is anything items can be read from: every subscription, every
// producer (through its default subscription), or a GetterFunc.
type Getter[T any] interface {
	// Get blocks until an item is available, ctx ends (returning ctx's
	// error) or the stream ends (returning ErrClosed).
	Get(ctx context.Context) (T, error)
}

// A Subscription is what RTCBot calls a subscription: a non-blocking Put on
// the producing side and a blocking Get on the consuming side. Close ends it:
// Get returns what is still held, then ErrClosed; Put after Close drops the
// item.
type Subscription[T any] interface {
	Getter[T]
	// Put hands an item to the subscription without blocking.
	Put(item T)
	// Close ends the subscription. It is idempotent.
	Close() error
}

// A Source is a producer: consumers subscribe to it, and each subscription
// sees every item. *Producer implements it, and so does every rtcbot device
// or connection that produces data.
type Source[T any] interface {
	Getter[T]
	// Subscribe returns a new subscription of the producer's default kind.
	Subscribe() Subscription[T]
	// SubscribeWith registers s to receive every item and returns it.
	SubscribeWith(s Subscription[T]) Subscription[T]
	// Unsubscribe removes s and closes it; it reports whether s was
	// subscribed.
	Unsubscribe(s Subscription[T]) bool
}

// onCloser is implemented by the subscriptions of this package: a producer
// uses it to forget a subscription its reader closed.
type onCloser interface {
	addOnClose(f func())
}

// closeHooks runs functions when a subscription closes.
type closeHooks struct {
	mu sync.Mutex
	fs []func()
}

func (h *closeHooks) addOnClose(f func()) {
	h.mu.Lock()
	h.fs = append(h.fs, f)
	h.mu.Unlock()
}

func (h *closeHooks) run() {
	h.mu.Lock()
	fs := h.fs
	h.fs = nil
	h.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Overflow says what a full Queue does with a new item.
type Overflow int

const (
	// DropOldest discards the oldest held item to make room (the default:
	// a reader that falls behind sees the most recent items).
	DropOldest Overflow = iota
	// DropNewest discards the new item and keeps what is held.
	DropNewest
)

// DefaultQueueCapacity is the capacity of a Queue made with capacity 0.
const DefaultQueueCapacity = 1024

// Queue is a bounded FIFO subscription, the Go form of RTCBot's default
// asyncio.Queue. Unlike RTCBot's, it never grows without bound: when full, it
// drops an item according to its Overflow policy and counts it.
type Queue[T any] struct {
	closeHooks
	mu       sync.Mutex
	ch       chan T
	overflow Overflow
	closed   bool
	dropped  atomic.Uint64
}

// NewQueue returns an empty queue holding up to capacity items
// (DefaultQueueCapacity if capacity <= 0) that drops the oldest item when
// full.
func NewQueue[T any](capacity int) *Queue[T] {
	return NewQueueWithOverflow[T](capacity, DropOldest)
}

// NewQueueWithOverflow returns an empty queue holding up to capacity items
// (DefaultQueueCapacity if capacity <= 0) with the given overflow policy.
func NewQueueWithOverflow[T any](capacity int, overflow Overflow) *Queue[T] {
	if capacity <= 0 {
		capacity = DefaultQueueCapacity
	}
	return &Queue[T]{ch: make(chan T, capacity), overflow: overflow}
}

// Put adds item to the queue without blocking, dropping an item if the
// queue is full (see Overflow) and dropping item if the queue is closed.
func (q *Queue[T]) Put(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.dropped.Add(1)
		return
	}
	for {
		select {
		case q.ch <- item:
			return
		default:
		}
		if q.overflow == DropNewest {
			q.dropped.Add(1)
			return
		}
		select {
		case <-q.ch:
			q.dropped.Add(1)
		default: // a reader emptied a slot meanwhile
		}
	}
}

// Get returns the oldest item, waiting for one if the queue is empty.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	select {
	case item, ok := <-q.ch:
		if !ok {
			var zero T
			return zero, ErrClosed
		}
		return item, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// C returns the queue as a channel, for use in select. The channel is closed
// when the queue is closed and drained.
func (q *Queue[T]) C() <-chan T { return q.ch }

// Len returns the number of items held.
func (q *Queue[T]) Len() int { return len(q.ch) }

// Dropped returns how many items the queue has discarded because it was full
// or closed.
func (q *Queue[T]) Dropped() uint64 { return q.dropped.Load() }

// Close ends the queue: readers get the items still held, then ErrClosed.
func (q *Queue[T]) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.ch)
	q.mu.Unlock()
	q.run()
	return nil
}

// Latest is a subscription that holds only the newest item, RTCBot's
// MostRecentSubscription and the default for video frames: a reader that is
// slower than its producer skips items instead of falling behind, and each
// Get returns an item newer than the one read before.
type Latest[T any] struct {
	q Queue[T]
}

// NewLatest returns an empty latest-only subscription.
func NewLatest[T any]() *Latest[T] {
	return &Latest[T]{q: Queue[T]{ch: make(chan T, 1), overflow: DropOldest}}
}

// Put replaces the held item, if any, with item.
func (l *Latest[T]) Put(item T) { l.q.Put(item) }

// Get returns the newest item not yet read, waiting for one if needed.
func (l *Latest[T]) Get(ctx context.Context) (T, error) { return l.q.Get(ctx) }

// C returns the subscription as a channel, for use in select. The channel is
// closed when the subscription is closed and drained.
func (l *Latest[T]) C() <-chan T { return l.q.ch }

// Skipped returns how many items were replaced before anyone read them.
func (l *Latest[T]) Skipped() uint64 { return l.q.Dropped() }

// Close ends the subscription: a reader gets the item still held, then
// ErrClosed.
func (l *Latest[T]) Close() error { return l.q.Close() }

func (l *Latest[T]) addOnClose(f func()) { l.q.addOnClose(f) }
