package rtcbot

import (
	"context"
	"sync"
)

// Events carries the life-cycle events every rtcbot object has, mirroring
// RTCBot's ready / error / closed: a ready event (data started flowing, or a
// connection opened), an error event, and a close event. Unlike RTCBot, each
// event fires exactly once, a callback added after its event already fired
// runs at once, and close never counts as ready.
//
// Callbacks run on the goroutine that fires the event (or, when added late,
// on the goroutine that adds them); they must not block for long.
//
// Events is a building block for objects of your own: the object holds the
// *Events that NewEvents returns and fires the events with SetReady,
// SetError and SetClosed, which are its implementation's side. rtcbot's own
// objects keep their Events unexported and show only the observing side
// (Ready, Err, Wait, OnReady, OnClose, OnError, ...). The zero value is not
// usable.
type Events struct {
	mu      sync.Mutex
	ready   chan struct{}
	done    chan struct{}
	err     error
	onReady []func()
	onClose []func()
	onError []func(error)
}

// NewEvents returns Events with no event fired yet.
func NewEvents() *Events {
	return &Events{ready: make(chan struct{}), done: make(chan struct{})}
}

// Ready returns a channel that is closed once the object is ready.
func (e *Events) Ready() <-chan struct{} { return e.ready }

// IsReady reports whether the ready event has fired.
func (e *Events) IsReady() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// Done returns a channel that is closed once the object is closed.
func (e *Events) Done() <-chan struct{} { return e.done }

// IsClosed reports whether the close event has fired.
func (e *Events) IsClosed() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Err returns the error that was reported, if any. An object that closed
// normally has none.
func (e *Events) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Wait blocks until the object closes (RTCBot's "await obj") or ctx ends. It
// returns the object's error, if one was reported, or ctx's error.
func (e *Events) Wait(ctx context.Context) error {
	select {
	case <-e.done:
		return e.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// OnReady registers f to run once when the object becomes ready. If it is
// ready already, f runs now; if it closed without becoming ready, never.
func (e *Events) OnReady(f func()) {
	e.mu.Lock()
	if !e.IsReady() {
		if !e.IsClosed() {
			e.onReady = append(e.onReady, f)
		}
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	f()
}

// OnClose registers f to run once when the object closes. If it is closed
// already, f runs now.
func (e *Events) OnClose(f func()) {
	e.mu.Lock()
	if !e.IsClosed() {
		e.onClose = append(e.onClose, f)
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	f()
}

// OnError registers f to run with the object's error when one is reported.
// If one was reported already, f runs now.
func (e *Events) OnError(f func(error)) {
	e.mu.Lock()
	if e.err == nil {
		e.onError = append(e.onError, f)
		e.mu.Unlock()
		return
	}
	err := e.err
	e.mu.Unlock()
	f(err)
}

// SetReady fires the ready event. Later calls, and calls after close, do
// nothing. It is the object's implementation's side (a source calls it when
// its data starts flowing).
func (e *Events) SetReady() {
	e.mu.Lock()
	if e.IsReady() || e.IsClosed() {
		e.mu.Unlock()
		return
	}
	close(e.ready)
	fs := e.onReady
	e.onReady = nil
	e.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// SetError records err as the object's error and fires the error event. Only
// the first error is kept; nil is ignored. It does not close the object.
func (e *Events) SetError(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	if e.err != nil {
		e.mu.Unlock()
		return
	}
	e.err = err
	fs := e.onError
	e.onError = nil
	e.mu.Unlock()
	for _, f := range fs {
		f(err)
	}
}

// SetClosed fires the close event; it reports whether this call fired it
// (false when it had fired before). It is for the object's Close.
func (e *Events) SetClosed() bool {
	e.mu.Lock()
	if e.IsClosed() {
		e.mu.Unlock()
		return false
	}
	close(e.done)
	fs := e.onClose
	e.onClose, e.onReady = nil, nil
	e.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return true
}
