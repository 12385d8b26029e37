package rtcbot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Flow control for outgoing messages: the sender waits while more than
// sendBufferHigh bytes are queued in the channel, until it drains below
// sendBufferLow.
const (
	sendBufferHigh = 1 << 20
	sendBufferLow  = 256 << 10
)

// DataChannel is one WebRTC data channel carrying RTCBot messages. It is
// both a producer of the messages it receives and a consumer of the messages
// it sends, like RTCBot's data channels:
//
//   - Put (alias Send) JSON-encodes any value into one text message ([]byte
//     goes as a binary message); PutSubscription sends everything a source
//     produces. Messages put before the channel opens wait for it.
//   - Subscribe, SubscribeFunc and Get yield received messages: text is
//     JSON-decoded (map[string]any, []any, float64, string, bool, nil), text
//     that is not JSON arrives as a string, and binary messages as []byte.
//     DecodeMessage converts a message into a struct.
//
// A message that cannot be sent (not JSON-encodable, over MaxMessageSize,
// refused by the transport) fires the channel's error event and is logged;
// Stats counts it, with the messages dropped because the outgoing queue was
// full.
//
// A latest-only channel (Connection.AddLatestChannel, or a channel the peer
// opens unordered with no retransmissions) keeps only the newest message in
// its queues, for commands where only the newest one matters.
//
// The connection's default channel carries Connection's own Put and
// Subscribe (DataChannelByName(DefaultChannelLabel) returns it); others
// come from Connection.AddDataChannel, AddLatestChannel and OnDataChannel.
type DataChannel struct {
	label    string
	latest   bool
	log      *slog.Logger
	events   *Events
	received *Producer[any]
	outgoing *Consumer[any]
	outQueue atomic.Pointer[Queue[any]] // the buffer of Put, once made

	nSent, nReceived, nFailed atomic.Uint64 // messages
	sending                   atomic.Int32  // messages being sent now
	failures                  warnOnce

	mu       sync.Mutex
	dc       *webrtc.DataChannel
	open     chan struct{} // closed when the channel opens
	drained  chan struct{} // signalled when the send buffer drains
	isClosed bool
}

// DefaultMessageQueueCapacity bounds each subscription to a data channel's
// received messages, and its queue of outgoing messages, unless
// ConnectionSettings says otherwise: 64 messages, 0.64 s of commands at
// 100 Hz, so a handler that falls behind never works through minutes of
// stale drive commands. A full queue drops its oldest message. A program
// that must not lose a message subscribes with a queue of its own
// (SubscribeWith(NewQueue[any](n))) and sends with PutSubscription, which
// waits for the network instead of dropping.
const DefaultMessageQueueCapacity = 64

func newDataChannel(label string, queueCapacity int, latest bool, log *slog.Logger) *DataChannel {
	if queueCapacity <= 0 {
		queueCapacity = DefaultMessageQueueCapacity
	}
	d := &DataChannel{
		label:   label,
		latest:  latest,
		log:     log,
		events:  NewEvents(),
		open:    make(chan struct{}),
		drained: make(chan struct{}, 1),
	}
	if latest {
		d.received = NewProducer(func() Subscription[any] { return NewLatest[any]() })
		d.outgoing = NewConsumer(d.send, func() Subscription[any] { return NewLatest[any]() })
		return d
	}
	d.received = NewProducer(func() Subscription[any] { return NewQueue[any](queueCapacity) })
	d.outgoing = NewConsumer(d.send, func() Subscription[any] {
		q := NewQueue[any](queueCapacity)
		d.outQueue.Store(q)
		return q
	})
	return d
}

// isLatestOnly reports whether a channel's reliability makes it latest-only:
// unordered, with no retransmissions.
func isLatestOnly(dc *webrtc.DataChannel) bool {
	r := dc.MaxRetransmits()
	return !dc.Ordered() && r != nil && *r == 0
}

// bind attaches the pion channel once it exists (created locally, or
// announced by the peer). It reports false, leaving d as it was, if d has a
// channel already.
func (d *DataChannel) bind(dc *webrtc.DataChannel) bool {
	d.mu.Lock()
	if d.dc != nil {
		d.mu.Unlock()
		return false
	}
	d.dc = dc
	d.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(sendBufferLow)
	dc.OnBufferedAmountLow(func() {
		select {
		case d.drained <- struct{}{}:
		default:
		}
	})
	dc.OnOpen(func() {
		close(d.open)
		d.events.SetReady()
	})
	dc.OnClose(func() { d.Close() })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		d.nReceived.Add(1)
		if msg.IsString {
			d.received.Publish(decodeText(msg.Data))
			return
		}
		d.received.Publish(append([]byte(nil), msg.Data...))
	})
	return true
}

// send is the outgoing consumer's handler: it waits for the channel to open
// and for room in its send buffer, then sends one message.
func (d *DataChannel) send(msg any) {
	d.sending.Add(1)
	defer d.sending.Add(-1)
	data, binary, err := encodeMessage(msg)
	if err != nil {
		d.fail(err)
		return
	}
	select {
	case <-d.open:
	case <-d.events.Done():
		return
	}
	d.mu.Lock()
	dc := d.dc
	d.mu.Unlock()
	for dc.BufferedAmount() > sendBufferHigh {
		select {
		case <-d.drained:
		case <-d.events.Done():
			return
		}
	}
	if binary {
		err = dc.Send(data)
	} else {
		err = dc.SendText(string(data))
	}
	if err == nil {
		d.nSent.Add(1)
	} else if !d.events.IsClosed() && dc.ReadyState() == webrtc.DataChannelStateOpen {
		d.fail(fmt.Errorf("rtcbot: send on channel %q: %w", d.label, err))
	}
}

// fail reports a message that could not be sent: counted, the channel's
// error event, and a warning in the log the first time (later ones at debug
// level, so a program sending bad messages in a loop does not flood it).
func (d *DataChannel) fail(err error) {
	d.nFailed.Add(1)
	d.failures.log(d.log, "rtcbot: message not sent", "channel", d.label, "err", err)
	d.events.SetError(err)
}

// Label returns the channel's name ("default" for the connection's own).
func (d *DataChannel) Label() string { return d.label }

// Put sends msg without blocking: JSON-encoded as one text message, or as a
// binary message if it is a []byte. Messages wait in a bounded queue until the
// channel is open and has room (see DefaultMessageQueueCapacity). Like
// RTCBot's put_nowait, it stops an active PutSubscription. Messages over
// MaxMessageSize, or that cannot be JSON-encoded, are not sent: the error
// event fires and the log says so.
func (d *DataChannel) Put(msg any) { d.outgoing.Put(msg) }

// Send is Put, under the name RTCBot also uses.
func (d *DataChannel) Send(msg any) { d.outgoing.Put(msg) }

// PutSubscription sends every item src yields (a Source such as a gamepad
// mapped to messages, or any Getter), replacing the previous one. Items are
// read from src only as fast as the network takes them, so a queue of the
// caller's own loses nothing.
func (d *DataChannel) PutSubscription(src Getter[any]) { d.outgoing.PutSubscription(src) }

// StopSubscription stops sending from the active PutSubscription.
func (d *DataChannel) StopSubscription() { d.outgoing.StopSubscription() }

// Subscribe returns a new queue of received messages.
func (d *DataChannel) Subscribe() Subscription[any] { return d.received.Subscribe() }

// SubscribeWith registers s to receive every message and returns it.
func (d *DataChannel) SubscribeWith(s Subscription[any]) Subscription[any] {
	return d.received.SubscribeWith(s)
}

// SubscribeFunc calls f with every received message, in order, on a
// goroutine of its own (RTCBot's @conn.subscribe).
func (d *DataChannel) SubscribeFunc(f func(msg any)) *Callback[any] {
	return d.received.SubscribeFunc(f)
}

// Unsubscribe removes and closes s; it reports whether s was subscribed.
func (d *DataChannel) Unsubscribe(s Subscription[any]) bool { return d.received.Unsubscribe(s) }

// UnsubscribeAll removes and closes every subscription to received messages.
func (d *DataChannel) UnsubscribeAll() { d.received.UnsubscribeAll() }

// Get returns the next received message through a default subscription.
func (d *DataChannel) Get(ctx context.Context) (any, error) { return d.received.Get(ctx) }

// DataChannelStats counts a data channel's messages.
type DataChannelStats struct {
	// MessagesSent is the number of messages handed to the channel.
	MessagesSent uint64
	// MessagesReceived is the number of messages received.
	MessagesReceived uint64
	// MessagesNotSent is the number of messages that could not be sent: not
	// encodable, too large, refused by the transport, or dropped from a full
	// queue of Put.
	MessagesNotSent uint64
}

// Stats returns the channel's message counts.
func (d *DataChannel) Stats() DataChannelStats {
	notSent := d.nFailed.Load()
	if q := d.outQueue.Load(); q != nil {
		notSent += q.Dropped()
	}
	return DataChannelStats{MessagesSent: d.nSent.Load(), MessagesReceived: d.nReceived.Load(), MessagesNotSent: notSent}
}

// Flush waits until every message put so far has been sent and
// acknowledged by the peer, or ctx ends, or the channel closes. Items a
// PutSubscription source still holds are not waited for: stop it first
// (StopSubscription). A program that must not lose its last messages calls
// Flush before Close.
func (d *DataChannel) Flush(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond) // pion signals only a low-water mark, not empty
	defer tick.Stop()
	for {
		d.mu.Lock()
		dc := d.dc
		d.mu.Unlock()
		if dc == nil { // never connected: nothing can be delivered
			return nil
		}
		q := d.outQueue.Load()
		if (q == nil || q.Len() == 0) && d.sending.Load() == 0 && dc.BufferedAmount() == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-d.events.Done():
			return ErrClosed
		}
	}
}

// Ready returns a channel closed when the data channel opens.
func (d *DataChannel) Ready() <-chan struct{} { return d.events.Ready() }

// OnReady runs f once the channel is open (at once if it is).
func (d *DataChannel) OnReady(f func()) { d.events.OnReady(f) }

// Done returns a channel closed when the data channel has closed.
func (d *DataChannel) Done() <-chan struct{} { return d.events.Done() }

// OnError runs f with the channel's first error (a message that could not be
// sent), at once if there was one.
func (d *DataChannel) OnError(f func(error)) { d.events.OnError(f) }

// Err returns the channel's first error, nil if it had none.
func (d *DataChannel) Err() error { return d.events.Err() }

// IsLatestOnly reports whether the channel keeps only the newest message
// (see AddLatestChannel).
func (d *DataChannel) IsLatestOnly() bool { return d.latest }

// OnClose runs f once the channel has closed (at once if it has).
func (d *DataChannel) OnClose(f func()) { d.events.OnClose(f) }

// Close closes the channel: subscriptions to received messages end with
// ErrClosed, unsent messages are dropped, and the peer's side closes too.
func (d *DataChannel) Close() error {
	d.mu.Lock()
	if d.isClosed {
		d.mu.Unlock()
		return nil
	}
	d.isClosed = true
	dc := d.dc
	d.mu.Unlock()
	d.events.SetClosed() // first, so a send waiting for the channel gives up
	d.outgoing.Close()
	d.received.Close()
	if dc != nil {
		return dc.Close()
	}
	return nil
}
