package rtcbot

import (
	"context"
	"sync"
	"sync/atomic"
)

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

// closeHooks runs functions when a subscription closes. A function added
// after the subscription closed runs at once, so a subscription closed before
// (or while) it is subscribed is still forgotten by its producer.
type closeHooks struct {
	mu   sync.Mutex
	fs   []func()
	done bool
}

func (h *closeHooks) addOnClose(f func()) {
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		f()
		return
	}
	h.fs = append(h.fs, f)
	h.mu.Unlock()
}

func (h *closeHooks) run() {
	h.mu.Lock()
	fs := h.fs
	h.fs, h.done = nil, true
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
// drops an item according to its Overflow policy and counts it. Its memory
// grows with what it holds, not with its capacity, so a generous capacity
// costs nothing until it is used.
type Queue[T any] struct {
	closeHooks
	mu       sync.Mutex
	buf      []T // ring buffer holding n items from head
	head, n  int
	capacity int
	overflow Overflow
	closed   bool
	dropped  atomic.Uint64
	signal   chan struct{} // holds a token while items are held; closed by Close
	ch       chan T        // the channel form, made by the first C
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
	return &Queue[T]{capacity: capacity, overflow: overflow, signal: make(chan struct{}, 1)}
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
	if q.n == q.capacity {
		q.dropped.Add(1)
		if q.overflow == DropNewest {
			return
		}
		q.pop()
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = item
	q.n++
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// grow enlarges the ring buffer, up to the capacity.
func (q *Queue[T]) grow() {
	size := min(max(2*len(q.buf), 8), q.capacity)
	buf := make([]T, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop removes and returns the oldest item; q.n must be > 0.
func (q *Queue[T]) pop() T {
	var zero T
	item := q.buf[q.head]
	q.buf[q.head] = zero // let the garbage collector have it
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return item
}

// Get returns the oldest item, waiting for one if the queue is empty.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			item := q.pop()
			if q.n > 0 && !q.closed { // pass the token on to the next reader
				select {
				case q.signal <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return item, nil
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			var zero T
			return zero, ErrClosed
		}
		select {
		case <-q.signal:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// C returns the queue as a channel, for use in select. The first call starts
// a goroutine that moves items to the channel; the channel is closed once the
// queue is closed and drained, and the goroutine then ends, so read the
// channel until it closes.
func (q *Queue[T]) C() <-chan T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ch == nil {
		q.ch = make(chan T)
		go q.pump()
	}
	return q.ch
}

func (q *Queue[T]) pump() {
	defer close(q.ch)
	for {
		item, err := q.Get(context.Background())
		if err != nil {
			return
		}
		q.ch <- item
	}
}

// Len returns the number of items held.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Cap returns the most items the queue holds.
func (q *Queue[T]) Cap() int { return q.capacity }

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
	close(q.signal)
	q.mu.Unlock()
	q.run()
	return nil
}

// Latest is a subscription that holds only the newest item, RTCBot's
// MostRecentSubscription and the default for video frames: a reader that is
// slower than its producer skips items instead of falling behind, and each
// Get returns an item newer than the one read before.
type Latest[T any] struct {
	closeHooks
	mu      sync.Mutex
	ch      chan T // holds the newest item
	closed  bool
	skipped atomic.Uint64
}

// NewLatest returns an empty latest-only subscription.
func NewLatest[T any]() *Latest[T] {
	return &Latest[T]{ch: make(chan T, 1)}
}

// Put replaces the held item, if any, with item.
func (l *Latest[T]) Put(item T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		l.skipped.Add(1)
		return
	}
	for {
		select {
		case l.ch <- item:
			return
		default:
		}
		select {
		case <-l.ch:
			l.skipped.Add(1)
		default: // a reader took it meanwhile
		}
	}
}

// Get returns the newest item not yet read, waiting for one if needed.
func (l *Latest[T]) Get(ctx context.Context) (T, error) {
	select {
	case item, ok := <-l.ch:
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

// C returns the subscription as a channel, for use in select. The channel is
// closed when the subscription is closed and drained.
func (l *Latest[T]) C() <-chan T { return l.ch }

// Skipped returns how many items were replaced (or put after Close) before
// anyone read them.
func (l *Latest[T]) Skipped() uint64 { return l.skipped.Load() }

// Close ends the subscription: a reader gets the item still held, then
// ErrClosed.
func (l *Latest[T]) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.ch)
	l.mu.Unlock()
	l.run()
	return nil
}
