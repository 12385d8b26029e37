package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Defaults of WebsocketSettings.
const (
	// DefaultWebsocketPingInterval is how often a Websocket pings its peer
	// to notice one that vanished without closing.
	DefaultWebsocketPingInterval = 15 * time.Second
	// DefaultWebsocketPingTimeout is how long a Websocket waits for the
	// answer to a ping before it takes the peer for gone.
	DefaultWebsocketPingTimeout = 10 * time.Second
	// DefaultWebsocketDialTimeout bounds each attempt of DialWebsocket to
	// connect, handshake included.
	DefaultWebsocketDialTimeout = 10 * time.Second
)

// websocketCloseTimeout bounds Close's closing handshake: a peer that does
// not answer the close frame in that time has its connection cut.
const websocketCloseTimeout = time.Second

// WebsocketSettings configures DialWebsocket (the client) and
// AcceptWebsocket and WebsocketHandler (the server). The zero value is a
// client that reconnects for ever and a server that takes pages of its own
// origin and programs from anywhere, without a token; both ping every 15 s.
type WebsocketSettings struct {
	// Token, if set, is sent by a client as the header "Authorization:
	// Bearer <token>"; a server requires it, in that header or as the URL's
	// "token" query parameter (a browser's WebSocket cannot set headers),
	// and refuses a request without it with 401, as HandlerSettings.Token
	// does.
	Token string
	// Header holds more headers a client sends with its handshake.
	Header http.Header
	// Client makes a client's handshakes (its Transport's TLS settings, a
	// proxy); nil means http.DefaultClient.
	Client *http.Client
	// AllowedOrigins lists, for a server, the web origins
	// ("https://ops.example.com", or host patterns such as
	// "*.example.com") whose pages may connect besides the server's own
	// origin; "*" allows every origin. By default, as coder/websocket's
	// Accept does, a page from another site is refused with 403, so that it
	// cannot reach the robot from the operator's browser. Requests without
	// an Origin header come from programs, not pages, and are not checked.
	AllowedOrigins []string

	// NoReconnect makes a client close (with the reason as its error, if
	// the connection failed) when its first attempt to connect fails or its
	// connection ends, instead of connecting again; RTCBot's Websocket never
	// reconnects. A server never reconnects.
	NoReconnect bool
	// MinDelay is a client's wait before connecting again after a failed
	// attempt or a lost connection (default 250 ms); each failure in a row
	// doubles it, up to MaxDelay (default 5 s), with up to a fifth more at
	// random. A connection that stayed up for MaxDelay starts the count
	// again.
	MinDelay, MaxDelay time.Duration
	// DialTimeout bounds each of a client's attempts to connect (default
	// DefaultWebsocketDialTimeout).
	DialTimeout time.Duration

	// PingInterval is how often the peer is pinged (default
	// DefaultWebsocketPingInterval; negative turns pings off). A peer that
	// does not answer within PingTimeout (default
	// DefaultWebsocketPingTimeout) is taken for gone: its connection is cut,
	// a server-side Websocket closes with ErrPeerLost and a client
	// reconnects.
	PingInterval, PingTimeout time.Duration

	// QueueCapacity bounds each subscription to received messages, and the
	// queue of messages Put waits in while there is no connection (default
	// DefaultMessageQueueCapacity): a full queue drops its oldest message.
	QueueCapacity int
	// Logger receives a line for each failed attempt to connect and each
	// lost connection (Info), and for each message that cannot be sent
	// (Warn the first time, then Debug); default slog.Default().
	Logger *slog.Logger
}

// withDefaults fills in the settings left at zero and checks the others.
func (s WebsocketSettings) withDefaults() (WebsocketSettings, error) {
	if s.MinDelay < 0 || s.MaxDelay < 0 || s.DialTimeout < 0 || s.PingTimeout < 0 || s.QueueCapacity < 0 {
		return s, fmt.Errorf("%w: WebsocketSettings: negative MinDelay, MaxDelay, DialTimeout, PingTimeout or QueueCapacity", ErrInvalidSettings)
	}
	if s.MinDelay == 0 {
		s.MinDelay = 250 * time.Millisecond
	}
	if s.MaxDelay < s.MinDelay {
		s.MaxDelay = max(5*time.Second, s.MinDelay)
	}
	if s.DialTimeout == 0 {
		s.DialTimeout = DefaultWebsocketDialTimeout
	}
	if s.PingInterval == 0 {
		s.PingInterval = DefaultWebsocketPingInterval
	}
	if s.PingTimeout == 0 {
		s.PingTimeout = DefaultWebsocketPingTimeout
	}
	if s.QueueCapacity == 0 {
		s.QueueCapacity = DefaultMessageQueueCapacity
	}
	if s.Client == nil {
		s.Client = http.DefaultClient
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s, nil
}

// Websocket carries RTCBot's messages over a websocket, RTCBot's Websocket:
// a source of the messages it receives and a sink of those it sends, as a
// DataChannel is.
//
//   - Put (alias Send) JSON-encodes any value into one text message (a
//     []byte goes as a binary message), as RTCBot does; PutSubscription
//     sends everything a source produces.
//   - Subscribe, SubscribeFunc and Get yield received messages: text is
//     JSON-decoded (map[string]any, []any, float64, string, bool, nil), text
//     that is not JSON arrives as a string, binary messages as []byte.
//     DecodeMessage converts a message into a struct.
//
// DialWebsocket makes a client, which connects in the background and
// connects again whenever its connection is lost (see
// WebsocketSettings.NoReconnect); AcceptWebsocket and WebsocketHandler make
// the server side of one connection, which closes when the peer goes away.
//
// Its ready event fires once, when it first connects; a reconnection fires
// no event: it is logged, and counted by Stats().Connections. While a
// client has no connection, messages put wait in a bounded queue
// (WebsocketSettings.QueueCapacity, 64 by default) that drops its oldest
// message when full, counted in Stats().MessagesNotSent; a PutSubscription
// source is not read meanwhile. A message being written when a connection
// drops is lost (and counted), as on any websocket.
//
// Limits: a message to send over MaxMessageSize, or not JSON-encodable, is
// not sent: the error event fires, the log says so and Stats counts it. A
// message from the peer over MaxMessageSize closes the connection with
// status 1009 (message too big) and fires the error event with
// ErrMessageTooLarge; a frame that breaks the websocket protocol closes it
// too. A peer that stops answering pings is taken for gone (see
// WebsocketSettings.PingInterval). A server-side Websocket whose connection
// ends so closes, with the reason as its error unless the peer closed it
// normally; a client reconnects.
//
// Messages that arrive before the first subscription (Subscribe,
// SubscribeWith, SubscribeFunc or Get) wait for it, up to QueueCapacity
// (the oldest dropped), so none is lost between AcceptWebsocket and the
// program's Subscribe; from then on, as from any source, a message goes to
// the subscriptions there are when it arrives.
type Websocket struct {
	lifecycle
	s        WebsocketSettings
	name     string // the URL, token hidden, or the peer's address
	received *Producer[any]
	outgoing *Consumer[any]
	outQueue atomic.Pointer[Queue[any]] // the buffer of Put, once made
	failures warnOnce

	// Messages received before the first subscription wait in held.
	heldMu     sync.Mutex
	held       []any
	subscribed atomic.Bool

	nSent, nReceived, nNotSent, nConnections atomic.Uint64
	sending                                  atomic.Int32 // messages being sent now
	firing                                   atomic.Int32 // ready or error callbacks running on its goroutines

	ctx    context.Context // ends with the Websocket: stops dialing, waiting and sending
	cancel context.CancelFunc
	exited chan struct{} // closed when the Websocket's goroutine ends

	mu         sync.Mutex
	conn       *websocket.Conn    // the connection, nil while there is none
	connCtx    context.Context    // the connection's writes and pings
	connCancel context.CancelFunc // cuts the connection
	connected  chan struct{}      // closed once conn is set
}

func newWebsocket(s WebsocketSettings, name string) *Websocket {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Websocket{
		lifecycle: lifecycle{NewEvents()},
		s:         s,
		name:      name,
		ctx:       ctx,
		cancel:    cancel,
		exited:    make(chan struct{}),
		connected: make(chan struct{}),
	}
	w.received = NewProducer(func() Subscription[any] { return NewQueue[any](s.QueueCapacity) })
	w.outgoing = NewConsumer(w.send, func() Subscription[any] {
		q := NewQueue[any](s.QueueCapacity)
		w.outQueue.Store(q)
		return q
	})
	return w
}

// DialWebsocket returns a Websocket client of the server at rawURL (ws://,
// wss://, or http:// and https://, taken for ws:// and wss://). It connects
// in the background: Ready tells when it is connected, and messages put
// before wait for it. Unless s.NoReconnect is set, it connects again
// whenever the connection is lost or cannot be made, waiting longer after
// each failure in a row (WebsocketSettings.MinDelay), until Close. A token
// in rawURL's query is sent as it is; logs and errors show the URL with it
// hidden.
//
// Its error is for a URL or settings that are not valid; it never depends
// on the network.
func DialWebsocket(rawURL string, s WebsocketSettings) (*Websocket, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	shown := redactToken(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: websocket URL %s: %w", ErrInvalidSettings, shown, redactURLError(err, shown))
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, fmt.Errorf("%w: websocket URL %s: the scheme must be ws, wss, http or https", ErrInvalidSettings, shown)
	}
	header := s.Header.Clone()
	if s.Token != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Authorization", "Bearer "+s.Token)
	}
	w := newWebsocket(s, shown)
	go w.runClient(rawURL, header)
	return w, nil
}

// AcceptWebsocket upgrades an incoming request to a websocket and returns
// its Websocket, the server side of one connection: ready at once, closed
// when the peer goes away (never reconnected), or by Close. The request is
// refused, and AcceptWebsocket returns the reason, if it lacks the token
// s.Token asks for (401, ErrUnauthorized), comes from a page of another
// origin than s.AllowedOrigins allows (403), or is not a websocket
// handshake (426 or 400); the answer to it has been written.
//
// Closing the http.Server does not close its websockets (their
// connections were taken over from it): close them when the server stops.
func AcceptWebsocket(rw http.ResponseWriter, r *http.Request, s WebsocketSettings) (*Websocket, error) {
	s, err := s.withDefaults()
	if err != nil {
		http.Error(rw, "rtcbot: websocket server misconfigured", http.StatusInternalServerError)
		return nil, err
	}
	if s.Token != "" && !hasBearerToken(r, s.Token) {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="rtcbot"`)
		http.Error(rw, ErrUnauthorized.Error(), http.StatusUnauthorized)
		s.Logger.Debug("rtcbot: websocket refused", "from", r.RemoteAddr, "status", http.StatusUnauthorized)
		return nil, fmt.Errorf("rtcbot: websocket from %s: %w", r.RemoteAddr, ErrUnauthorized)
	}
	opts := &websocket.AcceptOptions{}
	for _, o := range s.AllowedOrigins {
		if o == "*" {
			opts.InsecureSkipVerify = true
		} else {
			opts.OriginPatterns = append(opts.OriginPatterns, o)
		}
	}
	conn, err := websocket.Accept(rw, r, opts)
	if err != nil {
		s.Logger.Debug("rtcbot: websocket refused", "from", r.RemoteAddr, "err", err)
		return nil, fmt.Errorf("rtcbot: websocket from %s: %w", r.RemoteAddr, err)
	}
	w := newWebsocket(s, "peer "+r.RemoteAddr)
	ctx, cut := w.attach(conn)
	go w.runServer(ctx, cut, conn)
	return w, nil
}

// WebsocketHandler serves websockets: for each request it accepts (see
// AcceptWebsocket, which answers the requests it refuses), it calls serve
// with the Websocket, on the request's goroutine, and closes the Websocket
// when serve returns. A serve that subscribes and returns at once would
// close it at once: wait in serve, for example with ws.Wait(ctx).
func WebsocketHandler(s WebsocketSettings, serve func(ws *Websocket)) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ws, err := AcceptWebsocket(rw, r, s)
		if err != nil {
			return
		}
		defer ws.Close()
		serve(ws)
	})
}

// runClient is a client's goroutine: it connects, serves the connection
// until it ends, and connects again, until the Websocket closes.
func (w *Websocket) runClient(rawURL string, header http.Header) {
	defer w.finish()
	log := w.s.Logger
	failures := 0 // failed attempts and short-lived connections in a row
	for {
		conn, err := w.dial(rawURL, header)
		if err != nil && w.ctx.Err() != nil {
			return
		}
		if err != nil {
			if w.s.NoReconnect {
				w.setError(err)
				return
			}
			failures++
			delay := backoffDelay(w.s.MinDelay, w.s.MaxDelay, failures)
			log.Info("rtcbot: websocket cannot connect; retrying", "url", w.name, "attempt", failures, "in", delay.Round(time.Millisecond), "err", err)
			if !w.sleep(delay) {
				return
			}
			continue
		}
		if w.nConnections.Load() > 0 {
			log.Info("rtcbot: websocket reconnected", "url", w.name, "connections", w.nConnections.Load()+1)
		}
		start := time.Now()
		ctx, cut := w.attach(conn)
		err = w.serve(ctx, cut, conn)
		if w.ctx.Err() != nil {
			return
		}
		if w.s.NoReconnect {
			w.setError(err)
			return
		}
		if time.Since(start) >= w.s.MaxDelay {
			failures = 0
		}
		failures++
		delay := backoffDelay(w.s.MinDelay, w.s.MaxDelay, failures)
		reason := any("the server closed it")
		if err != nil {
			reason = err
		}
		log.Info("rtcbot: websocket connection lost; reconnecting", "url", w.name, "in", delay.Round(time.Millisecond), "err", reason)
		if !w.sleep(delay) {
			return
		}
	}
}

// dial makes one attempt to connect.
func (w *Websocket) dial(rawURL string, header http.Header) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.s.DialTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{HTTPClient: w.s.Client, HTTPHeader: header})
	if err == nil {
		return conn, nil
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		ue.URL = w.name
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("%w: %s answered %s (%w)", ErrRefused, w.name, resp.Status, ErrUnauthorized)
		}
		return nil, fmt.Errorf("%w: %s answered %s", ErrRefused, w.name, resp.Status)
	}
	return nil, fmt.Errorf("rtcbot: websocket %s: %w", w.name, err)
}

// sleep waits for d, or until the Websocket closes; it reports whether it
// is still open.
func (w *Websocket) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.ctx.Done():
		return false
	}
}

// runServer is a server-side Websocket's goroutine: it serves the one
// connection, then closes the Websocket.
func (w *Websocket) runServer(ctx context.Context, cut context.CancelFunc, conn *websocket.Conn) {
	defer w.finish()
	err := w.serve(ctx, cut, conn)
	if w.ctx.Err() == nil && err != nil {
		w.setError(err)
		w.s.Logger.Debug("rtcbot: websocket lost", "peer", w.name, "err", err)
	}
}

// attach makes conn the Websocket's connection and fires the ready event
// the first time (unless it is closing). It returns the connection's
// context, for its writes and pings, and the function that cuts it.
func (w *Websocket) attach(conn *websocket.Conn) (context.Context, context.CancelFunc) {
	conn.SetReadLimit(MaxMessageSize)
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	w.conn, w.connCtx, w.connCancel = conn, ctx, cancel
	close(w.connected)
	w.mu.Unlock()
	w.nConnections.Add(1)
	if w.ctx.Err() == nil {
		w.firing.Add(1)
		w.ev.SetReady()
		w.firing.Add(-1)
	}
	return ctx, cancel
}

// serve reads conn, and pings the peer, until the connection ends; when
// the Websocket closes, it closes conn with status 1000 (normal closure),
// cutting it (cut cancels ctx, which ends a read) if the peer does not
// answer in websocketCloseTimeout. It returns why the connection ended: nil
// when the peer closed it normally (or is going away) or the Websocket is
// closing.
func (w *Websocket) serve(ctx context.Context, cut context.CancelFunc, conn *websocket.Conn) error {
	closed := make(chan struct{})
	stopClosing := context.AfterFunc(w.ctx, func() {
		defer close(closed)
		t := time.AfterFunc(websocketCloseTimeout, cut)
		defer t.Stop()
		conn.Close(websocket.StatusNormalClosure, "")
	})
	var lost atomic.Bool // the peer did not answer a ping
	pinged := make(chan struct{})
	go w.ping(ctx, conn, &lost, pinged)
	err := w.read(ctx, conn)
	if !stopClosing() {
		<-closed
	}
	w.mu.Lock()
	w.conn, w.connCtx, w.connCancel = nil, nil, nil
	w.connected = make(chan struct{})
	w.mu.Unlock()
	cut()
	<-pinged
	conn.CloseNow()
	if w.ctx.Err() != nil {
		return nil
	}
	switch {
	case lost.Load():
		return fmt.Errorf("%w: websocket %s did not answer a ping within %v", ErrPeerLost, w.name, w.s.PingTimeout)
	case errors.Is(err, websocket.ErrMessageTooBig):
		err = fmt.Errorf("%w: websocket %s sent a message over %d bytes; connection closed (status 1009)", ErrMessageTooLarge, w.name, MaxMessageSize)
		w.setError(err)
		return err
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return nil
	}
	return fmt.Errorf("rtcbot: websocket %s: %w", w.name, err)
}

// read publishes the messages conn receives until it fails.
func (w *Websocket) read(ctx context.Context, conn *websocket.Conn) error {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		w.nReceived.Add(1)
		if typ == websocket.MessageText {
			w.publish(decodeText(data))
		} else {
			w.publish(data)
		}
	}
}

// publish hands a received message to every subscription, or holds it
// until the first one.
func (w *Websocket) publish(msg any) {
	if !w.subscribed.Load() {
		w.heldMu.Lock()
		if !w.subscribed.Load() {
			if len(w.held) == w.s.QueueCapacity {
				w.held = append(w.held[:0], w.held[1:]...)
			}
			w.held = append(w.held, msg)
			w.heldMu.Unlock()
			return
		}
		w.heldMu.Unlock()
	}
	w.received.Publish(msg)
}

// subscribe registers sub (the producer's default subscription if nil) to
// receive messages, handing it first the messages held for the first
// subscription.
func (w *Websocket) subscribe(sub Subscription[any]) Subscription[any] {
	if w.subscribed.Load() {
		if sub == nil {
			return w.received.defaultSubscription()
		}
		return w.received.SubscribeWith(sub)
	}
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if sub == nil {
		sub = w.received.defaultSubscription()
	} else {
		w.received.SubscribeWith(sub)
	}
	if !w.subscribed.Load() {
		if sub != nil {
			for _, msg := range w.held {
				sub.Put(msg)
			}
		}
		w.held = nil
		w.subscribed.Store(true)
	}
	return sub
}

// ping pings the peer every PingInterval until ctx ends; a ping without an
// answer in PingTimeout sets lost and cuts the connection.
func (w *Websocket) ping(ctx context.Context, conn *websocket.Conn, lost *atomic.Bool, done chan<- struct{}) {
	defer close(done)
	if w.s.PingInterval < 0 {
		return
	}
	t := time.NewTicker(w.s.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		pctx, cancel := context.WithTimeout(ctx, w.s.PingTimeout)
		err := conn.Ping(pctx)
		timedOut := errors.Is(pctx.Err(), context.DeadlineExceeded)
		cancel()
		if err != nil {
			if timedOut && ctx.Err() == nil {
				lost.Store(true)
			}
			conn.CloseNow()
			return
		}
	}
}

// send is the outgoing consumer's handler: it waits for a connection, then
// writes one message.
func (w *Websocket) send(msg any) {
	w.sending.Add(1)
	defer w.sending.Add(-1)
	data, binary, err := encodeMessage(msg)
	if err != nil {
		w.fail(err)
		return
	}
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	for {
		w.mu.Lock()
		conn, ctx, connected := w.conn, w.connCtx, w.connected
		w.mu.Unlock()
		if conn == nil {
			select {
			case <-connected:
				continue
			case <-w.ctx.Done():
				return
			}
		}
		if err := conn.Write(ctx, typ, data); err != nil {
			w.nNotSent.Add(1)
			w.s.Logger.Debug("rtcbot: websocket message lost with its connection", "url", w.name, "err", err)
			return
		}
		w.nSent.Add(1)
		return
	}
}

// fail reports a message that could not be sent: counted, the error event,
// and a warning in the log the first time.
func (w *Websocket) fail(err error) {
	w.nNotSent.Add(1)
	w.failures.log(w.s.Logger, "rtcbot: websocket message not sent", "url", w.name, "err", err)
	w.setError(err)
}

// setError fires the error event from one of the Websocket's goroutines.
func (w *Websocket) setError(err error) {
	w.firing.Add(1)
	w.ev.SetError(err)
	w.firing.Add(-1)
}

// finish ends the Websocket, on its goroutine's way out.
func (w *Websocket) finish() {
	w.cancel()
	w.outgoing.Close()
	w.received.Close()
	close(w.exited)
	w.ev.SetClosed()
}

// Put sends msg without blocking: JSON-encoded as one text message (a
// string too, so that it arrives as the same string), or as a binary
// message if it is a []byte. While there is no connection it waits in a
// bounded queue that drops its oldest message when full (see Websocket).
// Like RTCBot's put_nowait, it stops an active PutSubscription.
func (w *Websocket) Put(msg any) { w.outgoing.Put(msg) }

// Send is Put, under the name RTCBot also uses.
func (w *Websocket) Send(msg any) { w.outgoing.Put(msg) }

// PutSubscription sends every item src yields, replacing the previous
// source (RTCBot's putSubscription). Items are read from src only as fast as
// the connection takes them, and not while there is none.
func (w *Websocket) PutSubscription(src Getter[any]) { w.outgoing.PutSubscription(src) }

// StopSubscription stops sending from the active PutSubscription.
func (w *Websocket) StopSubscription() { w.outgoing.StopSubscription() }

// Subscription returns the active input of what is sent, or nil when there
// is none.
func (w *Websocket) Subscription() Getter[any] { return w.outgoing.Subscription() }

// Subscribe returns a new queue of received messages
// (WebsocketSettings.QueueCapacity).
func (w *Websocket) Subscribe() Subscription[any] { return w.subscribe(w.received.newSub()) }

// SubscribeWith registers s to receive every message and returns it.
func (w *Websocket) SubscribeWith(s Subscription[any]) Subscription[any] {
	return w.subscribe(s)
}

// SubscribeFunc calls f with every received message, in order, on a
// goroutine of its own. Close the returned callback to unsubscribe.
func (w *Websocket) SubscribeFunc(f func(msg any)) *Callback[any] {
	c := newCallback(f, w.received.newSub())
	w.subscribe(callbackSubscription[any]{c})
	return c
}

// Unsubscribe removes and closes s; it reports whether s was subscribed.
func (w *Websocket) Unsubscribe(s Subscription[any]) bool { return w.received.Unsubscribe(s) }

// UnsubscribeAll removes and closes every subscription to received
// messages. The Websocket stays open.
func (w *Websocket) UnsubscribeAll() { w.received.UnsubscribeAll() }

// Get returns the next received message through a default subscription
// made on the first call (RTCBot's get()); ErrClosed once the Websocket has
// closed and the messages it held are read.
func (w *Websocket) Get(ctx context.Context) (any, error) {
	if !w.subscribed.Load() {
		w.subscribe(nil)
	}
	return w.received.Get(ctx)
}

// WebsocketStats counts a Websocket's messages and connections.
type WebsocketStats struct {
	// MessagesSent is the number of messages written to a connection.
	MessagesSent uint64
	// MessagesReceived is the number of messages received.
	MessagesReceived uint64
	// MessagesNotSent is the number of messages that were not sent: not
	// encodable, too large, dropped from the full queue of Put, or lost
	// with a connection that ended while they were written.
	MessagesNotSent uint64
	// Connections is the number of connections made: more than one means a
	// client reconnected.
	Connections uint64
}

// Stats returns the Websocket's counts.
func (w *Websocket) Stats() WebsocketStats {
	notSent := w.nNotSent.Load()
	if q := w.outQueue.Load(); q != nil {
		notSent += q.Dropped()
	}
	return WebsocketStats{
		MessagesSent:     w.nSent.Load(),
		MessagesReceived: w.nReceived.Load(),
		MessagesNotSent:  notSent,
		Connections:      w.nConnections.Load(),
	}
}

// Flush waits until every message put so far has been written to the
// connection (a client without one waits for it), or ctx ends (its
// error), or the Websocket closes (ErrClosed).
// Items a PutSubscription source still holds are not waited for. A
// program that must not lose its last messages calls Flush before Close.
func (w *Websocket) Flush(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		q := w.outQueue.Load()
		if (q == nil || q.Len() == 0) && w.sending.Load() == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.exited:
			return ErrClosed
		}
	}
}

// Close closes the Websocket: a client stops connecting, the connection is
// closed with status 1000 (normal closure; a peer that does not answer in a
// second has it cut), messages not yet sent are dropped (see Flush),
// subscriptions to received messages end with ErrClosed, and the close
// event fires. It waits for the Websocket's goroutines (except when called
// from its own OnReady or OnError callback), and is idempotent.
func (w *Websocket) Close() error {
	w.cancel() // the Websocket's goroutine closes the connection
	if w.firing.Load() == 0 {
		<-w.exited
		w.ev.SetClosed()
	}
	return nil
}
