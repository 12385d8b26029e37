package rtcbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// A relay lets a robot that cannot be reached (behind a mobile carrier's
// NAT, or a firewall that takes no incoming connection) be connected to all
// the same, as RTCBot's "connecting over 4G" tutorial does: the robot dials
// out to a relay server on a public address and keeps a websocket open to
// it (ServeRelay); a desktop or browser posts its offer to the relay, for
// the robot by name (NewRelay); the relay forwards the request over
// the robot's websocket to the robot's own signaling handler and the answer
// back. Only the offer and the answer pass through the relay: media and
// messages then flow peer to peer (or through TURN, see
// ConnectionSettings.ICEServers), encrypted end to end.
//
// The relay forwards the request as it came (method, query, headers,
// body), so the robot's handler checks its token, origin and limits
// (HandlerSettings) as if the request had come straight to it, and the
// relay cannot connect to a robot without the robot's token.

// RelaySettings configures NewRelay.
type RelaySettings struct {
	// RobotToken, if set, is required of a robot that dials in, as the
	// header "Authorization: Bearer <token>" or the URL's "token" query
	// parameter (WebsocketSettings.Token sends the header); a robot
	// without it is refused with 401. Without it any program may register
	// as any robot: set it on a public relay.
	RobotToken string
	// Timeout bounds the wait for a robot's answer to a forwarded request;
	// default 15 s. A robot that takes longer gets the client a 504.
	Timeout time.Duration
	// Websocket configures the robots' websockets (their pings, limits,
	// origins); its Token is ignored, RobotToken is the robots'.
	Websocket WebsocketSettings
	// Logger receives a line when a robot comes or goes, at Info; default
	// slog.Default().
	Logger *slog.Logger
}

// relayRequest is a client's request, forwarded to the robot.
type relayRequest struct {
	ID     uint64      `json:"id"`
	Method string      `json:"method"`
	Host   string      `json:"host"`
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
}

// relayResponse is the robot's response to a relayRequest.
type relayResponse struct {
	ID     uint64      `json:"id"`
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	Body   string      `json:"body,omitempty"`
}

// maxRelayedBody bounds a relayed offer or answer: it travels inside a
// websocket message of at most MaxMessageSize, escaped as JSON. An offer
// is a few kilobytes.
const maxRelayedBody = MaxMessageSize / 2

// relayedHeaders are the headers a relay forwards each way: what the
// signaling handler reads and answers.
var relayedHeaders = []string{"Authorization", "Origin", "Content-Type", "Access-Control-Request-Method",
	"Access-Control-Request-Headers", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Allow", "Retry-After", "Vary", "WWW-Authenticate"}

// robotName is what a robot's name may be: letters, digits, '-', '_' and
// '.', 1 to 64 of them.
var robotName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// NewRelay returns a relay server. As an http.Handler it serves:
//
//   - GET /robots/{name}: a robot dials in with a websocket (ServeRelay)
//     and is known as name until its websocket closes; a robot that dials
//     in under a name in use takes it over (a robot reconnecting after a
//     drop replaces its own stale websocket);
//   - /robots/{name}/connect: a client's request for that robot, forwarded
//     to it: POST its offer there as to the robot's own /connect (Connect,
//     rtcbot.js's connect), with the robot's token. 404 if no such robot
//     is connected, 502 if it went away before answering, 504 if it did not
//     answer in time;
//   - GET /robots: the names of the robots connected, as a JSON array.
//
// Serve it over HTTPS on a public relay: tokens pass through it. Close
// it when the server stops: an http.Server's Shutdown or Close leaves
// websockets open.
func NewRelay(s RelaySettings) *Relay {
	if s.Timeout <= 0 {
		s.Timeout = 15 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	r := &Relay{settings: s, robots: make(map[string]*relayedRobot), mux: http.NewServeMux()}
	r.mux.HandleFunc("GET /robots/{name}", r.serveRobot)
	r.mux.HandleFunc("/robots/{name}/connect", r.forward)
	r.mux.HandleFunc("GET /robots", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Robots())
	})
	return r
}

// Relay is a relay server for robots that cannot be reached (NewRelay).
type Relay struct {
	settings RelaySettings
	mux      *http.ServeMux
	mu       sync.Mutex
	robots   map[string]*relayedRobot
	closed   bool
}

// relayedRobot is a robot connected to a relay.
type relayedRobot struct {
	ws     *Websocket
	nextID atomic.Uint64

	mu      sync.Mutex
	waiting map[uint64]chan relayResponse // requests forwarded, by id
}

// ServeHTTP serves the relay's endpoints.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// Robots returns the names of the robots connected, sorted.
func (r *Relay) Robots() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.robots))
	for name := range r.robots {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close closes every robot's websocket (the robots dial in again, to the
// relay that takes over) and refuses robots from then on. It is
// idempotent.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	robots := r.robots
	r.robots = make(map[string]*relayedRobot)
	r.mu.Unlock()
	for _, robot := range robots {
		robot.ws.Close()
	}
	return nil
}

func (r *Relay) serveRobot(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("name")
	if !robotName.MatchString(name) {
		http.Error(w, "rtcbot: a robot's name is 1 to 64 letters, digits, '.', '-' or '_'", http.StatusBadRequest)
		return
	}
	if r.settings.RobotToken != "" && !hasBearerToken(req, r.settings.RobotToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rtcbot relay"`)
		http.Error(w, ErrUnauthorized.Error(), http.StatusUnauthorized)
		return
	}
	ws, err := AcceptWebsocket(w, req, r.settings.Websocket)
	if err != nil {
		return // AcceptWebsocket answered
	}
	robot := &relayedRobot{ws: ws, waiting: make(map[uint64]chan relayResponse)}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		ws.Close()
		return
	}
	old := r.robots[name]
	r.robots[name] = robot
	r.mu.Unlock()
	if old != nil {
		old.ws.Close()
	}
	r.settings.Logger.Info("rtcbot: relay: robot connected", "robot", name, "from", req.RemoteAddr)
	responses := ws.Subscribe()
	for {
		msg, err := responses.Get(context.Background())
		if err != nil {
			break // the websocket closed
		}
		resp, err := DecodeMessage[relayResponse](msg)
		if err != nil {
			continue // not a response: ignored
		}
		robot.mu.Lock()
		ch := robot.waiting[resp.ID]
		delete(robot.waiting, resp.ID)
		robot.mu.Unlock()
		if ch != nil {
			ch <- resp // buffered
		}
	}
	r.mu.Lock()
	if r.robots[name] == robot {
		delete(r.robots, name)
	}
	r.mu.Unlock()
	ws.Close()
	r.settings.Logger.Info("rtcbot: relay: robot gone", "robot", name)
}

func (r *Relay) forward(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("name")
	r.mu.Lock()
	robot := r.robots[name]
	r.mu.Unlock()
	if robot == nil {
		http.Error(w, fmt.Sprintf("rtcbot: no robot %q is connected to this relay", name), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxRelayedBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("rtcbot: a relayed offer is at most %d bytes", maxRelayedBody), http.StatusRequestEntityTooLarge)
		return
	}
	fwd := relayRequest{ID: robot.nextID.Add(1), Method: req.Method, Host: req.Host, Query: req.URL.RawQuery,
		Header: pickHeaders(req.Header), Body: string(body)}
	ch := make(chan relayResponse, 1)
	robot.mu.Lock()
	robot.waiting[fwd.ID] = ch
	robot.mu.Unlock()
	defer func() {
		robot.mu.Lock()
		delete(robot.waiting, fwd.ID)
		robot.mu.Unlock()
	}()
	robot.ws.Put(fwd)
	timer := time.NewTimer(r.settings.Timeout)
	defer timer.Stop()
	select {
	case resp := <-ch:
		if resp.Status < 200 || resp.Status > 599 { // WriteHeader panics on some
			http.Error(w, fmt.Sprintf("rtcbot: robot %q answered with status %d", name, resp.Status), http.StatusBadGateway)
			return
		}
		for k, v := range pickHeaders(resp.Header) {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.Status)
		io.WriteString(w, resp.Body)
	case <-robot.ws.Done():
		http.Error(w, fmt.Sprintf("rtcbot: robot %q went away before it answered", name), http.StatusBadGateway)
	case <-timer.C:
		http.Error(w, fmt.Sprintf("rtcbot: robot %q did not answer within %v", name, r.settings.Timeout), http.StatusGatewayTimeout)
	case <-req.Context().Done():
	}
}

// pickHeaders returns the relayed headers of h.
func pickHeaders(h http.Header) http.Header {
	out := make(http.Header)
	for _, k := range relayedHeaders {
		if v := h.Values(k); len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

// ServeRelay connects the robot to a relay server, at relayURL (the
// relay's /robots/{name}: "wss://relay.example.com/robots/rover-1"), and
// answers the requests it forwards with h, the robot's signaling handler
// (Handler or NewHandler), as if they had come to h straight. It
// reconnects, with backoff, whenever the websocket drops (s configures it:
// s.Token is the relay's RobotToken), and returns ctx's error once ctx
// ends, having closed the websocket. An invalid relayURL or settings are
// returned at once.
func ServeRelay(ctx context.Context, relayURL string, h http.Handler, s WebsocketSettings) error {
	s.NoReconnect = false
	ws, err := DialWebsocket(relayURL, s)
	if err != nil {
		return err
	}
	defer ws.Close()
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	requests := ws.Subscribe()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		msg, err := requests.Get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err // the websocket closed
		}
		req, err := DecodeMessage[relayRequest](msg)
		if err != nil || req.ID == 0 {
			logger.Debug("rtcbot: relay: not a request", "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.Put(answerRelayed(ctx, h, req))
		}()
	}
}

// answerRelayed runs a forwarded request through h.
func answerRelayed(ctx context.Context, h http.Handler, fwd relayRequest) relayResponse {
	target := "/connect"
	if fwd.Query != "" {
		target += "?" + fwd.Query
	}
	req, err := http.NewRequestWithContext(ctx, fwd.Method, target, bytes.NewReader([]byte(fwd.Body)))
	if err != nil {
		return relayResponse{ID: fwd.ID, Status: http.StatusBadRequest, Body: "rtcbot: relayed request: " + err.Error()}
	}
	req.Host = fwd.Host
	req.RemoteAddr = "relay"
	req.Header = pickHeaders(fwd.Header)
	rec := &relayRecorder{header: make(http.Header)}
	h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return relayResponse{ID: fwd.ID, Status: rec.status, Header: pickHeaders(rec.header), Body: rec.body.String()}
}

// relayRecorder is the http.ResponseWriter of a relayed request: it keeps
// the response, up to maxRelayedBody, to send back to the relay.
type relayRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *relayRecorder) Header() http.Header { return r.header }

func (r *relayRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *relayRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.body.Len()+len(b) > maxRelayedBody {
		return 0, errRelayTooLarge
	}
	return r.body.Write(b)
}

var errRelayTooLarge = errors.New("rtcbot: relayed answer too large")
