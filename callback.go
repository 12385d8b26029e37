package rtcbot

import "context"

// Callback is a subscription that calls a function with every item,
// RTCBot's CallbackSubscription. The function runs on a goroutine of the
// callback's own, in order, so a slow function delays only itself: items
// wait in a buffer subscription (a Queue or a Latest, as given) meanwhile.
//
// Close stops the callback once the items already buffered are handled;
// Done tells when its goroutine has ended.
type Callback[T any] struct {
	buf  Subscription[T]
	f    func(T)
	done chan struct{}
}

// NewCallback starts a callback that calls f with every item put, buffering
// items in buf (nil means a NewQueue of the default capacity).
func NewCallback[T any](f func(T), buf Subscription[T]) *Callback[T] {
	if buf == nil {
		buf = NewQueue[T](0)
	}
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

// Put queues item for the function without blocking.
func (c *Callback[T]) Put(item T) { c.buf.Put(item) }

// Get is not supported: a callback's items go to its function. It returns
// ErrClosed at once, so a consumer reading it does not wait.
func (c *Callback[T]) Get(context.Context) (T, error) {
	var zero T
	return zero, ErrClosed
}

// Close stops the callback after the items already buffered. It does not
// wait for the goroutine (so a function may close its own callback); see
// Done.
func (c *Callback[T]) Close() error { return c.buf.Close() }

// Done returns a channel closed when the callback's goroutine has ended.
func (c *Callback[T]) Done() <-chan struct{} { return c.done }

func (c *Callback[T]) addOnClose(f func()) {
	if n, ok := c.buf.(onCloser); ok {
		n.addOnClose(f)
	}
}
