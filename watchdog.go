package rtcbot

import (
	"context"
	"sync"
	"time"
)

// DefaultWatchdogTimeout is the timeout of a Watchdog made with none: a
// quarter of a second, several control messages at RTCBot's rates, and a
// short coast for a robot whose controller went silent.
const DefaultWatchdogTimeout = 250 * time.Millisecond

// Watchdog is a subscription for teleoperation controls that notices when
// they stop: when no message has been put for its timeout (the link dropped,
// the desktop hung, the operator's page closed) it fires OnTimeout, so the
// robot can stop its motors, and when messages come again it fires
// OnResume. Neither RTCBot, aiortc nor pion has one.
//
//	controls := rtcbot.NewWatchdog[any](250*time.Millisecond, nil)
//	conn.SubscribeWith(controls)
//	controls.OnTimeout(motors.Stop)
//	for {
//		msg, err := controls.Get(ctx)
//		...
//	}
//
// The timeout runs from the watchdog's creation, so a robot that never
// hears from a controller is told so after one timeout too. Closing the
// watchdog (as closing the connection it is subscribed to does) fires
// OnTimeout if the controls were live: a robot whose connection ends stops.
// The events alternate, timeout first, each delivered once and in order;
// handlers run on the goroutine that noticed the change (a timer's, or the
// one putting the message) and must return quickly: stop the motors, set a
// flag.
//
// Messages themselves pass through a buffer subscription, read with Get.
type Watchdog[T any] struct {
	buf     Subscription[T]
	timeout time.Duration

	mu        sync.Mutex
	timer     *time.Timer
	last      time.Time // of the last Put
	timedOut  bool
	closed    bool
	seq       uint64 // events so far
	onTimeout []func()
	onResume  []func()

	deliver   sync.Mutex
	delivered uint64 // events whose handlers have run
	turn      *sync.Cond
}

// NewWatchdog returns a watchdog that fires after timeout without a message
// (DefaultWatchdogTimeout if zero), buffering messages in buf (nil means a
// NewQueue of DefaultMessageQueueCapacity, so a slow reader never works
// through a backlog of stale commands).
func NewWatchdog[T any](timeout time.Duration, buf Subscription[T]) *Watchdog[T] {
	if timeout <= 0 {
		timeout = DefaultWatchdogTimeout
	}
	if buf == nil {
		buf = NewQueue[T](DefaultMessageQueueCapacity)
	}
	w := &Watchdog[T]{buf: buf, timeout: timeout, last: time.Now()}
	w.turn = sync.NewCond(&w.deliver)
	w.mu.Lock() // check waits for w.timer
	w.timer = time.AfterFunc(timeout, w.check)
	w.mu.Unlock()
	return w
}

// Timeout returns the watchdog's timeout.
func (w *Watchdog[T]) Timeout() time.Duration { return w.timeout }

// Put buffers a message and restarts the timeout; after a timeout it fires
// OnResume.
func (w *Watchdog[T]) Put(item T) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.last = time.Now()
	var fs []func()
	var seq uint64
	if w.timedOut {
		w.timedOut = false
		w.timer.Reset(w.timeout)
		w.seq++
		seq, fs = w.seq, w.onResume
	}
	w.mu.Unlock()
	w.buf.Put(item)
	if seq != 0 {
		w.run(seq, fs)
	}
}

// check runs when the timer fires: it reports a timeout if no message came
// within the timeout, or waits for the rest of it.
func (w *Watchdog[T]) check() {
	w.mu.Lock()
	if w.closed || w.timedOut {
		w.mu.Unlock()
		return
	}
	if idle := time.Since(w.last); idle < w.timeout {
		w.timer.Reset(w.timeout - idle)
		w.mu.Unlock()
		return
	}
	seq, fs := w.timeOut()
	w.mu.Unlock()
	w.run(seq, fs)
}

// timeOut records a timeout event, under w.mu, and returns it.
func (w *Watchdog[T]) timeOut() (uint64, []func()) {
	w.timedOut = true
	w.seq++
	return w.seq, w.onTimeout
}

// run calls the handlers of event seq once the earlier events' handlers
// have run, so handlers see the events in order.
func (w *Watchdog[T]) run(seq uint64, fs []func()) {
	w.deliver.Lock()
	for w.delivered+1 != seq {
		w.turn.Wait()
	}
	w.deliver.Unlock()
	for _, f := range fs {
		f()
	}
	w.deliver.Lock()
	w.delivered = seq
	w.turn.Broadcast()
	w.deliver.Unlock()
}

// TimedOut reports whether the controls are silent now: no message for the
// timeout, or the watchdog closed.
func (w *Watchdog[T]) TimedOut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.timedOut
}

// OnTimeout runs f each time the messages stop for the timeout, and at
// Close if they had not; at once as well if they are stopped now.
func (w *Watchdog[T]) OnTimeout(f func()) {
	w.mu.Lock()
	w.onTimeout = append(w.onTimeout, f)
	now := w.timedOut
	w.mu.Unlock()
	if now {
		f()
	}
}

// OnResume runs f each time a message comes after a timeout.
func (w *Watchdog[T]) OnResume(f func()) {
	w.mu.Lock()
	w.onResume = append(w.onResume, f)
	w.mu.Unlock()
}

// Get returns the next buffered message, waiting for one if needed.
func (w *Watchdog[T]) Get(ctx context.Context) (T, error) { return w.buf.Get(ctx) }

// Close stops the watchdog and closes its buffer (readers get what it holds,
// then ErrClosed). If the controls were live it fires OnTimeout first.
func (w *Watchdog[T]) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.timer.Stop()
	var seq uint64
	var fs []func()
	if !w.timedOut {
		seq, fs = w.timeOut()
	}
	w.mu.Unlock()
	if seq != 0 {
		w.run(seq, fs)
	}
	return w.buf.Close()
}

func (w *Watchdog[T]) addOnClose(f func()) {
	if n, ok := w.buf.(onCloser); ok {
		n.addOnClose(f)
	}
}
