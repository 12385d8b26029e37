package rtcbot

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsServer is an httptest server whose handler accepts websockets with
// AcceptWebsocket and hands them to the test. kill cuts every connection
// it accepted, as a crash would.
type wsServer struct {
	srv      *httptest.Server
	ln       *trackingListener
	accepted chan *Websocket
	refused  chan error
}

// trackingListener remembers the connections it accepts.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// startWSServer serves websockets on addr ("127.0.0.1:0" for any port).
func startWSServer(t *testing.T, addr string, s WebsocketSettings) *wsServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ws := &wsServer{ln: &trackingListener{Listener: ln}, accepted: make(chan *Websocket, 16), refused: make(chan error, 16)}
	ws.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w, err := AcceptWebsocket(rw, r, s)
		if err != nil {
			ws.refused <- err
			return
		}
		t.Cleanup(func() { w.Close() })
		ws.accepted <- w
	}))
	ws.srv.Listener = ws.ln
	ws.srv.Start()
	t.Cleanup(ws.kill)
	return ws
}

func (s *wsServer) url() string { return "ws://" + s.ln.Addr().String() }

// next returns the next websocket the server accepted.
func (s *wsServer) next(t *testing.T) *Websocket {
	t.Helper()
	return recv(t, s.accepted)
}

// kill stops the server and cuts its connections without a closing
// handshake.
func (s *wsServer) kill() {
	s.srv.Close()
	s.ln.mu.Lock()
	for _, c := range s.ln.conns {
		c.Close()
	}
	s.ln.mu.Unlock()
}

// wsFreeAddr returns a local address nothing listens on.
func wsFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// logLines is a slog handler that hands the test every line's message.
type logLines chan string

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l logLines) WithGroup(string) slog.Handler            { return l }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default:
	}
	return nil
}

// wsWaitLog waits for a log line containing want.
func wsWaitLog(t *testing.T, lines logLines, want string) {
	t.Helper()
	timeout := time.After(waitTime)
	for {
		select {
		case line := <-lines:
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q", want)
		}
	}
}

func wsDial(t *testing.T, url string, s WebsocketSettings) *Websocket {
	t.Helper()
	w, err := DialWebsocket(url, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func wsWaitReady(t *testing.T, w *Websocket) {
	t.Helper()
	select {
	case <-w.Ready():
	case <-w.Done():
		t.Fatalf("closed before ready: %v", w.Err())
	case <-time.After(waitTime):
		t.Fatal("not ready")
	}
}

func wsWaitDone(t *testing.T, w *Websocket) {
	t.Helper()
	select {
	case <-w.Done():
	case <-time.After(waitTime):
		t.Fatal("not closed")
	}
}

// TestWebsocketMessages sends every kind of message both ways between a
// client and a server of this package, and 1,000 in order.
func TestWebsocketMessages(t *testing.T) {
	s := WebsocketSettings{QueueCapacity: 2000}
	srv := startWSServer(t, "127.0.0.1:0", s)
	client := wsDial(t, srv.url(), s)
	server := srv.next(t)
	fromServer, fromClient := client.Subscribe(), server.Subscribe()
	wsWaitReady(t, client)
	if !server.IsReady() {
		t.Fatal("an accepted websocket is not ready")
	}

	msgs := []any{
		map[string]any{"code": "ABS_Y", "state": -1.0, "list": []any{1.0, "two", nil}},
		"a string",
		"42", // a string that looks like JSON stays a string
		[]byte{0, 1, 2, 255},
		3.5,
		true,
		nil,
	}
	for _, m := range msgs {
		client.Put(m)
		server.Put(m)
	}
	for _, m := range msgs {
		if got := mustGet(t, fromClient); !reflect.DeepEqual(got, m) {
			t.Errorf("server got %#v, want %#v", got, m)
		}
		if got := mustGet(t, fromServer); !reflect.DeepEqual(got, m) {
			t.Errorf("client got %#v, want %#v", got, m)
		}
	}

	const n = 1000
	for i := range n {
		client.Put(map[string]any{"n": i})
		server.Send(i)
	}
	for i := range n {
		if got := mustGet(t, fromClient).(map[string]any)["n"]; got != float64(i) {
			t.Fatalf("server got message %v in place of %d", got, i)
		}
		if got := mustGet(t, fromServer); got != float64(i) {
			t.Fatalf("client got message %v in place of %d", got, i)
		}
	}
	if err := client.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want := uint64(len(msgs) + n)
	if st := client.Stats(); st.MessagesSent != want || st.MessagesNotSent != 0 || st.MessagesReceived != want || st.Connections != 1 {
		t.Errorf("client stats %+v, want %d sent and received, none lost, one connection", st, want)
	}
}

// TestWebsocketWire checks what goes on the wire, against a plain
// coder/websocket peer: RTCBot's encoding out, and text that is not JSON
// delivered as a string.
func TestWebsocketWire(t *testing.T) {
	srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
	ctx := testCtx(t)
	raw, _, err := websocket.Dial(ctx, srv.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.CloseNow()
	server := srv.next(t)
	// Messages that come before the first subscription wait for it.
	for _, m := range []string{`"early"`, `"bird"`} {
		if err := raw.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for server.Stats().MessagesReceived < 2 {
		if ctx.Err() != nil {
			t.Fatal("the early messages did not arrive")
		}
		time.Sleep(time.Millisecond)
	}
	got := server.Subscribe()
	if a, b := mustGet(t, got), mustGet(t, got); a != "early" || b != "bird" {
		t.Fatalf("the first subscription got %v, %v; want the messages that came before it", a, b)
	}

	for _, m := range []struct {
		typ  websocket.MessageType
		data string
		want any
	}{
		{websocket.MessageText, `{"a": [1, "b"]}`, map[string]any{"a": []any{1.0, "b"}}},
		{websocket.MessageText, `not JSON`, "not JSON"},
		{websocket.MessageText, `{"x": NaN}`, nil}, // Python's NaN: checked below
		{websocket.MessageBinary, "\x00\x01", []byte{0, 1}},
	} {
		if err := raw.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		msg := mustGet(t, got)
		if m.want == nil {
			if x, ok := msg.(map[string]any)["x"].(float64); !ok || x == x {
				t.Errorf("%s arrived as %#v, want NaN", m.data, msg)
			}
			continue
		}
		if !reflect.DeepEqual(msg, m.want) {
			t.Errorf("%s arrived as %#v, want %#v", m.data, msg, m.want)
		}
	}

	server.Put(map[string]any{"k": 1})
	server.Put("text")
	server.Put([]byte("bin"))
	for _, want := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, `{"k":1}`}, {websocket.MessageText, `"text"`}, {websocket.MessageBinary, "bin"}} {
		typ, data, err := raw.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != want.typ || string(data) != want.data {
			t.Errorf("wire has %v %q, want %v %q", typ, data, want.typ, want.data)
		}
	}
}

// TestWebsocketPeerGoesAway: the server side closes when its client goes
// away, cleanly or not, and a client that does not reconnect closes when
// its server does.
func TestWebsocketPeerGoesAway(t *testing.T) {
	t.Run("client closes", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		client := wsDial(t, srv.url(), WebsocketSettings{})
		server := srv.next(t)
		sub := server.Subscribe()
		wsWaitReady(t, client)
		closed := make(chan struct{})
		server.OnClose(func() { close(closed) })
		client.Close()
		recv(t, closed)
		wantClosed(t, sub)
		if _, err := server.Get(testCtx(t)); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after the peer left = %v, want ErrClosed", err)
		}
		if err := server.Err(); err != nil {
			t.Errorf("a peer that closed normally left the error %v", err)
		}
	})
	t.Run("client vanishes", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		raw, _, err := websocket.Dial(testCtx(t), srv.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		server := srv.next(t)
		raw.CloseNow() // no closing handshake
		wsWaitDone(t, server)
		if server.Err() == nil {
			t.Error("a connection cut without a close frame left no error")
		}
	})
	t.Run("server closes", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		client := wsDial(t, srv.url(), WebsocketSettings{NoReconnect: true})
		sub := client.Subscribe()
		server := srv.next(t)
		wsWaitReady(t, client)
		server.Close()
		wsWaitDone(t, client)
		wantClosed(t, sub)
		if err := client.Err(); err != nil {
			t.Errorf("a server that closed normally left the error %v", err)
		}
	})
	t.Run("server crashes", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		client := wsDial(t, srv.url(), WebsocketSettings{NoReconnect: true})
		srv.next(t)
		wsWaitReady(t, client)
		srv.kill()
		wsWaitDone(t, client)
		if client.Err() == nil {
			t.Error("a connection cut without a close frame left no error")
		}
	})
	t.Run("no server", func(t *testing.T) {
		client := wsDial(t, "ws://"+wsFreeAddr(t), WebsocketSettings{NoReconnect: true})
		wsWaitDone(t, client)
		if client.Err() == nil || client.IsReady() {
			t.Errorf("a client with no server: error %v, ready %v; want an error, not ready", client.Err(), client.IsReady())
		}
	})
}

// TestWebsocketPeerStopsAnswering: a peer that stops reading (so never
// answers a ping) is taken for gone.
func TestWebsocketPeerStopsAnswering(t *testing.T) {
	fast := WebsocketSettings{PingInterval: 20 * time.Millisecond, PingTimeout: 100 * time.Millisecond}
	t.Run("server side", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", fast)
		raw, _, err := websocket.Dial(testCtx(t), srv.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.CloseNow() // it never reads, so never answers a ping
		server := srv.next(t)
		wsWaitDone(t, server)
		if !errors.Is(server.Err(), ErrPeerLost) {
			t.Errorf("error %v, want ErrPeerLost", server.Err())
		}
	})
	t.Run("client side", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(rw, r, nil)
			if err != nil {
				return
			}
			<-release // never reads
			c.CloseNow()
		}))
		defer srv.Close()
		defer close(release)
		s := fast
		s.NoReconnect = true
		client := wsDial(t, srv.URL, s)
		wsWaitDone(t, client)
		if !errors.Is(client.Err(), ErrPeerLost) {
			t.Errorf("error %v, want ErrPeerLost", client.Err())
		}
	})
}

// TestWebsocketReconnect: a client started before its server retries until
// the server is up, and connects again to a server that crashed and came
// back on the same address; messages put meanwhile wait in the bounded
// queue, the newest kept.
func TestWebsocketReconnect(t *testing.T) {
	addr := wsFreeAddr(t)
	lines := make(logLines, 100)
	client := wsDial(t, "ws://"+addr, WebsocketSettings{
		MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond,
		QueueCapacity: 4, Logger: slog.New(lines),
	})
	var readies atomic.Int32
	client.OnReady(func() { readies.Add(1) })
	fromServer := client.Subscribe()
	wsWaitLog(t, lines, "cannot connect; retrying")
	for i := range 10 {
		client.Put(i) // nowhere to go yet
	}

	srv := startWSServer(t, addr, WebsocketSettings{})
	server := srv.next(t)
	wsWaitReady(t, client)
	// The newest messages arrive in order: the queue held the last four,
	// and the sender may have held the first one.
	var got []float64
	for len(got) == 0 || got[len(got)-1] != 9 {
		msg, err := server.Get(testCtx(t))
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, msg.(float64))
	}
	if st := client.Stats(); st.MessagesNotSent+uint64(len(got)) != 10 || len(got) < 4 || len(got) > 5 {
		t.Errorf("after 10 messages put with no connection, %v arrived and %d were dropped; want the newest 4 or 5, the rest dropped", got, st.MessagesNotSent)
	}
	server.Put("hello")
	if msg := mustGet(t, fromServer); msg != "hello" {
		t.Fatalf("client got %v", msg)
	}

	srv.kill()
	wsWaitDone(t, server)
	wsWaitLog(t, lines, "connection lost; reconnecting")
	srv = startWSServer(t, addr, WebsocketSettings{})
	server = srv.next(t)
	wsWaitLog(t, lines, "reconnected")
	client.Put("back")
	if msg := mustGet(t, server); msg != "back" {
		t.Fatalf("server got %v after the reconnection", msg)
	}
	server.Put("again")
	if msg := mustGet(t, fromServer); msg != "again" {
		t.Fatalf("client got %v after the reconnection", msg)
	}
	if n, st := readies.Load(), client.Stats(); n != 1 || st.Connections != 2 {
		t.Errorf("ready fired %d times, %d connections; want once, 2", n, st.Connections)
	}
	if client.Err() != nil || client.IsClosed() {
		t.Errorf("a reconnected client: error %v, closed %v", client.Err(), client.IsClosed())
	}
}

// TestWebsocketOversized: a message over MaxMessageSize from the peer
// closes the connection with status 1009 and ErrMessageTooLarge; one of
// exactly MaxMessageSize passes; an oversized Put is not sent and the
// connection stays up.
func TestWebsocketOversized(t *testing.T) {
	t.Run("from the peer", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		ctx := testCtx(t)
		raw, _, err := websocket.Dial(ctx, srv.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.CloseNow()
		server := srv.next(t)
		sub := server.Subscribe()
		if err := raw.Write(ctx, websocket.MessageBinary, make([]byte, MaxMessageSize)); err != nil {
			t.Fatal(err)
		}
		if msg := mustGet(t, sub); len(msg.([]byte)) != MaxMessageSize {
			t.Fatalf("got %d bytes", len(msg.([]byte)))
		}
		if err := raw.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("x"), MaxMessageSize+1)); err != nil {
			t.Fatal(err)
		}
		wsWaitDone(t, server)
		if !errors.Is(server.Err(), ErrMessageTooLarge) {
			t.Errorf("error %v, want ErrMessageTooLarge", server.Err())
		}
		if _, _, err := raw.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Errorf("the peer read %v, want close status 1009", err)
		}
		wantClosed(t, sub)
	})
	t.Run("to a client", func(t *testing.T) {
		var conns atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(rw, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			if conns.Add(1) == 1 {
				c.Write(r.Context(), websocket.MessageText, make([]byte, MaxMessageSize+1))
			} else {
				c.Write(r.Context(), websocket.MessageText, []byte(`"fine"`))
			}
			c.Read(r.Context()) // until the client goes
		}))
		defer srv.Close()
		client := wsDial(t, srv.URL, WebsocketSettings{MinDelay: time.Millisecond})
		if msg := mustGet(t, client); msg != "fine" {
			t.Fatalf("got %v", msg)
		}
		if !errors.Is(client.Err(), ErrMessageTooLarge) || client.Stats().Connections != 2 {
			t.Errorf("error %v after %d connections; want ErrMessageTooLarge, then a reconnection", client.Err(), client.Stats().Connections)
		}
	})
	t.Run("put", func(t *testing.T) {
		srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
		client := wsDial(t, srv.url(), WebsocketSettings{})
		server := srv.next(t)
		client.Put(strings.Repeat("x", MaxMessageSize))
		client.Put(func() {}) // not JSON
		client.Put("small")
		if msg := mustGet(t, server); msg != "small" {
			t.Fatalf("got %v", msg)
		}
		if !errors.Is(client.Err(), ErrMessageTooLarge) || client.Stats().MessagesNotSent != 2 || client.IsClosed() {
			t.Errorf("error %v, stats %+v, closed %v; want ErrMessageTooLarge, 2 not sent, open", client.Err(), client.Stats(), client.IsClosed())
		}
	})
}

// TestWebsocketGarbage writes bytes that are no websocket frame after a real
// handshake: the server side closes with an error, and the server goes on
// accepting.
func TestWebsocketGarbage(t *testing.T) {
	srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
	for _, garbage := range [][]byte{
		bytes.Repeat([]byte{0xff}, 64),                              // reserved bits and opcode
		[]byte("\x81\x05hello"),                                     // a text frame a client did not mask
		[]byte("\x81\xff\xff\xff\xff\xff\xff\xff\xff\xff" + "mask"), // a length beyond any limit
	} {
		c, err := net.Dial("tcp", srv.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", srv.ln.Addr())
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake answered %s", resp.Status)
		}
		server := srv.next(t)
		sub := server.Subscribe()
		c.Write(garbage)
		wsWaitDone(t, server)
		if server.Err() == nil {
			t.Errorf("garbage %q left no error", garbage)
		}
		wantClosed(t, sub)
	}
	client := wsDial(t, srv.url(), WebsocketSettings{})
	server := srv.next(t)
	client.Put("still serving")
	if msg := mustGet(t, server); msg != "still serving" {
		t.Fatalf("got %v", msg)
	}
}

// TestWebsocketClose: Close is idempotent, ends subscriptions, sends status
// 1000 and stops a client from reconnecting, also one still trying to
// connect.
func TestWebsocketClose(t *testing.T) {
	statuses := make(chan websocket.StatusCode, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(rw, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, err = c.Read(r.Context())
		statuses <- websocket.CloseStatus(err)
	}))
	defer srv.Close()
	client := wsDial(t, srv.URL, WebsocketSettings{MinDelay: time.Millisecond})
	sub := client.Subscribe()
	wsWaitReady(t, client)
	var closes atomic.Int32
	client.OnClose(func() { closes.Add(1) })
	for range 3 {
		if err := client.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !client.IsClosed() || closes.Load() != 1 {
		t.Errorf("after Close: closed %v, close event fired %d times", client.IsClosed(), closes.Load())
	}
	if st := recv(t, statuses); st != websocket.StatusNormalClosure {
		t.Errorf("the server saw status %v, want 1000", st)
	}
	wantClosed(t, sub)
	wantClosed(t, client.Subscribe())
	client.Put("nowhere") // does nothing
	if err := client.Flush(testCtx(t)); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if n := client.Stats().Connections; n != 1 {
		t.Errorf("%d connections; a closed client must not reconnect", n)
	}

	// A client that never found its server.
	lines := make(logLines, 10)
	lonely := wsDial(t, "ws://"+wsFreeAddr(t), WebsocketSettings{MinDelay: time.Hour, Logger: slog.New(lines)})
	wsWaitLog(t, lines, "cannot connect")
	lonely.Close()
	if !lonely.IsClosed() || lonely.Err() != nil {
		t.Errorf("closed %v, error %v", lonely.IsClosed(), lonely.Err())
	}
}

// TestWebsocketCloseFromCallbacks: Close called from the Websocket's own
// callbacks does not deadlock.
func TestWebsocketCloseFromCallbacks(t *testing.T) {
	srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
	a := wsDial(t, srv.url(), WebsocketSettings{})
	a.OnReady(func() { a.Close() })
	wsWaitDone(t, a)

	b := wsDial(t, srv.url(), WebsocketSettings{})
	wsWaitReady(t, b)
	b.OnError(func(error) { b.Close() })
	b.Put(func() {}) // an error on the sending goroutine
	wsWaitDone(t, b)

	srv = startWSServer(t, "127.0.0.1:0", WebsocketSettings{})
	c := wsDial(t, srv.url(), WebsocketSettings{})
	c.OnClose(func() { c.Close() })
	c.SubscribeFunc(func(any) { c.Close() })
	srv.next(t).Put("close")
	wsWaitDone(t, c)
}

// TestWebsocketAccess: tokens and origins.
func TestWebsocketAccess(t *testing.T) {
	const token = "s3cret"
	srv := startWSServer(t, "127.0.0.1:0", WebsocketSettings{Token: token, AllowedOrigins: []string{"https://ops.example.com"}})
	ctx := testCtx(t)

	client := wsDial(t, srv.url(), WebsocketSettings{NoReconnect: true, Token: "wrong"})
	wsWaitDone(t, client)
	if err := client.Err(); !errors.Is(err, ErrUnauthorized) || !errors.Is(err, ErrRefused) {
		t.Errorf("wrong token: %v, want ErrRefused and ErrUnauthorized", err)
	}
	if err := recv(t, srv.refused); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("AcceptWebsocket = %v, want ErrUnauthorized", err)
	}

	client = wsDial(t, srv.url()+"?token=xxx", WebsocketSettings{NoReconnect: true, Token: token})
	wsWaitReady(t, client)
	srv.next(t)

	for _, c := range []struct {
		origin string
		ok     bool
	}{{"", true}, {"https://ops.example.com", true}, {"https://evil.example.com", false}} {
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		raw, resp, err := websocket.Dial(ctx, srv.url()+"/?token="+token, &websocket.DialOptions{HTTPHeader: h})
		if c.ok != (err == nil) {
			t.Errorf("origin %q: %v, want allowed %v", c.origin, err, c.ok)
		}
		if err == nil {
			raw.CloseNow()
			srv.next(t)
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q refused with %v, want 403", c.origin, resp)
		} else {
			recv(t, srv.refused)
		}
	}
}

// TestWebsocketHandler: WebsocketHandler serves each websocket until its
// function returns.
func TestWebsocketHandler(t *testing.T) {
	served := make(chan *Websocket, 1)
	srv := httptest.NewServer(WebsocketHandler(WebsocketSettings{}, func(ws *Websocket) {
		served <- ws
		for {
			msg, err := ws.Get(context.Background())
			if err != nil || msg == "bye" {
				return
			}
			ws.Put(map[string]any{"echo": msg})
		}
	}))
	defer srv.Close()
	client := wsDial(t, srv.URL, WebsocketSettings{NoReconnect: true})
	server := recv(t, served)
	client.Put("hi")
	if msg := mustGet(t, client); !reflect.DeepEqual(msg, map[string]any{"echo": "hi"}) {
		t.Fatalf("got %v", msg)
	}
	client.Put("bye")
	wsWaitDone(t, server)
	wsWaitDone(t, client)
}

func TestWebsocketSettings(t *testing.T) {
	for _, c := range []struct {
		url string
		s   WebsocketSettings
	}{
		{"ftp://example.com", WebsocketSettings{}},
		{"://", WebsocketSettings{}},
		{"ws://example.com", WebsocketSettings{MinDelay: -1}},
		{"ws://example.com", WebsocketSettings{QueueCapacity: -1}},
	} {
		if w, err := DialWebsocket(c.url, c.s); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("DialWebsocket(%q, %+v) = %v, %v; want ErrInvalidSettings", c.url, c.s, w, err)
		}
	}
}
