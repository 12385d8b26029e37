package rtcbot

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// javaScript is rtcbot.js, the browser client: see JavaScript.
//
//go:embed rtcbot.js
var javaScript []byte

// javaScriptModule is /rtcbot.mjs: the same client as an ES module with
// named exports. It imports rtcbot.js (which sets the global rtcbot when
// run either way) and exports its names, so the client's code exists once.
var javaScriptModule = []byte(`// rtcbot.mjs: rtcbot.js (beside this file) as an ES module.
import "./rtcbot.js";
const rtcbot = globalThis.rtcbot;
export const { RTCConnection, DataChannel, Keyboard, Gamepad, setGamepadRate, Queue, Websocket } = rtcbot;
export default rtcbot;
`)

// JavaScript returns rtcbot.js, the library's browser client (RTCBot's
// getRTCBotJS): one plain file with the API of Python RTCBot's JavaScript
// client (RTCConnection, Keyboard, Gamepad, setGamepadRate, Queue,
// Websocket), so a page written for RTCBot works unchanged. Loaded with
// <script src="/rtcbot.js"> it defines the global rtcbot. Most programs
// serve it with JavaScriptHandler instead.
func JavaScript() []byte { return bytes.Clone(javaScript) }

// JavaScriptHandler serves the browser client: rtcbot.js (see JavaScript)
// for a request whose path ends in .js, and rtcbot.mjs, the same client as
// an ES module with named exports
//
//	import { RTCConnection, Keyboard } from "/rtcbot.mjs";
//
// for one ending in .mjs. Mount it at both:
//
//	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
//	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
//
// It answers GET and HEAD, as text/javascript, with an ETag of the content
// and "Cache-Control: no-cache": a browser keeps its copy and asks each
// time whether it is still current (304 Not Modified when it is), so a
// robot running a newer rtcbot never serves a stale client.
func JavaScriptHandler() http.Handler { return javaScriptHandler{} }

type javaScriptHandler struct{}

// The ETags of the two files, made once.
var (
	javaScriptETag       = etag(javaScript)
	javaScriptModuleETag = etag(javaScriptModule)
)

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func (javaScriptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "rtcbot.js is read with GET", http.StatusMethodNotAllowed)
		return
	}
	body, tag := javaScript, javaScriptETag
	if strings.HasSuffix(r.URL.Path, ".mjs") {
		body, tag = javaScriptModule, javaScriptModuleETag
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", tag)
	// ServeContent answers If-None-Match with 304, ranges and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
