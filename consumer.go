package rtcbot

import (
	"context"
	"errors"
	"sync"
)

// Consumer is the reusable consuming half of every rtcbot sink, RTCBot's
// BaseSubscriptionConsumer. It reads one input at a time on a goroutine of its
// own and hands each item to the sink's handler.
//
//   - PutSubscription(src) reads src in the background; a later call replaces
//     the input mid-stream. Given a Source (a producer such as a camera), the
//     consumer subscribes to it and closes that subscription when it is
//     replaced, stopped or the consumer closes.
//   - Put(item) pushes one item directly (stopping any active subscription,
//     as in RTCBot).
//   - When its input ends (ErrClosed), the consumer waits for a new one
//     rather than dying; an input that fails with another error is dropped
//     and the error is reported through OnError.
//
// Consumer is the building block of a sink: a program makes one with
// NewConsumer and a handler, and the handler may call SetReady (the first
// item was used) and SetError (an item could not be used). rtcbot's own
// devices hold their Consumer in an unexported field, so only the consuming
// verbs and the events show on them. Close stops its goroutine and waits
// for it; the close event fires only through Close.
type Consumer[T any] struct {
	lifecycle
	handle    func(T)
	newDirect func() Subscription[T]

	mu       sync.Mutex
	src      Getter[T]       // the active input, nil when idle
	gen      uint64          // counts input changes
	owned    Subscription[T] // the subscription made from a Source, closed on replace
	stop     context.CancelFunc
	direct   Subscription[T] // buffer for Put, made on first use
	isDirect bool            // the active input is direct
	wake     chan struct{}
	started  bool
	closed   bool
	exited   chan struct{}
}

// NewConsumer returns a consumer that calls handle with each item it reads,
// on its own goroutine. Items pushed with Put wait in a subscription made by
// newDirect (nil means a default-capacity Queue).
func NewConsumer[T any](handle func(T), newDirect func() Subscription[T]) *Consumer[T] {
	if newDirect == nil {
		newDirect = func() Subscription[T] { return NewQueue[T](0) }
	}
	return &Consumer[T]{
		lifecycle: lifecycle{NewEvents()},
		handle:    handle,
		newDirect: newDirect,
		wake:      make(chan struct{}, 1),
		exited:    make(chan struct{}),
	}
}

// PutSubscription makes src the consumer's input, replacing the previous
// one. src may be any subscription or Getter, which is read as it is, or a
// Source (anything with a Subscribe method, such as a producer), which the
// consumer subscribes to. A nil src stops the active subscription.
func (c *Consumer[T]) PutSubscription(src Getter[T]) {
	var owned Subscription[T]
	if s, ok := src.(interface{ Subscribe() Subscription[T] }); ok {
		owned = s.Subscribe()
		src = owned
	}
	if !c.setInput(src, owned, false) && owned != nil {
		owned.Close()
	}
}

// setInput switches the input; it reports false if the consumer is closed.
func (c *Consumer[T]) setInput(src Getter[T], owned Subscription[T], isDirect bool) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	prevOwned, prevStop := c.owned, c.stop
	c.src, c.owned, c.stop, c.isDirect = src, owned, nil, isDirect
	c.gen++
	if !c.started && src != nil {
		c.started = true
		go c.run()
	}
	c.mu.Unlock()
	if prevStop != nil {
		prevStop()
	}
	if prevOwned != nil {
		prevOwned.Close()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// Subscription returns the active input, or nil when there is none.
func (c *Consumer[T]) Subscription() Getter[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.src
}

// StopSubscription stops reading the active input (closing it if the
// consumer made it). The consumer stays open.
func (c *Consumer[T]) StopSubscription() { c.setInput(nil, nil, false) }

// Put pushes item to the consumer without blocking, RTCBot's put_nowait. Like
// RTCBot, it first stops any active subscription; items wait in the
// consumer's own buffer (a Queue unless the device chose otherwise).
func (c *Consumer[T]) Put(item T) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.direct == nil {
		c.direct = c.newDirect()
	}
	direct, active := c.direct, c.isDirect
	c.mu.Unlock()
	direct.Put(item)
	if !active {
		c.setInput(direct, nil, true)
	}
}

// run is the consumer's goroutine: it reads the current input and hands
// each item to the handler until the consumer closes.
func (c *Consumer[T]) run() {
	defer close(c.exited)
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		src, gen := c.src, c.gen
		if src == nil {
			c.mu.Unlock()
			<-c.wake
			continue
		}
		ctx, stop := context.WithCancel(context.Background())
		c.stop = stop
		c.mu.Unlock()
		c.drain(ctx, src, gen)
		stop()
	}
}

// drain reads src until it ends or ctx is cancelled (the input was replaced
// or the consumer is closing). gen identifies the input.
func (c *Consumer[T]) drain(ctx context.Context, src Getter[T], gen uint64) {
	// Check ctx before each Get, not only through Get: a subscription that
	// holds items returns them even after ctx ends, and the old input's
	// backlog must not be handled (or taken from it) once it is replaced.
	for ctx.Err() == nil {
		item, err := src.Get(ctx)
		if err == nil {
			c.handle(item)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		current := c.gen == gen
		c.mu.Unlock()
		if current {
			if !errors.Is(err, ErrClosed) {
				c.SetError(err)
			}
			c.stopInput(gen)
		}
		return
	}
}

// stopInput stops the active input if it is still input number gen.
func (c *Consumer[T]) stopInput(gen uint64) {
	c.mu.Lock()
	if c.gen != gen || c.closed {
		c.mu.Unlock()
		return
	}
	prevOwned := c.owned
	c.src, c.owned, c.stop, c.isDirect = nil, nil, nil, false
	c.gen++
	c.mu.Unlock()
	if prevOwned != nil {
		prevOwned.Close()
	}
}

// Close stops the consumer: the active input is stopped (and closed if the
// consumer made it), its goroutine ends, and the close event fires. Close
// waits for the handler to return, so a handler must not call Close.
func (c *Consumer[T]) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	owned, stop, direct, started := c.owned, c.stop, c.direct, c.started
	c.src, c.owned, c.stop = nil, nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	if owned != nil {
		owned.Close()
	}
	if direct != nil {
		direct.Close()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if started {
		<-c.exited
	}
	c.ev.SetClosed()
	return nil
}

// SetReady fires the consumer's ready event; later calls, and calls after
// Close, do nothing. It is for the consumer's handler.
func (c *Consumer[T]) SetReady() { c.ev.SetReady() }

// SetError reports err through the consumer's error event (Err, OnError).
// Only the first error is kept; nil is ignored. It is for the consumer's
// handler.
func (c *Consumer[T]) SetError(err error) { c.ev.SetError(err) }
