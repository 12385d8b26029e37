package rtcbot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// statsPage is the statistics page, with {{config}} where StatsHandler
// puts its settings.
//
//go:embed statspage.html
var statsPage []byte

// StatsPageSettings configures the statistics page (StatsHandler). The zero
// value serves a page that connects through /connect.
type StatsPageSettings struct {
	// SignalingURL is where the page posts its offer: the robot's Handler,
	// default "/connect". A relative URL is taken from the page's own. The
	// page sends the "token" query parameter of its own URL with the offer
	// (as "Authorization: Bearer"), so with HandlerSettings.Token open it at
	// .../stats/?token=....
	SignalingURL string
	// ICEServers are the STUN and TURN servers the page's connection uses;
	// default none, which is enough when the browser reaches the robot
	// directly, as ConnectionSettings'.
	ICEServers []webrtc.ICEServer
}

// StatsHandler serves a live statistics page, for watching a robot's link
// from a browser: the page connects to the robot as a viewer, through the
// robot's own Handler (StatsPageSettings.SignalingURL), shows its video and
// plots, once a second over the last minute, the frame rate, bitrate, round
// trip, packet loss, keyframes and repair requests, jitter-buffer delay and
// frame size that the browser's getStats() reports, beside the robot's own
// figures (its LinkStats, which it sends on a StatsChannelLabel channel the
// page opens: estimate, sending and resent bitrate, round trip, the loss the
// browser reports, keyframes sent, NACKs received), and, when the frames
// carry the time code (NewTestPatternCamera's do, see package timecode),
// the glass-to-glass latency of each frame, from capture on the robot to
// the browser showing it (the two clocks must agree). Each plot shows its
// current values beside it. The page loads nothing from elsewhere.
//
// The page is a viewer connection like any other: the robot's Handler makes
// it with its newConn and counts it in MaxConnections (with
// MaxConnections 1 and ReplaceOnReconnect it takes the place of the
// driver's connection).
//
// The handler serves, under a path ending in a slash, the page at the path
// itself (or index.html), and the two scripts the page loads by relative
// URL: rtcbot.js (the client, as JavaScriptHandler serves it) and
// timecode.js (timecode.JavaScript). Only the path's last element counts,
// so mount it at a pattern ending in a slash, with or without
// http.StripPrefix:
//
//	mux.Handle("GET /stats/", rtcbot.StatsHandler(rtcbot.StatsPageSettings{}))
//
// and open http://robot:8080/stats/ (ServeMux redirects /stats there). Other
// names are 404 Not Found. It answers GET and HEAD, with an ETag and
// "Cache-Control: no-cache", as JavaScriptHandler does.
func StatsHandler(settings StatsPageSettings) http.Handler {
	if settings.SignalingURL == "" {
		settings.SignalingURL = "/connect"
	}
	config := statsPageConfig{SignalingURL: settings.SignalingURL, StatsChannel: StatsChannelLabel, ICEServers: []statsPageICEServer{}}
	for _, s := range settings.ICEServers {
		server := statsPageICEServer{URLs: s.URLs, Username: s.Username}
		server.Credential, _ = s.Credential.(string)
		config.ICEServers = append(config.ICEServers, server)
	}
	// json.Marshal escapes <, > and &, so the settings cannot end the
	// script element they go in.
	encoded, err := json.Marshal(config)
	if err != nil {
		panic("rtcbot: encode the statistics page's settings: " + err.Error()) // strings only: cannot fail
	}
	page := bytes.Replace(statsPage, []byte("{{config}}"), encoded, 1)
	pageFile := newServedFile(page, "text/html; charset=utf-8")
	return statsHandler{files: map[string]servedFile{
		"":            pageFile,
		"index.html":  pageFile,
		"rtcbot.js":   javaScriptFile,
		"timecode.js": newServedFile(timecode.JavaScript(), javaScriptType),
	}}
}

// statsPageConfig is the page's settings, as the page reads them.
type statsPageConfig struct {
	SignalingURL string               `json:"signalingURL"`
	StatsChannel string               `json:"statsChannel"`
	ICEServers   []statsPageICEServer `json:"iceServers"`
}

// statsPageICEServer is an RTCIceServer, as a browser takes it.
type statsPageICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

type statsHandler struct {
	files map[string]servedFile // by the last element of the path
}

func (h statsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r, "the statistics page") {
		return
	}
	name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the page's URL may hold the token
	f.serve(w, r)
}
