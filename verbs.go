package rtcbot

import "context"

// The types in this file give rtcbot's devices and streams RTCBot's verbs
// and nothing else. A device embeds one of them, unexported, so its method
// set (and go doc) shows Subscribe, PutSubscription, Close, OnReady and the
// rest, while the implementation methods (Publish, SetReady, SetError) stay
// on the *Producer, *Consumer or *Events the device holds in an unexported
// field. api_test.go checks the method sets.

// lifecycle forwards the observing side of Events: what a user of an object
// may ask about its ready, error and close events.
type lifecycle struct{ ev *Events }

// Ready returns a channel that is closed once the object is ready.
func (l lifecycle) Ready() <-chan struct{} { return l.ev.Ready() }

// IsReady reports whether the ready event has fired.
func (l lifecycle) IsReady() bool { return l.ev.IsReady() }

// Done returns a channel that is closed once the object has closed.
func (l lifecycle) Done() <-chan struct{} { return l.ev.Done() }

// IsClosed reports whether the object has closed.
func (l lifecycle) IsClosed() bool { return l.ev.IsClosed() }

// Err returns the object's first error, nil if it had none. An object that
// closed normally has none.
func (l lifecycle) Err() error { return l.ev.Err() }

// Wait blocks until the object closes (RTCBot's "await obj") or ctx ends. It
// returns the object's error, if one was reported, or ctx's error.
func (l lifecycle) Wait(ctx context.Context) error { return l.ev.Wait(ctx) }

// OnReady registers f to run once when the object becomes ready (at once if
// it is; never if it closed without becoming ready).
func (l lifecycle) OnReady(f func()) { l.ev.OnReady(f) }

// OnClose registers f to run once when the object closes (at once if it
// has).
func (l lifecycle) OnClose(f func()) { l.ev.OnClose(f) }

// OnError registers f to run with the object's first error (at once if it
// had one).
func (l lifecycle) OnError(f func(error)) { l.ev.OnError(f) }

// source gives a device that produces items the verbs of a producer: a
// device embeds it and publishes through prod.
type source[T any] struct {
	lifecycle
	prod *Producer[T]
}

func newSource[T any](p *Producer[T]) source[T] {
	return source[T]{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s source[T]) Subscribe() Subscription[T] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s source[T]) SubscribeWith(sub Subscription[T]) Subscription[T] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s source[T]) SubscribeFunc(f func(T)) *Callback[T] { return s.prod.SubscribeFunc(f) }

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s source[T]) Unsubscribe(sub Subscription[T]) bool { return s.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (s source[T]) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s source[T]) Get(ctx context.Context) (T, error) { return s.prod.Get(ctx) }

// sink gives a device that consumes items the verbs of a consumer: a device
// embeds it and reports through cons.
type sink[T any] struct {
	lifecycle
	cons *Consumer[T]
}

func newSink[T any](c *Consumer[T]) sink[T] {
	return sink[T]{lifecycle: lifecycle{c.ev}, cons: c}
}

// PutSubscription makes src the device's input, replacing the previous one
// (RTCBot's putSubscription). src may be any subscription or Getter, or a
// Source such as a producer, which the device subscribes to; nil stops the
// input.
func (s sink[T]) PutSubscription(src Getter[T]) { s.cons.PutSubscription(src) }

// Put hands item to the device without blocking (RTCBot's put_nowait); it
// stops any active subscription first.
func (s sink[T]) Put(item T) { s.cons.Put(item) }

// StopSubscription stops reading the active input; the device stays open.
func (s sink[T]) StopSubscription() { s.cons.StopSubscription() }

// Subscription returns the active input, or nil when there is none.
func (s sink[T]) Subscription() Getter[T] { return s.cons.Subscription() }
