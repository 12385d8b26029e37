package rtcbot

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MaxOfferSize is the largest offer body Handler accepts.
const MaxOfferSize = 1 << 20

// DefaultMaxConnections is HandlerSettings.MaxConnections when left at zero.
const DefaultMaxConnections = 16

// HandlerSettings configures NewHandler: who may connect, from where, and
// how many at once. The zero value takes programs from anywhere and pages
// from the handler's own origin, without a token, up to
// DefaultMaxConnections at once.
type HandlerSettings struct {
	// Token, if set, is required with every offer, as the header
	// "Authorization: Bearer <token>" or as the URL's "token" query parameter
	// (for a page or a Python RTCBot desktop, which cannot set headers). It is
	// compared in constant time; a request without it is refused with 401
	// and a WWW-Authenticate header.
	Token string
	// Authorize, if set, is called with each request after the token check;
	// an error refuses the request with 403 Forbidden and the error as the
	// reason.
	Authorize func(r *http.Request) error
	// AllowedOrigins lists the web origins ("https://ops.example.com") whose
	// pages may post offers besides the handler's own origin, for pages
	// served elsewhere; "*" allows every origin. A browser names the page's
	// origin in every request, so this keeps a page on another site from
	// posting an offer to the robot from the operator's browser: such a
	// request is refused with 403. Requests without an Origin header come
	// from programs, not pages, and are not checked.
	AllowedOrigins []string
	// MaxConnections bounds the connections this handler has answered that
	// are still open, with the offers being answered (default
	// DefaultMaxConnections). An offer beyond it is refused with 503 Service
	// Unavailable and a Retry-After header, so a flood of offers cannot
	// exhaust memory.
	MaxConnections int
	// ReplaceOnReconnect makes an offer beyond MaxConnections close the
	// oldest connection this handler answered and take its place, instead
	// of being refused: with MaxConnections 1, a reloaded page or a
	// restarted desktop takes over from its own stale connection at once.
	ReplaceOnReconnect bool
	// Logger receives one line for each refused request at debug level;
	// default slog.Default().
	Logger *slog.Logger
}

// RandomToken returns a new random token for HandlerSettings.Token: 128
// bits from crypto/rand, URL-safe (so it can go in a URL's query), for a
// robot that was not given one.
func RandomToken() string {
	return rand.Text()
}

// Handler serves RTCBot's signaling endpoint, POST /connect, with the
// default HandlerSettings: see NewHandler.
func Handler(newConn func(r *http.Request) (*Connection, error)) http.Handler {
	return NewHandler(HandlerSettings{}, newConn)
}

// NewHandler serves RTCBot's signaling endpoint, POST /connect: the body is
// the peer's offer as JSON ({"sdp": ..., "type": "offer"}; any content type,
// as RTCBot's browser client posts text/plain), the response is this side's
// answer as JSON. For every offer it asks newConn for the Connection to
// answer with: a fresh one per request serves one peer after another, or
// many at once (RTCBot's "multiple connections" tutorial), up to
// MaxConnections.
//
// A connection serves one peer, once. If newConn returns a connection that
// has answered already (the pattern "return conn, nil" with one long-lived
// connection, when a page reloads or a desktop retries), the request is
// refused with 409 Conflict and the live connection is left untouched.
//
// Bad requests get a clear error and no connection is left behind: a method
// other than POST is a 405; a page from a foreign origin a 403; a missing
// or wrong token a 401; a body over MaxOfferSize a 413; malformed JSON or
// SDP, or a description over MaxMediaSections or MaxCandidates, a 400 with
// the reason. If newConn fails, its error is a 503; the connection it
// returned is closed when the answer cannot be made.
//
// Media and data are always encrypted (DTLS and SRTP); the token and the
// description travel in the clear unless the handler is served over HTTPS
// (http.ListenAndServeTLS).
func NewHandler(settings HandlerSettings, newConn func(r *http.Request) (*Connection, error)) http.Handler {
	if settings.MaxConnections <= 0 {
		settings.MaxConnections = DefaultMaxConnections
	}
	if settings.Logger == nil {
		settings.Logger = slog.Default()
	}
	return &signalingHandler{settings: settings, newConn: newConn}
}

// signalingHandler is what NewHandler returns.
type signalingHandler struct {
	settings HandlerSettings
	newConn  func(r *http.Request) (*Connection, error)

	mu       sync.Mutex
	pending  int           // offers being answered
	answered []*Connection // open connections, oldest first
}

func (h *signalingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.admit(w, r, "rtcbot: POST the offer to this address", http.MethodPost) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxOfferSize))
	if err != nil {
		h.refuseBody(w, r, err)
		return
	}
	offer, err := parseOffer(body)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	conn, ok := h.newConnection(w, r)
	if !ok {
		return
	}
	answer, err := conn.GetLocalDescription(r.Context(), &offer)
	if errors.Is(err, ErrConnectionUsed) {
		h.unreserve(nil)
		h.refuse(w, r, http.StatusConflict, err.Error()+"; to serve the next peer, make a new Connection for each request")
		return
	}
	if err != nil {
		h.unreserve(nil)
		conn.Close()
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	h.unreserve(conn)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// admit checks what every request must pass, the page's origin, the
// method (one of methods, wrong is explained by wrongMethod), the token and
// Authorize, and answers CORS preflights. It reports whether the request
// goes on; if not, it has been answered.
func (h *signalingHandler) admit(w http.ResponseWriter, r *http.Request, wrongMethod string, methods ...string) bool {
	allowed, cors := h.checkOrigin(r)
	if !allowed {
		h.refuse(w, r, http.StatusForbidden, fmt.Sprintf("rtcbot: pages from %s may not connect (HandlerSettings.AllowedOrigins)", r.Header.Get("Origin")))
		return false
	}
	allow := strings.Join(methods, ", ")
	if cors {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Expose-Headers", "Location")
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions && cors { // a CORS preflight
		w.Header().Set("Access-Control-Allow-Methods", allow)
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", allow)
		h.refuse(w, r, http.StatusMethodNotAllowed, wrongMethod)
		return false
	}
	if h.settings.Token != "" && !hasBearerToken(r, h.settings.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rtcbot"`)
		h.refuse(w, r, http.StatusUnauthorized, ErrUnauthorized.Error())
		return false
	}
	if h.settings.Authorize != nil {
		if err := h.settings.Authorize(r); err != nil {
			h.refuse(w, r, http.StatusForbidden, "rtcbot: not authorized: "+err.Error())
			return false
		}
	}
	return true
}

// refuseBody answers a request whose body could not be read.
func (h *signalingHandler) refuseBody(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("rtcbot: offer larger than %d bytes", MaxOfferSize))
		return
	}
	h.refuse(w, r, http.StatusBadRequest, "rtcbot: reading offer: "+err.Error())
}

// newConnection takes a connection slot and asks newConn for the
// connection to answer with. It reports whether it has one; if not, the
// request has been answered. The caller ends the slot with unreserve.
func (h *signalingHandler) newConnection(w http.ResponseWriter, r *http.Request) (*Connection, bool) {
	replaced, ok := h.reserve()
	if !ok {
		w.Header().Set("Retry-After", "1")
		h.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("rtcbot: %d connections open, the most this robot takes (HandlerSettings.MaxConnections)", h.settings.MaxConnections))
		return nil, false
	}
	if replaced != nil {
		replaced.Close()
	}
	conn, err := h.newConn(r)
	if err != nil {
		h.unreserve(nil)
		h.refuse(w, r, http.StatusServiceUnavailable, "rtcbot: no connection: "+err.Error())
		return nil, false
	}
	return conn, true
}

// refuse answers with an error status and its reason, and logs it.
func (h *signalingHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.settings.Logger.Debug("rtcbot: offer refused", "from", r.RemoteAddr, "status", status, "reason", reason)
	http.Error(w, reason, status)
}

// checkOrigin reports whether a request's Origin may post offers, and
// whether it is a foreign origin allowed by AllowedOrigins (which needs CORS
// headers for the page to read the answer).
func (h *signalingHandler) checkOrigin(r *http.Request) (allowed, cors bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true, false
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return true, false
	}
	for _, o := range h.settings.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true, true
		}
	}
	return false, false
}

// hasBearerToken reports whether r carries token, as "Authorization: Bearer
// <token>" or as the URL's token query parameter. It compares digests in
// constant time, so neither the token nor its length shows in the time
// taken.
func hasBearerToken(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		got = r.URL.Query().Get("token")
	}
	gotSum, wantSum := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(gotSum[:], wantSum[:]) == 1
}

// reserve takes a connection slot for an offer. At MaxConnections it fails,
// or with ReplaceOnReconnect frees the oldest answered connection's slot and
// returns that connection for the caller to close.
func (h *signalingHandler) reserve() (replaced *Connection, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending+len(h.answered) >= h.settings.MaxConnections {
		if !h.settings.ReplaceOnReconnect || len(h.answered) == 0 {
			return nil, false
		}
		replaced = h.answered[0]
		h.answered = h.answered[1:]
	}
	h.pending++
	return replaced, true
}

// unreserve ends an offer: its slot goes to conn until conn closes, or is
// freed if conn is nil.
func (h *signalingHandler) unreserve(conn *Connection) {
	h.mu.Lock()
	h.pending--
	if conn != nil {
		h.answered = append(h.answered, conn)
	}
	h.mu.Unlock()
	if conn != nil {
		conn.OnClose(func() { h.forget(conn) })
	}
}

// forget frees the slot of a connection that closed.
func (h *signalingHandler) forget(conn *Connection) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(h.answered, conn); i >= 0 {
		h.answered = slices.Delete(h.answered, i, i+1)
	}
}

// parseOffer checks that body is an offer in RTCBot's JSON shape, within the
// limits on descriptions.
func parseOffer(body []byte) (SessionDescription, error) {
	var offer SessionDescription
	if err := json.Unmarshal(body, &offer); err != nil {
		return offer, fmt.Errorf("rtcbot: offer is not valid JSON: %w", err)
	}
	if offer.Type != "offer" {
		return offer, fmt.Errorf("%w: expected a description of type \"offer\", got %q", ErrInvalidDescription, offer.Type)
	}
	if !strings.HasPrefix(offer.SDP, "v=0") {
		return offer, fmt.Errorf("%w: the offer's sdp is not a session description (it must start with v=0)", ErrInvalidDescription)
	}
	return offer, checkDescriptionLimits(offer.SDP)
}

// Connect makes conn's offer, posts it to robotURL (a robot's /connect,
// served by Handler or by Python RTCBot) with client (nil means
// http.DefaultClient), and applies the answer: the desktop side of RTCBot's
// offloading tutorial. A token in robotURL's query ("?token=...") is sent as
// it is; errors show the URL with its token hidden.
func Connect(ctx context.Context, conn *Connection, robotURL string, client *http.Client) error {
	if client == nil {
		client = http.DefaultClient
	}
	shown := redactToken(robotURL)
	offer, err := conn.GetLocalDescription(ctx, nil)
	if err != nil {
		return err
	}
	body, err := json.Marshal(offer)
	if err != nil {
		return fmt.Errorf("rtcbot: encode offer: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, robotURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", shown, redactURLError(err, shown))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", shown, redactURLError(err, shown))
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxOfferSize))
	if err != nil {
		return fmt.Errorf("rtcbot: reading answer from %s: %w", shown, err)
	}
	if resp.StatusCode != http.StatusOK {
		body := strings.TrimSpace(string(reply))
		if reason := refusalReason(resp.StatusCode); reason != nil {
			return fmt.Errorf("%w: %s answered %s: %s (%w)", ErrRefused, shown, resp.Status, body, reason)
		}
		return fmt.Errorf("%w: %s answered %s: %s", ErrRefused, shown, resp.Status, body)
	}
	var answer SessionDescription
	if err := json.Unmarshal(reply, &answer); err != nil {
		return fmt.Errorf("rtcbot: answer from %s is not valid JSON: %w", shown, err)
	}
	return conn.SetRemoteDescription(answer)
}

// redactToken returns rawURL with the value of its token query parameter
// hidden, for errors and logs.
func redactToken(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	if q := u.Query(); q.Has("token") {
		q.Set("token", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// redactURLError hides the URL inside the errors of net/http, which repeat
// it, token and all.
func redactURLError(err error, shown string) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		ue.URL = shown
	}
	return err
}

// refusalReason returns the sentinel error of the reason an HTTP status
// from Handler gives for refusing an offer, nil for other statuses.
func refusalReason(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusConflict:
		return ErrConnectionUsed
	case http.StatusBadRequest:
		return ErrInvalidDescription
	}
	return nil
}
