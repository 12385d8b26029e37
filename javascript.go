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

// The two files, with their ETags made once.
var (
	javaScriptFile       = newServedFile(javaScript, javaScriptType)
	javaScriptModuleFile = newServedFile(javaScriptModule, javaScriptType)
)

// javaScriptType is the content type of JavaScript (RFC 9239).
const javaScriptType = "text/javascript; charset=utf-8"

func (javaScriptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r, "rtcbot.js") {
		return
	}
	f := javaScriptFile
	if strings.HasSuffix(r.URL.Path, ".mjs") {
		f = javaScriptModuleFile
	}
	f.serve(w, r)
}

// servedFile is an embedded file a handler serves (JavaScriptHandler,
// StatsHandler).
type servedFile struct {
	body        []byte
	contentType string
	etag        string
}

// newServedFile makes a servedFile, its ETag from its content.
func newServedFile(body []byte, contentType string) servedFile {
	sum := sha256.Sum256(body)
	return servedFile{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// serve writes f with its content type, its ETag and "Cache-Control:
// no-cache", so that a browser keeps its copy but asks each time whether it
// is still current.
func (f servedFile) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", f.etag)
	// ServeContent answers If-None-Match with 304, ranges and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// readOnly reports whether r is a GET or HEAD, answering anything else
// with 405 Method Not Allowed; what names what is served.
func readOnly(w http.ResponseWriter, r *http.Request, what string) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, what+" is read with GET", http.StatusMethodNotAllowed)
	return false
}
