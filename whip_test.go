package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/browsertest"
)

// requestLog records the requests a server answered: method, path and
// status, and the bodies of POSTs.
type requestLog struct {
	mu    sync.Mutex
	lines []string
	posts []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 2*MaxOfferSize))
			l.mu.Lock()
			l.posts = append(l.posts, string(body))
			l.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		l.mu.Lock()
		l.lines = append(l.lines, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
		l.mu.Unlock()
	})
}

func (l *requestLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *requestLog) offers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.posts...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// whepRobotHandler is a robot's WHEP handler, sending its test pattern
// with token; the connections it answers arrive on the returned channel.
func whepRobotHandler(t *testing.T, token string) (http.Handler, <-chan *Connection) {
	t.Helper()
	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240})
	t.Cleanup(func() { cam.Close() })
	var conns ConnectionSet
	t.Cleanup(func() { conns.Close() })
	made := make(chan *Connection, 16)
	return NewWHEPHandler(HandlerSettings{Token: token}, func(*http.Request) (*Connection, error) {
		c, err := NewConnection(loopbackSettings())
		if err != nil {
			return nil, err
		}
		c.Video().PutSubscription(cam.Subscribe())
		made <- c
		return c, conns.Add(c)
	}), made
}

// whepRobot serves whepRobotHandler at /whep/, its requests logged.
func whepRobot(t *testing.T, token string, log *requestLog) (*httptest.Server, <-chan *Connection) {
	t.Helper()
	h, made := whepRobotHandler(t, token)
	mux := http.NewServeMux()
	mux.Handle("/whep/", log.wrap(h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, made
}

// whipDesktop is a desktop's handler taking WHIP publishers with token:
// the subscription to each one's video arrives on received, and its
// connections, in the returned set, close when the test ends.
func whipDesktop(t *testing.T, token string, received chan<- Subscription[image.Image]) (http.Handler, *ConnectionSet) {
	conns := &ConnectionSet{}
	t.Cleanup(func() { conns.Close() })
	return NewWHEPHandler(HandlerSettings{Token: token}, func(*http.Request) (*Connection, error) {
		c, err := NewConnection(loopbackSettings())
		if err != nil {
			return nil, err
		}
		received <- c.Video().Subscribe()
		return c, conns.Add(c)
	}), conns
}

// Two desktops watch a robot over WHEP at once; each gets the robot's
// pictures, and closing one ends its session on the robot with a DELETE
// of its Location, leaving the other.
func TestWHEP(t *testing.T) {
	var log requestLog
	srv, made := whepRobot(t, "secret", &log)
	var desktops []*Connection
	for range 2 {
		d, err := NewConnection(loopbackSettings())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		sub := d.Video().Subscribe()
		if err := ConnectWHEP(testCtx(t), d, srv.URL+"/whep/", "secret", nil); err != nil {
			t.Fatal(err)
		}
		closedWithin(t, d.Ready(), "a WHEP viewer's connection ready")
		desktops = append(desktops, d)
		readStamps(t, sub, 10, 320, 240)
	}
	robots := []*Connection{<-made, <-made}
	for i, r := range robots {
		closedWithin(t, r.Ready(), fmt.Sprintf("robot connection %d ready", i))
	}
	offer := log.offers()[0]
	video := strings.SplitN(offer, "m=video", 2)
	if len(video) != 2 || !strings.Contains(strings.SplitN(video[1], "m=", 2)[0], "a=recvonly") {
		t.Fatalf("the viewer's video is not offered recvonly:\n%s", offer)
	}

	desktops[0].Close()
	closedWithin(t, robots[0].Done(), "the robot's connection after its viewer closed")
	seen := log.seen()
	if len(seen) != 3 || !strings.HasPrefix(seen[2], "DELETE /whep/") || !strings.HasSuffix(seen[2], " 200") {
		t.Fatalf("requests %q, want two POSTs and a DELETE of the first session, answered 200", seen)
	}
	select {
	case <-robots[1].Done():
		t.Fatal("the other viewer's session closed too")
	default:
	}
	if !robots[1].IsReady() {
		t.Fatal("the other viewer's session is not ready")
	}
}

// A robot publishes with ConnectWHIP to a desktop serving WHIP (the same
// handler, receiving): its tracks are offered sendonly, the pictures
// arrive, and the session ends with a DELETE when the robot closes.
func TestWHIP(t *testing.T) {
	var log requestLog
	received := make(chan Subscription[image.Image], 1)
	h, _ := whipDesktop(t, "tok", received)
	srv := httptest.NewServer(log.wrap(h))
	t.Cleanup(srv.Close)

	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240})
	t.Cleanup(func() { cam.Close() })
	robot, err := NewConnection(loopbackSettings())
	if err != nil {
		t.Fatal(err)
	}
	robot.Video().PutSubscription(cam.Subscribe())
	if err := ConnectWHIP(testCtx(t), robot, srv.URL+"/ingest", "tok", nil); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, robot.Ready(), "the publisher ready")
	// The 11th picture was encoded after the 10th was counted.
	readStamps(t, <-received, 11, 320, 240)
	if st := robot.LinkStats(); st.VideoFramesSent < 10 || st.KeyframesSent < 1 || st.KeyframesSent > st.VideoFramesSent {
		t.Fatalf("after 10 pictures arrived, the publisher counts %d frames sent, %d keyframes", st.VideoFramesSent, st.KeyframesSent)
	}
	video := strings.SplitN(log.offers()[0], "m=video", 2)
	if len(video) != 2 || !strings.Contains(strings.SplitN(video[1], "m=", 2)[0], "a=sendonly") {
		t.Fatalf("the publisher's video is not offered sendonly:\n%s", log.offers()[0])
	}
	if err := ConnectWHIP(testCtx(t), robot, srv.URL+"/ingest", "tok", nil); !errors.Is(err, ErrConnectionUsed) {
		t.Fatalf("ConnectWHIP again on a used connection: %v, want ErrConnectionUsed", err)
	}
	robot.Close()
	// Close returns once the DELETE was answered.
	seen := log.seen()
	if len(seen) != 2 || !strings.HasPrefix(seen[1], "DELETE /ingest/") || !strings.HasSuffix(seen[1], " 200") {
		t.Fatalf("requests %q, want a POST and a DELETE answered 200", seen)
	}
}

// PublishWHIP republishes when the server goes away and comes back on its
// address, within a bounded number of attempts, and returns when its
// context ends.
func TestPublishWHIPRestart(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	received := make(chan Subscription[image.Image], 4)
	// serve serves WHIP on l, its sessions its own.
	serve := func(l net.Listener) (*http.Server, *ConnectionSet) {
		h, conns := whipDesktop(t, "", received)
		srv := &http.Server{Handler: h}
		go srv.Serve(l)
		return srv, conns
	}
	srv, conns := serve(l)

	cam := NewTestPatternCamera(CameraSettings{Width: 320, Height: 240})
	t.Cleanup(func() { cam.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		s := ReconnectSettings{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxAttempts: 50}
		done <- PublishWHIP(ctx, "http://"+addr+"/whip", "", s, func() (*Connection, error) {
			c, err := NewConnection(loopbackSettings())
			if err != nil {
				return nil, err
			}
			c.Video().PutSubscription(cam.Subscribe())
			return c, nil
		})
	}()
	readStamps(t, <-received, 5, 320, 240)

	// The server stops, its sessions with it; the robot retries while it
	// is away.
	srv.Close()
	conns.Close()
	l, err = net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ = serve(l)
	defer srv.Close()
	readStamps(t, <-received, 5, 320, 240)

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("PublishWHIP = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PublishWHIP did not return after its context ended")
	}
}

// What a WHEP handler refuses, with the status and a reason.
func TestWHEPHandlerRefuses(t *testing.T) {
	var log requestLog
	srv, _ := whepRobot(t, "secret", &log)
	offer := func() string {
		c, err := NewConnection(loopbackSettings())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Video().Subscribe()
		d, err := c.GetLocalDescription(testCtx(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return d.SDP
	}()
	for _, tc := range []struct {
		name, method, path, contentType, token, body string
		status                                       int
		reason                                       string
	}{
		{"no token", "POST", "/whep/", "application/sdp", "", offer, 401, "token"},
		{"wrong token", "POST", "/whep/", "application/sdp", "nope", offer, 401, "token"},
		{"JSON offer", "POST", "/whep/", "application/json", "secret", `{"sdp":"v=0","type":"offer"}`, 415, "application/sdp"},
		{"not SDP", "POST", "/whep/", "application/sdp", "secret", "hello", 400, "v=0"},
		{"broken SDP", "POST", "/whep/", "application/sdp", "secret", "v=0\r\nm=video\r\n", 400, "invalid session description"},
		{"trickle", "PATCH", "/whep/abc", "application/trickle-ice-sdpfrag", "secret", "a=candidate", 405, "PATCH"},
		{"GET", "GET", "/whep/", "", "secret", "", 405, "POST"},
		{"unknown session", "DELETE", "/whep/abc", "", "secret", "", 404, "no such session"},
		{"DELETE without token", "DELETE", "/whep/abc", "", "", "", 401, "token"},
		{"too big", "POST", "/whep/", "application/sdp", "secret", "v=0\r\n" + strings.Repeat("a=x\r\n", MaxOfferSize/5+1), 413, "larger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.reason) {
				t.Fatalf("%s %s: %d %q, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.reason)
			}
		})
	}
	// A page of an allowed origin may read Location.
	h := NewWHEPHandler(HandlerSettings{AllowedOrigins: []string{"https://ops.example"}}, nil)
	req := httptest.NewRequest(http.MethodOptions, "/whep/", nil)
	req.Header.Set("Origin", "https://ops.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Expose-Headers") != "Location" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}

// What a WHIP or WHEP server may answer that is not a session: each is a
// clear error, and the connection closes cleanly after it.
func TestConnectWHIPServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   []error
		reason string
	}{
		{"unauthorized", 401, "invalid token\n", []error{ErrRefused, ErrUnauthorized}, `"invalid token"`},
		{"forbidden", 403, "room closed", []error{ErrRefused, ErrUnauthorized}, "403"},
		{"bad offer", 400, "no video", []error{ErrRefused, ErrInvalidDescription}, "no video"},
		{"not found", 404, "", []error{ErrRefused}, "404"},
		{"server error", 500, strings.Repeat("x", 1000) + "\x1b[2J", []error{ErrRefused}, "..."},
		{"JSON answer", 201, `{"sdp":"v=0","type":"answer"}`, []error{ErrInvalidDescription}, "not a session description"},
		{"huge answer", 201, "v=0\r\n" + strings.Repeat("a", MaxOfferSize), []error{ErrInvalidDescription}, "larger"},
		{"broken answer", 201, "v=0\r\nm=video\r\n", []error{ErrInvalidDescription}, "answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					return // the connection closing after a 201
				}
				if r.Header.Get("Content-Type") != "application/sdp" || r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("request headers %v", r.Header)
				}
				w.Header().Set("Location", "/session/1")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := NewConnection(loopbackSettings())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Video().Subscribe()
			err = ConnectWHEP(testCtx(t), c, srv.URL+"/whep", "tok", nil)
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want it to match %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tc.reason) || strings.Contains(err.Error(), "\x1b") {
				t.Fatalf("err = %q, want it to show %q and no control characters", err, tc.reason)
			}
		})
	}
}

// Chromium watches the robot over WHEP with a page of plain fetch calls,
// as any WHEP player does, and ends its session with a DELETE.
func TestBrowserWHEP(t *testing.T) {
	var log requestLog
	h, made := whepRobotHandler(t, "secret")
	mux := browserPage()
	mux.Handle("/whep/", log.wrap(loopbackSDPOffers(t, h)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := openBrowserPage(t, srv)
	browsertest.Eval[bool](t, tab, `(async () => {
		const pc = new RTCPeerConnection();
		pc.addTransceiver("video", {direction: "recvonly"});
		const video = document.querySelector("video");
		pc.ontrack = (e) => (video.srcObject = e.streams[0] || new MediaStream([e.track]));
		window.stamps = [];
		const reader = new timecode.Reader(video);
		video.requestVideoFrameCallback(function frame() {
			const s = reader.read();
			if (s) stamps.push(s.seq);
			video.requestVideoFrameCallback(frame);
		});
		await pc.setLocalDescription(await pc.createOffer());
		await new Promise((done) => {
			if (pc.iceGatheringState === "complete") return done();
			pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
		});
		const resp = await fetch("/whep/", {method: "POST", body: pc.localDescription.sdp,
			headers: {"Content-Type": "application/sdp", "Authorization": "Bearer secret"}});
		if (resp.status !== 201) throw new Error("WHEP answered " + resp.status + ": " + (await resp.text()));
		window.session = new URL(resp.headers.get("Location"), location.href).href;
		await pc.setRemoteDescription({type: "answer", sdp: await resp.text()});
		window.pc = pc;
		return true;
	})()`)
	browsertest.WaitFor(t, tab, `stamps.length >= 10 && document.querySelector("video").videoWidth === 320`, "10 frames with a time code from WHEP")
	robot := <-made
	closedWithin(t, robot.Ready(), "the robot's WHEP session ready")
	if status := browsertest.Eval[int](t, tab, `fetch(session, {method: "DELETE", headers: {"Authorization": "Bearer secret"}}).then((r) => r.status)`); status != 200 {
		t.Fatalf("DELETE answered %d, want 200", status)
	}
	closedWithin(t, robot.Done(), "the robot's connection after the player's DELETE")
}

// loopbackSDPOffers passes application/sdp offers to h with only their
// 127.0.0.1 candidates, as loopbackOffers does for RTCBot's JSON ones.
func loopbackSDPOffers(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(io.LimitReader(r.Body, MaxOfferSize))
			sdp, kept := loopbackOnlySDP(t, string(body))
			if kept == 0 {
				t.Errorf("the browser's offer has no candidate on 127.0.0.1")
			}
			r.Body = io.NopCloser(strings.NewReader(sdp))
			r.ContentLength = int64(len(sdp))
		}
		h.ServeHTTP(w, r)
	})
}
