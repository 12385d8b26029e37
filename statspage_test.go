package rtcbot

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/internal/browsertest"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// The handler serves the page and its two scripts under any directory,
// mounted with or without StripPrefix, and nothing else.
func TestStatsHandler(t *testing.T) {
	h := StatsHandler(StatsPageSettings{
		SignalingURL: "/robot/connect",
		ICEServers:   []webrtc.ICEServer{{URLs: []string{"stun:stun.example.com:3478"}, Username: "u", Credential: "p"}},
	})
	mux := http.NewServeMux()
	mux.Handle("GET /stats/", h)
	mux.Handle("/strip/", http.StripPrefix("/strip", h))
	mux.Handle("/stripall/", http.StripPrefix("/stripall/", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(method, path string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		return resp, body.Bytes()
	}

	const html, js = "text/html; charset=utf-8", "text/javascript; charset=utf-8"
	for _, tc := range []struct {
		path, contentType string
		want              []byte // nil: the page
	}{
		{"/stats/", html, nil},
		{"/stats/index.html", html, nil},
		{"/stats/rtcbot.js", js, javaScript},
		{"/stats/timecode.js", js, timecode.JavaScript()},
		{"/strip/", html, nil},
		{"/strip/rtcbot.js", js, javaScript},
		{"/stripall/", html, nil},
		{"/stripall/timecode.js", js, timecode.JavaScript()},
	} {
		resp, body := get("GET", tc.path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s: %s, %q; want 200, %q", tc.path, resp.Status, resp.Header.Get("Content-Type"), tc.contentType)
			continue
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v, want an ETag, no-cache and nosniff", tc.path, resp.Header)
		}
		if tc.want != nil && !bytes.Equal(body, tc.want) {
			t.Errorf("GET %s: %d bytes, not the file", tc.path, len(body))
		}
		if tc.want == nil && !bytes.Contains(body, []byte("<title>rtcbot statistics</title>")) {
			t.Errorf("GET %s: not the page", tc.path)
		}
		// Served again, unchanged: 304.
		if resp, _ := get("GET", tc.path, http.Header{"If-None-Match": {resp.Header.Get("ETag")}}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %s, want 304", tc.path, resp.Status)
		}
	}
	for _, path := range []string{"/stats/rtcbot.mjs", "/stats/nothing.js", "/stats/sub/x.html", "/strip/stats.html", "/stats/index.htm"} {
		if resp, _ := get("GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
	if resp, _ := get("GET", "/stats?token=abc", nil); resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/stats/?token=abc" {
		t.Errorf("GET /stats?token=abc: %s to %q, want a redirect to /stats/?token=abc", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := get("POST", "/strip/", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s (Allow %q), want 405 with Allow: GET, HEAD", resp.Status, resp.Header.Get("Allow"))
	}
	if resp, body := get("HEAD", "/stats/", nil); resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != html {
		t.Errorf("HEAD: %s with %d bytes", resp.Status, len(body))
	}

	// The page's settings, and nothing loaded from elsewhere: only its two
	// scripts, by relative URL.
	_, page := get("GET", "/stats/", nil)
	config := regexp.MustCompile(`(?s)<script type="application/json" id="rtcbot-stats-config">(.*?)</script>`).FindSubmatch(page)
	if config == nil {
		t.Fatal("the page has no settings")
	}
	var got statsPageConfig
	if err := json.Unmarshal(config[1], &got); err != nil {
		t.Fatalf("the page's settings %s: %v", config[1], err)
	}
	want := statsPageConfig{SignalingURL: "/robot/connect", StatsChannel: StatsChannelLabel, ICEServers: []statsPageICEServer{{URLs: []string{"stun:stun.example.com:3478"}, Username: "u", Credential: "p"}}}
	if got.SignalingURL != want.SignalingURL || got.StatsChannel != want.StatsChannel || !slices.EqualFunc(got.ICEServers, want.ICEServers, func(a, b statsPageICEServer) bool {
		return slices.Equal(a.URLs, b.URLs) && a.Username == b.Username && a.Credential == b.Credential
	}) {
		t.Errorf("the page's settings are %+v, want %+v", got, want)
	}
	var srcs []string
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllSubmatch(page, -1) {
		srcs = append(srcs, string(m[1]))
	}
	if !slices.Equal(srcs, []string{"data:,", "rtcbot.js", "timecode.js"}) {
		t.Errorf("the page loads %q, want only rtcbot.js and timecode.js (and an empty icon)", srcs)
	}
	if bytes.Contains(page, []byte("http://")) || bytes.Contains(page, []byte("https://")) || bytes.Contains(page, []byte("@import")) {
		t.Error("the page names a URL elsewhere")
	}

	// The defaults: /connect. A URL that would end the script is escaped.
	rec := httptest.NewRecorder()
	StatsHandler(StatsPageSettings{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), `"signalingURL":"/connect"`) || !strings.Contains(rec.Body.String(), `"iceServers":[]`) {
		t.Errorf("default settings not in the page: %s", regexp.MustCompile(`\{"signalingURL[^\n]*`).FindString(rec.Body.String()))
	}
	rec = httptest.NewRecorder()
	StatsHandler(StatsPageSettings{SignalingURL: "/c</script><script>alert(1)</script>"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(rec.Body.String(), "<script>alert") {
		t.Error("a SignalingURL with </script> ends the settings' script element")
	}
}

// LinkStats's JSON has stable lower camel case names and RTT in
// milliseconds, and decodes back.
func TestStatsLinkStatsJSON(t *testing.T) {
	s := LinkStats{RTT: 12345678 * time.Nanosecond, TargetBitrate: 1_000_000, SentBitrate: 900_000, ResentBitrate: 20_000,
		VideoBytesSent: 5, VideoBytesResent: 1, PeerLoss: 0.25, NACKsReceived: 3, KeyframeRequestsReceived: 2, ResendsDropped: 1,
		KeyframesSent: 4, VideoFramesSent: 40, EstimateSent: 750000, VideoPacketsReceived: 100, VideoBytesReceived: 14, NACKsSent: 6, KeyframeRequestsSent: 7, PacketsRepaired: 8, PacketsGivenUp: 9,
		FramesDecoded: 10, FramesIncomplete: 11, FramesSkipped: 12, FramesRefused: 13}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rttMs":12.346,"targetBitrate":1000000,"sentBitrate":900000,"resentBitrate":20000,"videoBytesSent":5,"videoBytesResent":1,` +
		`"peerLoss":0.25,"nacksReceived":3,"keyframeRequestsReceived":2,"resendsDropped":1,"keyframesSent":4,"videoFramesSent":40,"estimateSent":750000,"videoPacketsReceived":100,"videoBytesReceived":14,` +
		`"nacksSent":6,"keyframeRequestsSent":7,"packetsRepaired":8,"packetsGivenUp":9,"framesDecoded":10,"framesIncomplete":11,` +
		`"framesSkipped":12,"framesRefused":13}`
	if string(b) != want {
		t.Fatalf("JSON\n%s\nwant\n%s", b, want)
	}
	var back LinkStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s.RTT = 12346 * time.Microsecond // to the microsecond
	if back != s {
		t.Fatalf("decoded %+v, want %+v", back, s)
	}
	// As a message: what DecodeMessage makes of the decoded JSON.
	if got, err := DecodeMessage[LinkStats](decodeText(b)); err != nil || got != s {
		t.Fatalf("DecodeMessage: %+v, %v", got, err)
	}
}

// statsSenders counts the goroutines sending a connection's stats.
func statsSenders() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "rtcbot.(*Connection).sendStats(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// A channel the peer opens with StatsChannelLabel brings the connection's
// LinkStats, as JSON, once a second, until it or the connection closes; it
// is the connection's own, not the program's.
func TestStatsChannel(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 160, Height: 120})
	t.Cleanup(func() { cam.Close() })
	robot, desktop := newConn(t), newConn(t)
	robot.Video().PutSubscription(cam)
	frames := desktop.Video().Subscribe()
	var (
		mu     sync.Mutex
		labels []string
	)
	robot.OnDataChannel(func(d *DataChannel) {
		mu.Lock()
		labels = append(labels, d.Label())
		mu.Unlock()
	})
	stats, err := desktop.AddDataChannel(StatsChannelLabel, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desktop.AddDataChannel("other", true); err != nil {
		t.Fatal(err)
	}
	got := stats.Subscribe()
	connectPair(t, desktop, robot)
	mustGetWithin(t, frames)

	// The first message at once, with every name.
	first, ok := mustGetWithin(t, got).(map[string]any)
	if !ok {
		t.Fatalf("first message is not a JSON object")
	}
	for _, name := range []string{"rttMs", "targetBitrate", "sentBitrate", "resentBitrate", "peerLoss", "keyframesSent", "nacksReceived", "framesDecoded"} {
		if _, ok := first[name]; !ok {
			t.Errorf("the stats lack %q: %v", name, first)
		}
	}
	// Then one a second, counting the video sent.
	var last LinkStats
	for n := 0; n < 2 || last.VideoBytesSent == 0 || last.KeyframesSent == 0 || last.SentBitrate == 0; n++ {
		start := time.Now()
		if last, err = DecodeMessage[LinkStats](mustGetWithin(t, got)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("a message after %v, want one a second", d)
		}
	}
	t.Logf("robot stats: %v", last)

	// Not the program's: only "other" went to OnDataChannel.
	eventually(t, "the other channel", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(labels) > 0
	})
	mu.Lock()
	if !slices.Equal(labels, []string{"other"}) {
		t.Errorf("OnDataChannel got %q, want only \"other\"", labels)
	}
	mu.Unlock()
	if d := robot.DataChannelByName(StatsChannelLabel); d != nil {
		t.Errorf("DataChannelByName(%q) returned the stats channel", StatsChannelLabel)
	}
	if d := robot.DataChannelByName("other"); d == nil {
		t.Error("DataChannelByName(\"other\") = nil")
	}

	// Closing the channel ends the sending; the connection goes on, and a
	// new one (once connected) brings stats again.
	if k := statsSenders(); k != 1 {
		t.Errorf("%d goroutines send stats, want 1", k)
	}
	stats.Close()
	eventually(t, "the stats sender to end", func() bool { return statsSenders() == 0 })
	again, err := desktop.AddDataChannel(StatsChannelLabel, true)
	if err != nil {
		t.Fatal(err)
	}
	first2, err := again.Subscribe().Get(mediaCtx(t))
	if err != nil {
		// Seen once in CI, with other packages' tests loading the machine,
		// and not since in 60 runs under load: say where it stopped.
		t.Fatalf("no stats on the reopened channel: %v (desktop's channel %v, robot's stats senders %d)", err, again.dc.ReadyState(), statsSenders())
	}
	if _, err := DecodeMessage[LinkStats](first2); err != nil {
		t.Fatal(err)
	}
	robot.Put("still here")
	if m := mustGetWithin(t, desktop.Subscribe()); m != "still here" {
		t.Errorf("desktop got %#v", m)
	}
	// Closing the connection ends it too.
	robot.Close()
	if k := statsSenders(); k != 0 {
		t.Errorf("after Close, %d goroutines send stats", k)
	}
	closedWithin(t, again.Done(), "the desktop's stats channel")
}

// The statistics page, in Chromium, watching a robot that streams the
// test pattern: its plots fill with sane figures from both sides, and the
// glass-to-glass latency from the time code.
func TestStatsPageInBrowser(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 640, Height: 480, FPS: 30})
	t.Cleanup(func() { cam.Close() })
	token := RandomToken()
	conns := make(chan *Connection, 1)
	mux := http.NewServeMux()
	mux.Handle("GET /stats/", StatsHandler(StatsPageSettings{}))
	mux.Handle("/connect", loopbackOffers(t, NewHandler(HandlerSettings{Token: token}, browserConn(t, loopbackSettings(), conns, func(c *Connection) { c.Video().PutSubscription(cam) }))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tab := browsertest.Start(t).Tab()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	browsertest.Open(t, tab, srv.URL+"/stats?token="+token) // redirected to /stats/, the token kept
	robotSide := recv(t, conns)
	browsertest.WaitFor(t, tab, `window.statsReady && rtcbotStats.latest.latency.mean != null && rtcbotStats.samples >= 8`, "eight samples with the robot's stats and the latency")
	t.Logf("plots have data after %v", time.Since(start).Round(time.Millisecond))

	// The readouts beside the plots, as the page shows them.
	readout := func(id string) float64 {
		t.Helper()
		text := browsertest.Eval[string](t, tab, `document.getElementById("value-`+id+`").dataset.value`)
		v, err := parseFloat(text)
		if err != nil {
			shown := browsertest.Eval[string](t, tab, `document.getElementById("value-`+id+`").textContent`)
			t.Fatalf("readout %s is %q (%q), not a number", id, shown, text)
		}
		return v
	}
	checks := []struct {
		id       string
		min, max float64
	}{
		{"fps-decoded", 10, 40},
		{"fps-presented", 10, 40},
		{"latency-mean", 0, 1000},
		{"latency-max", 0, 1000},
		{"bitrate-received", 10, 20000},
		{"bitrate-robotSent", 10, 20000},
		{"rtt-robot", 0, 1000},
		{"keyframes-decoded", 1, 1000},
		{"keyframes-robotSent", 1, 1000},
		{"framesize-average", 0.05, 500},
	}
	for _, c := range checks {
		if v := readout(c.id); v < c.min || v > c.max {
			t.Errorf("readout %s = %g, want %g to %g", c.id, v, c.min, c.max)
		} else {
			t.Logf("%s: %g", c.id, v)
		}
	}
	if text := browsertest.Eval[string](t, tab, `document.getElementById("value-latency-mean").textContent`); strings.Contains(text, "no time code") {
		t.Errorf("latency readout says %q with the test pattern streaming", text)
	}
	if text := browsertest.Eval[string](t, tab, `document.getElementById("status").textContent`); text != "connected" {
		t.Errorf("status %q, want connected", text)
	}
	if got := robotSide.LinkStats(); got.VideoBytesSent == 0 {
		t.Errorf("robot side sent no video: %v", got)
	}

	// A screenshot: the video and the plots' lines, in many colours.
	shot, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stats-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if err := os.WriteFile("/tmp/stats-page.png", shot, 0o644); err != nil {
		t.Logf("no copy at /tmp/stats-page.png: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 500 {
		t.Errorf("the screenshot (%v) has %d colours, want many", b.Size(), len(colours))
	}
	// In each plot, pixels of its lines: of a colour, where the plot's
	// background, grid and labels are grey.
	type rect struct{ X, Y, W, H float64 }
	plots := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll(".plot")].map((p) => p.id)`)
	if len(plots) != 9 {
		t.Errorf("%d plots, want 9: %q", len(plots), plots)
	}
	for _, id := range plots {
		r := browsertest.Eval[rect](t, tab, `(() => { const r = document.querySelector("#`+id+` canvas").getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`)
		area := image.Rect(int(r.X), int(r.Y), int(r.X+r.W), int(r.Y+r.H)).Intersect(b)
		line := 0
		for y := area.Min.Y; y < area.Max.Y; y++ {
			for x := area.Min.X; x < area.Max.X; x++ {
				if colourful(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)) {
					line++
				}
			}
		}
		if area.Empty() || line < 20 {
			t.Errorf("%s (%v): %d pixels of its lines, want lines", id, area, line)
		}
	}
}

// colourful reports whether c is far from grey, as the plots' lines are.
func colourful(c color.RGBA) bool {
	return max(c.R, c.G, c.B)-min(c.R, c.G, c.B) > 60
}

// parseFloat parses a readout's number.
func parseFloat(s string) (float64, error) {
	var v float64
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}
