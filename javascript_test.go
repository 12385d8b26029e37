package rtcbot

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJavaScriptHandler(t *testing.T) {
	h := JavaScriptHandler()
	serve := func(method, path string, header http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		for k, v := range header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	js := serve("GET", "/rtcbot.js", nil)
	if js.Code != 200 || !bytes.Equal(js.Body.Bytes(), JavaScript()) {
		t.Fatalf("GET /rtcbot.js: %d, %d bytes; want 200 and the client", js.Code, js.Body.Len())
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/javascript; charset=utf-8",
		"Cache-Control":          "no-cache",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := js.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	tag := js.Header().Get("ETag")
	if len(tag) < 10 || tag[0] != '"' {
		t.Fatalf("ETag %q, want a quoted tag", tag)
	}
	if again := serve("GET", "/rtcbot.js", http.Header{"If-None-Match": {tag}}); again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("GET with If-None-Match: %d with %d bytes, want 304 and none", again.Code, again.Body.Len())
	}
	if head := serve("HEAD", "/rtcbot.js", nil); head.Code != 200 || head.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes, want 200 and none", head.Code, head.Body.Len())
	}
	if post := serve("POST", "/rtcbot.js", nil); post.Code != http.StatusMethodNotAllowed || post.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405 and GET, HEAD", post.Code, post.Header().Get("Allow"))
	}
	mjs := serve("GET", "/static/rtcbot.mjs", nil)
	if mjs.Code != 200 || !strings.Contains(mjs.Body.String(), `import "./rtcbot.js"`) || !strings.Contains(mjs.Body.String(), "export const { RTCConnection") {
		t.Fatalf("GET rtcbot.mjs: %d %q", mjs.Code, mjs.Body.String())
	}
	if mjs.Header().Get("ETag") == tag {
		t.Error("rtcbot.mjs has rtcbot.js's ETag")
	}
	// The module exports every name the client defines.
	for _, name := range []string{"RTCConnection", "DataChannel", "Keyboard", "Gamepad", "setGamepadRate", "Queue", "Websocket"} {
		if !strings.Contains(mjs.Body.String(), name) || !strings.Contains(string(javaScript), "class "+name) && !strings.Contains(string(javaScript), "function "+name) {
			t.Errorf("%s is not both defined in rtcbot.js and exported by rtcbot.mjs", name)
		}
	}
}
