package rtcbot

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// NewWHEPHandler serves WHEP, the open standard for watching a stream, so
// that any WHEP player (a page with a few lines of fetch, GStreamer's
// whepsrc, OBS, a media server pulling the robot, or WatchWHEP) watches
// the robot straight from it, peer to peer. For every offer, POSTed as
// application/sdp, it asks newConn for the Connection to answer with (set
// up to send video: conn.Video().PutSubscription(camera.Subscribe())), and
// answers 201 Created with the answer and a Location, the session's
// address under the handler's own path: a DELETE there closes the
// connection. Serve it at a pattern that covers those addresses, such as
// mux.Handle("/whep/", h), and give players the address "/whep/".
//
// The exchange is the same for WHIP, the other way round: a handler whose
// newConn subscribes to conn.Video() takes robots publishing with
// ConnectWHIP or PublishWHIP, a desktop receiving them without a media
// server.
//
// settings are NewHandler's: Token is the bearer token WHEP sends (also
// required for DELETE), AllowedOrigins the pages of other sites that may
// watch (their CORS preflight is answered, and Location exposed to them),
// MaxConnections the players at once. A connection is ready when media
// flows, since a player opens no data channel. Bad requests get NewHandler's
// errors, and a body that is not application/sdp is a 415; PATCH (trickle
// ICE) is a 405, as WHEP allows, since the answer carries every candidate.
func NewWHEPHandler(settings HandlerSettings, newConn func(r *http.Request) (*Connection, error)) http.Handler {
	h := NewHandler(settings, newConn).(*signalingHandler)
	return &whepHandler{signalingHandler: h, sessions: make(map[string]*Connection)}
}

// whepHandler is what NewWHEPHandler returns.
type whepHandler struct {
	*signalingHandler

	mu       sync.Mutex
	sessions map[string]*Connection // by the last element of their Location
}

func (h *whepHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const wrongMethod = "rtcbot: POST the offer to this address, DELETE the session's; no trickle ICE (PATCH): the answer has every candidate"
	if !h.admit(w, r, wrongMethod, http.MethodPost, http.MethodDelete) {
		return
	}
	if r.Method == http.MethodDelete {
		h.end(w, r)
		return
	}
	if media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); media != "application/sdp" {
		h.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("rtcbot: the offer must be application/sdp, not %q", r.Header.Get("Content-Type")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxOfferSize))
	if err != nil {
		h.refuseBody(w, r, err)
		return
	}
	offer := SessionDescription{SDP: string(body), Type: "offer"}
	if !strings.HasPrefix(offer.SDP, "v=0") {
		h.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("%v: the offer is not a session description (it must start with v=0)", ErrInvalidDescription))
		return
	}
	if err := checkDescriptionLimits(offer.SDP); err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	conn, ok := h.newConnection(w, r)
	if !ok {
		return
	}
	if conn.isDescribed() {
		h.unreserve(nil)
		h.refuse(w, r, http.StatusConflict, ErrConnectionUsed.Error()+"; to serve the next player, make a new Connection for each request")
		return
	}
	conn.mediaSession.Store(true)
	answer, err := conn.GetLocalDescription(r.Context(), &offer)
	if err != nil {
		h.unreserve(nil)
		conn.Close()
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	id := RandomToken()
	h.mu.Lock()
	h.sessions[id] = conn
	h.mu.Unlock()
	h.unreserve(conn)
	conn.OnClose(func() {
		h.mu.Lock()
		delete(h.sessions, id)
		h.mu.Unlock()
	})
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", path.Join(r.URL.Path, id))
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer.SDP)
}

// end closes the session a DELETE names.
func (h *whepHandler) end(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	conn := h.sessions[path.Base(r.URL.Path)]
	h.mu.Unlock()
	if conn == nil {
		h.refuse(w, r, http.StatusNotFound, "rtcbot: no such session (it ended, or was never made)")
		return
	}
	conn.Close()
	w.WriteHeader(http.StatusOK)
}
