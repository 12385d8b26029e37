package rtcbot

import (
	"context"
	"image"
)

// The types in this file give rtcbot's devices RTCBot's verbs and nothing
// else. A device embeds one of them, unexported, so its method set (and go
// doc) shows Subscribe, PutSubscription, Close, OnReady and the rest, while
// the implementation side (Publish, SetReady, SetError) stays on the
// *Producer or *Consumer the device holds in the wrapper's unexported field.
// The wrappers are written out per item type, not generic, so that go doc
// shows each device's methods with its own types. api_test.go checks the
// method sets.

// lifecycle forwards the observing side of Events: what a user of an object
// may ask about its ready, error and close events.
type lifecycle struct{ ev *Events }

// Ready returns a channel that is closed once the object is ready.
func (l *lifecycle) Ready() <-chan struct{} { return l.ev.Ready() }

// IsReady reports whether the ready event has fired.
func (l *lifecycle) IsReady() bool { return l.ev.IsReady() }

// Done returns a channel that is closed once the object has closed.
func (l *lifecycle) Done() <-chan struct{} { return l.ev.Done() }

// IsClosed reports whether the object has closed.
func (l *lifecycle) IsClosed() bool { return l.ev.IsClosed() }

// Err returns the object's first error, nil if it had none. An object that
// closed normally has none.
func (l *lifecycle) Err() error { return l.ev.Err() }

// Wait blocks until the object closes (RTCBot's "await obj") or ctx ends. It
// returns the object's error, if one was reported, or ctx's error.
func (l *lifecycle) Wait(ctx context.Context) error { return l.ev.Wait(ctx) }

// OnReady registers f to run once when the object becomes ready (at once if
// it is; never if it closed without becoming ready).
func (l *lifecycle) OnReady(f func()) { l.ev.OnReady(f) }

// OnClose registers f to run once when the object closes (at once if it
// has).
func (l *lifecycle) OnClose(f func()) { l.ev.OnClose(f) }

// OnError registers f to run with the object's first error (at once if it
// had one).
func (l *lifecycle) OnError(f func(error)) { l.ev.OnError(f) }

// frameSource gives a device producing video frames the verbs of a producer: the
// device embeds it and publishes through prod.
type frameSource struct {
	lifecycle
	prod *Producer[image.Image]
}

func newFrameSource(p *Producer[image.Image]) frameSource {
	return frameSource{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s *frameSource) Subscribe() Subscription[image.Image] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s *frameSource) SubscribeWith(sub Subscription[image.Image]) Subscription[image.Image] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s *frameSource) SubscribeFunc(f func(image.Image)) *Callback[image.Image] {
	return s.prod.SubscribeFunc(f)
}

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s *frameSource) Unsubscribe(sub Subscription[image.Image]) bool { return s.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (s *frameSource) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s *frameSource) Get(ctx context.Context) (image.Image, error) { return s.prod.Get(ctx) }

// audioSource gives a device producing audio the verbs of a producer: the
// device embeds it and publishes through prod.
type audioSource struct {
	lifecycle
	prod *Producer[AudioChunk]
}

func newAudioSource(p *Producer[AudioChunk]) audioSource {
	return audioSource{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s *audioSource) Subscribe() Subscription[AudioChunk] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s *audioSource) SubscribeWith(sub Subscription[AudioChunk]) Subscription[AudioChunk] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s *audioSource) SubscribeFunc(f func(AudioChunk)) *Callback[AudioChunk] {
	return s.prod.SubscribeFunc(f)
}

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s *audioSource) Unsubscribe(sub Subscription[AudioChunk]) bool { return s.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (s *audioSource) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s *audioSource) Get(ctx context.Context) (AudioChunk, error) { return s.prod.Get(ctx) }

// inputSource gives a device producing input events the verbs of a producer: the
// device embeds it and publishes through prod.
type inputSource struct {
	lifecycle
	prod *Producer[InputEvent]
}

func newInputSource(p *Producer[InputEvent]) inputSource {
	return inputSource{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s *inputSource) Subscribe() Subscription[InputEvent] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s *inputSource) SubscribeWith(sub Subscription[InputEvent]) Subscription[InputEvent] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s *inputSource) SubscribeFunc(f func(InputEvent)) *Callback[InputEvent] {
	return s.prod.SubscribeFunc(f)
}

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s *inputSource) Unsubscribe(sub Subscription[InputEvent]) bool { return s.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (s *inputSource) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s *inputSource) Get(ctx context.Context) (InputEvent, error) { return s.prod.Get(ctx) }

// frameSink gives a device consuming video frames the verbs of a consumer: the
// device embeds it and reports through cons.
type frameSink struct {
	lifecycle
	cons *Consumer[image.Image]
}

func newFrameSink(c *Consumer[image.Image]) frameSink {
	return frameSink{lifecycle: lifecycle{c.ev}, cons: c}
}

// PutSubscription makes src the device's input, replacing the previous one
// (RTCBot's putSubscription). src may be any subscription or Getter, or a
// Source such as a producer, which the device subscribes to; nil stops the
// input.
func (s *frameSink) PutSubscription(src Getter[image.Image]) { s.cons.PutSubscription(src) }

// Put hands item to the device without blocking (RTCBot's put_nowait); it
// stops any active subscription first.
func (s *frameSink) Put(item image.Image) { s.cons.Put(item) }

// StopSubscription stops reading the active input; the device stays open.
func (s *frameSink) StopSubscription() { s.cons.StopSubscription() }

// Subscription returns the active input, or nil when there is none.
func (s *frameSink) Subscription() Getter[image.Image] { return s.cons.Subscription() }

// audioSink gives a device consuming audio the verbs of a consumer: the
// device embeds it and reports through cons.
type audioSink struct {
	lifecycle
	cons *Consumer[AudioChunk]
}

func newAudioSink(c *Consumer[AudioChunk]) audioSink {
	return audioSink{lifecycle: lifecycle{c.ev}, cons: c}
}

// PutSubscription makes src the device's input, replacing the previous one
// (RTCBot's putSubscription). src may be any subscription or Getter, or a
// Source such as a producer, which the device subscribes to; nil stops the
// input.
func (s *audioSink) PutSubscription(src Getter[AudioChunk]) { s.cons.PutSubscription(src) }

// Put hands item to the device without blocking (RTCBot's put_nowait); it
// stops any active subscription first.
func (s *audioSink) Put(item AudioChunk) { s.cons.Put(item) }

// StopSubscription stops reading the active input; the device stays open.
func (s *audioSink) StopSubscription() { s.cons.StopSubscription() }

// Subscription returns the active input, or nil when there is none.
func (s *audioSink) Subscription() Getter[AudioChunk] { return s.cons.Subscription() }

// encodedFrameSource gives a source of encoded video the verbs of a
// producer: the source embeds it and publishes through prod.
type encodedFrameSource struct {
	lifecycle
	prod *Producer[EncodedFrame]
}

func newEncodedFrameSource(p *Producer[EncodedFrame]) encodedFrameSource {
	return encodedFrameSource{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the source's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s *encodedFrameSource) Subscribe() Subscription[EncodedFrame] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s *encodedFrameSource) SubscribeWith(sub Subscription[EncodedFrame]) Subscription[EncodedFrame] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s *encodedFrameSource) SubscribeFunc(f func(EncodedFrame)) *Callback[EncodedFrame] {
	return s.prod.SubscribeFunc(f)
}

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s *encodedFrameSource) Unsubscribe(sub Subscription[EncodedFrame]) bool {
	return s.prod.Unsubscribe(sub)
}

// UnsubscribeAll removes and closes every subscription. The source stays
// open.
func (s *encodedFrameSource) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s *encodedFrameSource) Get(ctx context.Context) (EncodedFrame, error) { return s.prod.Get(ctx) }

// recordLink gives a device that both produces and consumes untyped items
// (a serial link's records or lines) the verbs of a producer and of a
// consumer. Its events are the device's own, not the producer's or the
// consumer's, so they are shown once.
type recordLink struct {
	lifecycle
	prod *Producer[any]
	cons *Consumer[any]
}

func newRecordLink(ev *Events, p *Producer[any], c *Consumer[any]) recordLink {
	return recordLink{lifecycle: lifecycle{ev}, prod: p, cons: c}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (l *recordLink) Subscribe() Subscription[any] { return l.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (l *recordLink) SubscribeWith(sub Subscription[any]) Subscription[any] {
	return l.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (l *recordLink) SubscribeFunc(f func(any)) *Callback[any] { return l.prod.SubscribeFunc(f) }

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (l *recordLink) Unsubscribe(sub Subscription[any]) bool { return l.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (l *recordLink) UnsubscribeAll() { l.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (l *recordLink) Get(ctx context.Context) (any, error) { return l.prod.Get(ctx) }

// PutSubscription makes src the device's input, replacing the previous one
// (RTCBot's putSubscription). src may be any subscription or Getter, or a
// Source such as a producer, which the device subscribes to; nil stops the
// input.
func (l *recordLink) PutSubscription(src Getter[any]) { l.cons.PutSubscription(src) }

// Put hands item to the device without blocking (RTCBot's put_nowait); it
// stops any active subscription first.
func (l *recordLink) Put(item any) { l.cons.Put(item) }

// StopSubscription stops reading the active input; the device stays open.
func (l *recordLink) StopSubscription() { l.cons.StopSubscription() }

// Subscription returns the active input, or nil when there is none.
func (l *recordLink) Subscription() Getter[any] { return l.cons.Subscription() }

// fixSource gives a device producing GPS fixes the verbs of a producer:
// the device embeds it and publishes through prod.
type fixSource struct {
	lifecycle
	prod *Producer[GPSFix]
}

func newFixSource(p *Producer[GPSFix]) fixSource {
	return fixSource{lifecycle: lifecycle{p.ev}, prod: p}
}

// Subscribe returns a new subscription of the device's default kind that
// receives every item from now on. Close it (or call Unsubscribe) when done
// with it.
func (s *fixSource) Subscribe() Subscription[GPSFix] { return s.prod.Subscribe() }

// SubscribeWith registers sub, a subscription of any kind, to receive every
// item, and returns it.
func (s *fixSource) SubscribeWith(sub Subscription[GPSFix]) Subscription[GPSFix] {
	return s.prod.SubscribeWith(sub)
}

// SubscribeFunc calls f with every item, in order, on a goroutine of its own
// (RTCBot's subscribe(callback)). Close the returned callback to
// unsubscribe.
func (s *fixSource) SubscribeFunc(f func(GPSFix)) *Callback[GPSFix] { return s.prod.SubscribeFunc(f) }

// Unsubscribe removes sub and closes it. It reports whether sub was
// subscribed; an unknown sub is not an error.
func (s *fixSource) Unsubscribe(sub Subscription[GPSFix]) bool { return s.prod.Unsubscribe(sub) }

// UnsubscribeAll removes and closes every subscription. The device stays
// open.
func (s *fixSource) UnsubscribeAll() { s.prod.UnsubscribeAll() }

// Get reads the next item through a default subscription made on the first
// call (RTCBot's get()).
func (s *fixSource) Get(ctx context.Context) (GPSFix, error) { return s.prod.Get(ctx) }
