package rtcbot

import (
	"context"
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
// The connection's default channel is embedded in Connection; others come
// from Connection.AddDataChannel and Connection.OnDataChannel.
type DataChannel struct {
	label    string
	log      *slog.Logger
	events   *Events
	received *Producer[any]
	outgoing *Consumer[any]

	nSent, nReceived atomic.Uint64 // messages

	mu       sync.Mutex
	dc       *webrtc.DataChannel
	open     chan struct{} // closed when the channel opens
	drained  chan struct{} // signalled when the send buffer drains
	isClosed bool
}

// DefaultMessageQueueCapacity bounds a data channel's queues of received and
// outgoing messages unless ConnectionSettings says otherwise. Queues take
// memory only for what they hold.
const DefaultMessageQueueCapacity = 1 << 16

func newDataChannel(label string, queueCapacity int, log *slog.Logger) *DataChannel {
	if queueCapacity <= 0 {
		queueCapacity = DefaultMessageQueueCapacity
	}
	d := &DataChannel{
		label:   label,
		log:     log,
		events:  NewEvents(),
		open:    make(chan struct{}),
		drained: make(chan struct{}, 1),
	}
	d.received = NewProducer(func() Subscription[any] { return NewQueue[any](queueCapacity) })
	d.outgoing = NewConsumer(d.send, func() Subscription[any] { return NewQueue[any](queueCapacity) })
	return d
}

// bind attaches the pion channel once it exists (created locally, or
// announced by the peer).
func (d *DataChannel) bind(dc *webrtc.DataChannel) {
	d.mu.Lock()
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
}

// send is the outgoing consumer's handler: it waits for the channel to open
// and for room in its send buffer, then sends one message.
func (d *DataChannel) send(msg any) {
	data, binary, err := encodeMessage(msg)
	if err != nil {
		d.log.Warn("rtcbot: message not sent", "channel", d.label, "err", err)
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
		d.log.Warn("rtcbot: message not sent", "channel", d.label, "err", err)
	}
}

// Label returns the channel's name ("default" for the connection's own).
func (d *DataChannel) Label() string { return d.label }

// Put sends msg without blocking: JSON-encoded as one text message, or as a
// binary message if it is a []byte. Messages wait in a bounded queue until the
// channel is open and has room. Like RTCBot's put_nowait, it stops an active
// PutSubscription. Messages over MaxMessageSize, or that cannot be
// JSON-encoded, are dropped with a warning in the log.
func (d *DataChannel) Put(msg any) { d.outgoing.Put(msg) }

// Send is Put, under the name RTCBot also uses.
func (d *DataChannel) Send(msg any) { d.outgoing.Put(msg) }

// PutSubscription sends every item src yields (a Source such as a gamepad
// mapped to messages, or any Getter), replacing the previous one.
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
}

// Stats returns the channel's message counts.
func (d *DataChannel) Stats() DataChannelStats {
	return DataChannelStats{MessagesSent: d.nSent.Load(), MessagesReceived: d.nReceived.Load()}
}

// Flush waits until every message sent so far (see Stats) has been
// acknowledged by the peer, or ctx ends, or the channel closes. Messages
// still waiting in the outgoing queue are not waited for. A program that
// must not lose its last messages calls Flush before Close.
func (d *DataChannel) Flush(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond) // pion signals only a low-water mark, not empty
	defer tick.Stop()
	for {
		d.mu.Lock()
		dc := d.dc
		d.mu.Unlock()
		if dc == nil || dc.BufferedAmount() == 0 {
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
