package rtcbot

import "context"

// Callback is a function subscribed to a source, RTCBot's
// CallbackSubscription: SubscribeFunc returns one. The function runs on a
// goroutine of the callback's own, in order, so a slow function delays only
// itself: items wait in a subscription of the source's default kind
// meanwhile (a Queue, or a Latest that keeps only the newest).
//
// A Callback is not a Subscription: its items go to its function, so there
// is nothing to Get. Close unsubscribes it; Done tells when its goroutine
// has ended.
type Callback[T any] struct {
	buf  Subscription[T]
	f    func(T)
	done chan struct{}
}

// newCallback starts a callback that calls f with every item put, buffering
// items in buf.
func newCallback[T any](f func(T), buf Subscription[T]) *Callback[T] {
	c := &Callback[T]{buf: buf, f: f, done: make(chan struct{})}
	go c.run()
	return c
}

func (c *Callback[T]) run() {
	defer close(c.done)
	ctx := context.Background()
	for {
		item, err := c.buf.Get(ctx)
		if err != nil {
			return
		}
		c.f(item)
	}
}

// Close unsubscribes the callback: the function is called with the items
// already buffered, then its goroutine ends. Close does not wait for it (so
// a function may close its own callback); see Done. It is idempotent.
func (c *Callback[T]) Close() error { return c.buf.Close() }

// Done returns a channel closed when the callback's goroutine has ended.
func (c *Callback[T]) Done() <-chan struct{} { return c.done }

// callbackSubscription is how a producer delivers to a Callback: the
// producing half of a subscription (Put, Close). It is never handed to a
// reader, so its Get is never used.
type callbackSubscription[T any] struct{ c *Callback[T] }

func (s callbackSubscription[T]) Put(item T) { s.c.buf.Put(item) }

func (s callbackSubscription[T]) Get(context.Context) (T, error) {
	var zero T
	return zero, ErrClosed
}

func (s callbackSubscription[T]) Close() error { return s.c.Close() }

func (s callbackSubscription[T]) addOnClose(f func()) {
	if n, ok := s.c.buf.(onCloser); ok {
		n.addOnClose(f)
	}
}
