package rtcbot

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// Producer is the reusable producing half of every rtcbot source, RTCBot's
// BaseSubscriptionProducer. It fans each published item out to every
// subscription: Subscribe returns a new, independent subscription of the
// producer's default kind, SubscribeFunc subscribes a function, and Get reads
// through a default subscription made on first use.
//
// Publishing never blocks and does not allocate: each subscription applies
// its own overflow policy. Closing the producer closes every subscription, so
// readers drain what they hold and then get ErrClosed.
//
// Producer is the building block of a source: a program wrapping its own
// sensor makes one with NewProducer and, from its reading goroutine, calls
// Publish with each item, SetReady when data starts flowing and SetError when
// the sensor fails; Close ends it (see examples/threads). Those three are
// the producing side: rtcbot's own devices hold their Producer in an
// unexported field, so only the subscribing verbs and the events show on
// them. A type of your own that embeds *Producer shows Publish too; hold it
// in a field and forward the verbs to keep it private.
//
// The ready, error and close events are the producer's own (Ready, OnReady,
// Err, OnError, Done, OnClose, Wait); the close event fires only through
// Close, so subscriptions always end with it.
type Producer[T any] struct {
	lifecycle
	newSub func() Subscription[T]

	mu     sync.Mutex
	subs   atomic.Pointer[[]Subscription[T]]
	def    Subscription[T]
	closed bool
}

// NewProducer returns a producer whose subscriptions are made by newSub (for
// example NewLatest[T] for frames, or func() Subscription[T] { return
// NewQueue[T](0) } for events); nil means a default-capacity Queue.
func NewProducer[T any](newSub func() Subscription[T]) *Producer[T] {
	if newSub == nil {
		newSub = func() Subscription[T] { return NewQueue[T](0) }
	}
	return &Producer[T]{lifecycle: lifecycle{NewEvents()}, newSub: newSub}
}

// Subscribe returns a new subscription of the producer's default kind that
// receives every item published from now on. Close the subscription (or call
// Unsubscribe) when done with it. Subscribing to a closed producer returns a
// closed subscription.
func (p *Producer[T]) Subscribe() Subscription[T] {
	return p.SubscribeWith(p.newSub())
}

// SubscribeWith registers s, a subscription of any kind, to receive every
// item, and returns it.
func (p *Producer[T]) SubscribeWith(s Subscription[T]) Subscription[T] {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.Close()
		return s
	}
	old := p.list()
	next := make([]Subscription[T], len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	p.subs.Store(&next)
	p.mu.Unlock()
	if n, ok := s.(onCloser); ok {
		n.addOnClose(func() { p.remove(s) })
	}
	return s
}

// SubscribeFunc calls f with every item, on a goroutine of its own, in order
// (RTCBot's subscribe(callback)). Items wait in a subscription of the
// producer's default kind while f runs, so with a latest-only producer a slow
// f skips items. Close the returned callback to unsubscribe.
func (p *Producer[T]) SubscribeFunc(f func(T)) *Callback[T] {
	c := newCallback(f, p.newSub())
	p.SubscribeWith(callbackSubscription[T]{c})
	return c
}

// Unsubscribe removes s and closes it. It reports whether s was subscribed;
// an unknown s is not an error.
func (p *Producer[T]) Unsubscribe(s Subscription[T]) bool {
	found := p.remove(s)
	if found {
		s.Close()
	}
	return found
}

// UnsubscribeAll removes and closes every subscription, the default one
// included. The producer stays open.
func (p *Producer[T]) UnsubscribeAll() {
	p.mu.Lock()
	subs := p.list()
	p.subs.Store(nil)
	p.def = nil
	p.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}

// Subscribers returns the number of subscriptions.
func (p *Producer[T]) Subscribers() int { return len(p.list()) }

func (p *Producer[T]) list() []Subscription[T] {
	if l := p.subs.Load(); l != nil {
		return *l
	}
	return nil
}

func (p *Producer[T]) remove(s Subscription[T]) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.list()
	i := slices.Index(old, s)
	if i < 0 {
		return false
	}
	next := slices.Delete(slices.Clone(old), i, i+1)
	p.subs.Store(&next)
	if p.def == s {
		p.def = nil
	}
	return true
}

// Publish hands item to every subscription without blocking. It is the
// producing side, for the source's own goroutine; publishing after Close
// does nothing.
func (p *Producer[T]) Publish(item T) {
	for _, s := range p.list() {
		s.Put(item)
	}
}

// Get reads the next item through the producer's default subscription, made
// on the first call (RTCBot's producer.get()).
func (p *Producer[T]) Get(ctx context.Context) (T, error) {
	def := p.defaultSubscription()
	if def == nil {
		var zero T
		return zero, ErrClosed
	}
	return def.Get(ctx)
}

// defaultSubscription returns the subscription Get reads, making it if
// there is none; nil once the producer is closed.
func (p *Producer[T]) defaultSubscription() Subscription[T] {
	p.mu.Lock()
	def, made := p.def, false
	if def == nil && !p.closed {
		def, made = p.newSub(), true
		p.def = def
	}
	p.mu.Unlock()
	if made {
		p.SubscribeWith(def)
	}
	return def
}

// Close stops the producer: every subscription is closed (its readers get
// what it holds, then ErrClosed) and the close event fires. It is
// idempotent.
func (p *Producer[T]) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	subs := p.list()
	p.subs.Store(nil)
	p.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	p.ev.SetClosed()
	return nil
}

// SetReady fires the producer's ready event (data started flowing); later
// calls, and calls after Close, do nothing. It is the producing side.
func (p *Producer[T]) SetReady() { p.ev.SetReady() }

// SetError reports err through the producer's error event (Err, OnError).
// Only the first error is kept; nil is ignored. It does not close the
// producer: a source that cannot go on calls Close after it. It is the
// producing side.
func (p *Producer[T]) SetError(err error) { p.ev.SetError(err) }
