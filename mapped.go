package rtcbot

import (
	"context"
	"sync"
)

// Mapped is a Source of B made from a Source of A by a function, the small
// typed adapter that connects producers and consumers of different types:
// for example gamepad events into a connection's messages,
//
//	conn.PutSubscription(rtcbot.Map(gamepad, func(e rtcbot.InputEvent) any { return e }))
//
// Each subscription to a Mapped subscribes to the underlying source; the
// function runs on the source's publishing goroutine, so it must be quick.
// Closing the source closes the mapped subscriptions too.
type Mapped[A, B any] struct {
	src    Source[A]
	f      func(A) B
	newSub func() Subscription[B]

	mu   sync.Mutex
	subs map[Subscription[B]]*mapInto[A, B]
	def  Subscription[B]
}

// Map returns a Source of B whose items are f applied to the items of src.
// Its subscriptions are Queues of the default capacity; use MapWith for
// another kind (latest-only for video frames).
func Map[A, B any](src Source[A], f func(A) B) *Mapped[A, B] {
	return MapWith(src, f, func() Subscription[B] { return NewQueue[B](0) })
}

// MapWith is Map with subscriptions made by newSub, for example
// NewLatest[image.Image] to map a camera's frames:
//
//	gray := rtcbot.MapWith(cam, toGray, func() rtcbot.Subscription[image.Image] {
//		return rtcbot.NewLatest[image.Image]()
//	})
func MapWith[A, B any](src Source[A], f func(A) B, newSub func() Subscription[B]) *Mapped[A, B] {
	return &Mapped[A, B]{src: src, f: f, newSub: newSub, subs: make(map[Subscription[B]]*mapInto[A, B])}
}

// Subscribe returns a new subscription receiving f of every item of the
// underlying source. Closing it unsubscribes it.
func (m *Mapped[A, B]) Subscribe() Subscription[B] {
	return m.SubscribeWith(m.newSub())
}

// SubscribeWith subscribes s to f of every item of the underlying source and
// returns it. s must be comparable (a pointer, as all rtcbot subscriptions
// are).
func (m *Mapped[A, B]) SubscribeWith(s Subscription[B]) Subscription[B] {
	in := &mapInto[A, B]{out: s, f: m.f}
	m.mu.Lock()
	m.subs[s] = in
	m.mu.Unlock()
	m.src.SubscribeWith(in)
	// After subscribing in: if s is already closed the hook runs now, and
	// must find in subscribed to remove it.
	if n, ok := s.(onCloser); ok {
		n.addOnClose(func() { m.Unsubscribe(s) })
	}
	return s
}

// Unsubscribe unsubscribes s from the underlying source and closes it. It
// reports whether s was subscribed.
func (m *Mapped[A, B]) Unsubscribe(s Subscription[B]) bool {
	m.mu.Lock()
	in, ok := m.subs[s]
	delete(m.subs, s)
	if m.def == s {
		m.def = nil
	}
	m.mu.Unlock()
	if ok {
		m.src.Unsubscribe(in)
	}
	return ok
}

// Get reads the next mapped item through a default subscription made on the
// first call.
func (m *Mapped[A, B]) Get(ctx context.Context) (B, error) {
	m.mu.Lock()
	def, made := m.def, false
	if def == nil {
		def, made = m.newSub(), true
		m.def = def
	}
	m.mu.Unlock()
	if made {
		m.SubscribeWith(def)
	}
	return def.Get(ctx)
}

// mapInto is the subscription a Mapped registers with its source: it maps
// each item into the subscription it feeds, and closes that subscription
// when the source closes it.
type mapInto[A, B any] struct {
	out Subscription[B]
	f   func(A) B
}

func (m *mapInto[A, B]) Put(item A) { m.out.Put(m.f(item)) }

func (m *mapInto[A, B]) Get(context.Context) (A, error) {
	var zero A
	return zero, ErrClosed
}

func (m *mapInto[A, B]) Close() error { return m.out.Close() }
