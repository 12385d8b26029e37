package rtcbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzHandler posts arbitrary bodies to the signaling handler: none may
// crash it, every answer is a success with a description or a client error
// with a reason, and no connection is left open.
func FuzzHandler(f *testing.F) {
	offerer, err := NewConnection(loopbackSettings())
	if err != nil {
		f.Fatal(err)
	}
	offerer.Video().Subscribe()
	offer, err := offerer.GetLocalDescription(context.Background(), nil)
	offerer.Close()
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := json.Marshal(offer)
	f.Add(valid)
	f.Add([]byte(strings.Replace(string(valid), "m=application", "m=nonsense", 1)))
	f.Add([]byte(`{"sdp": "v=0\r\n", "type": "offer"}`))
	f.Add([]byte(`{"type": "offer"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var made []*Connection
		h := Handler(func(*http.Request) (*Connection, error) {
			c, err := NewConnection(loopbackSettings())
			if err == nil {
				made = append(made, c)
			}
			return c, err
		})
		// A request that hangs is a failure too: say which, with the stacks.
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			panic(fmt.Sprintf("stuck on %q\n%s", body, buf[:n]))
		})
		defer watchdog.Stop()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/connect", strings.NewReader(string(body))))
		for _, c := range made {
			c.Close()
		}
		switch rec.Code {
		case http.StatusOK:
			var answer SessionDescription
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Type != "answer" {
				t.Fatalf("200 with body %q", rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if !strings.HasPrefix(rec.Body.String(), "rtcbot: ") {
				t.Fatalf("%d without a reason: %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
	})
}

// desktopOffer makes an offer from a fresh loopback connection, closed at
// the test's end.
func desktopOffer(t *testing.T) []byte {
	t.Helper()
	c := newConn(t)
	offer, err := c.GetLocalDescription(mediaCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(offer)
	return body
}

func TestHandlerToken(t *testing.T) {
	srv, _ := robotServer(t, HandlerSettings{Token: "s3cret"}, nil)
	tests := []struct {
		name   string
		url    string
		header http.Header
		status int
	}{
		{"missing", srv.URL, nil, http.StatusUnauthorized},
		{"wrong", srv.URL, http.Header{"Authorization": {"Bearer s3cre"}}, http.StatusUnauthorized},
		{"wrong scheme", srv.URL, http.Header{"Authorization": {"Basic s3cret"}}, http.StatusUnauthorized},
		{"wrong in the query", srv.URL + "?token=nope", nil, http.StatusUnauthorized},
		{"right", srv.URL, http.Header{"Authorization": {"Bearer s3cret"}}, http.StatusOK},
		{"right in the query", srv.URL + "?token=s3cret", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(mediaCtx(t), http.MethodPost, tt.url, strings.NewReader(string(desktopOffer(t))))
			maps.Copy(req.Header, tt.header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == http.StatusUnauthorized {
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(string(body), "token") {
					t.Fatalf("401 without WWW-Authenticate or reason: %q %q", resp.Header.Get("WWW-Authenticate"), body)
				}
			}
		})
	}
}

func TestHandlerAuthorize(t *testing.T) {
	srv, _ := robotServer(t, HandlerSettings{Authorize: func(r *http.Request) error {
		if r.Header.Get("X-Operator") != "alice" {
			return errors.New("only alice drives")
		}
		return nil
	}}, nil)
	status, reply := postOffer(t, srv.URL, desktopOffer(t), http.Header{"X-Operator": {"mallory"}})
	if status != http.StatusForbidden || !strings.Contains(reply, "only alice drives") {
		t.Fatalf("got %d %q, want 403 with the check's reason", status, reply)
	}
	if status, reply := postOffer(t, srv.URL, desktopOffer(t), http.Header{"X-Operator": {"alice"}}); status != http.StatusOK {
		t.Fatalf("got %d %q, want 200", status, reply)
	}
}

func TestHandlerOrigin(t *testing.T) {
	srv, made := robotServer(t, HandlerSettings{AllowedOrigins: []string{"https://ops.example.com"}}, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		origin string
		status int
	}{
		{"https://evil.example.net", http.StatusForbidden},
		{"null", http.StatusForbidden},
		{"http://" + host + ".evil.example.net", http.StatusForbidden},
		{"http://" + host, http.StatusOK}, // the page the robot serves itself
		{"https://ops.example.com", http.StatusOK},
		{"", http.StatusOK}, // a program, not a page
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			var h http.Header
			if tt.origin != "" {
				h = http.Header{"Origin": {tt.origin}}
			}
			status, reply := postOffer(t, srv.URL, desktopOffer(t), h)
			if status != tt.status {
				t.Fatalf("got %d %q, want %d", status, reply, tt.status)
			}
			if status == http.StatusForbidden && !strings.Contains(reply, "may not connect") {
				t.Fatalf("403 without a reason: %q", reply)
			}
		})
	}
	if n := len(made); n != 3 {
		t.Errorf("%d connections made, want 3: none for a refused origin", n)
	}

	// An allowed foreign page gets the CORS answers it needs to read the
	// reply, preflight included.
	req, _ := http.NewRequest(http.MethodOptions, srv.URL, nil)
	req.Header.Set("Origin", "https://ops.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://ops.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHandlerConnectionCap(t *testing.T) {
	srv, made := robotServer(t, HandlerSettings{MaxConnections: 2}, nil)
	for range 2 {
		if status, reply := postOffer(t, srv.URL, desktopOffer(t), nil); status != http.StatusOK {
			t.Fatalf("got %d %q, want 200", status, reply)
		}
	}
	first := recv(t, made)
	req, _ := http.NewRequestWithContext(mediaCtx(t), http.MethodPost, srv.URL, strings.NewReader(string(desktopOffer(t))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "MaxConnections") {
		t.Fatalf("third offer: %d %q (Retry-After %q), want 503 with a reason", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if len(made) != 1 {
		t.Fatalf("a connection was made for the refused offer")
	}
	first.Close() // frees its slot
	if status, reply := postOffer(t, srv.URL, desktopOffer(t), nil); status != http.StatusOK {
		t.Fatalf("after a close: got %d %q, want 200", status, reply)
	}
}

// The documented one-connection pattern: a second offer (a reload, a
// retry) is refused with 409 and the live connection goes on.
func TestHandlerSecondOfferLeavesLiveConnection(t *testing.T) {
	robot, desktop, got, url := connectToOneConnectionRobot(t)
	closedWithin(t, robot.Ready(), "robot ready")

	status, reply := postOffer(t, url, desktopOffer(t), nil)
	if status != http.StatusConflict || !errorsContain(reply, ErrConnectionUsed) {
		t.Fatalf("second offer: %d %q, want 409", status, reply)
	}
	notClosed(t, robot.Done(), "live connection")
	desktop.Put("still connected")
	if m := mustGet(t, got); m != "still connected" {
		t.Fatalf("got %v", m)
	}
}

// errorsContain reports whether an HTTP reason carries err's text.
func errorsContain(reply string, err error) bool { return strings.Contains(reply, err.Error()) }

// With ReplaceOnReconnect, a new desktop takes over from the old one.
func TestHandlerReplaceOnReconnect(t *testing.T) {
	srv, made := robotServer(t, HandlerSettings{MaxConnections: 1, ReplaceOnReconnect: true}, nil)
	first := newConn(t)
	if err := Connect(mediaCtx(t), first, srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	old := recv(t, made)
	second := newConn(t)
	if err := Connect(mediaCtx(t), second, srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, old.Done(), "replaced connection closed")
	closedWithin(t, second.Ready(), "new connection ready")
	echo := second.Subscribe()
	second.Put("hello")
	if m := mustGet(t, echo); m != "hello" {
		t.Fatalf("echo %v", m)
	}
}

// Served over HTTPS, the handler works with Connect and a client that
// trusts the server's certificate, as the README describes.
func TestHandlerOverTLS(t *testing.T) {
	robot := newConn(t)
	got := robot.Subscribe()
	srv := httptest.NewTLSServer(NewHandler(HandlerSettings{Token: "t0ken"}, func(*http.Request) (*Connection, error) { return robot, nil }))
	defer srv.Close()
	desktop := newConn(t)
	if err := Connect(mediaCtx(t), desktop, srv.URL+"?token=t0ken", srv.Client()); err != nil {
		t.Fatal(err)
	}
	desktop.Put("over https")
	if m := mustGet(t, got); m != "over https" {
		t.Fatalf("got %v", m)
	}
	// A client that does not trust the certificate cannot connect.
	other := newConn(t)
	if err := Connect(mediaCtx(t), other, srv.URL+"?token=t0ken", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Connect with an untrusting client = %v, want a certificate error", err)
	}
}

// Errors name the robot's URL without its token.
func TestConnectErrorsHideToken(t *testing.T) {
	srv, _ := robotServer(t, HandlerSettings{Token: "right"}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, url := range []string{srv.URL + "?token=SECRETWRONG", closed + "/connect?token=SECRETWRONG"} {
		err := Connect(mediaCtx(t), newConn(t), url, nil)
		if err == nil || strings.Contains(err.Error(), "SECRETWRONG") || !strings.Contains(err.Error(), "token=xxxxx") {
			t.Errorf("Connect(%s) = %v, want an error with the token hidden", url, err)
		}
		if refused := url != closed+"/connect?token=SECRETWRONG"; refused != (errors.Is(err, ErrRefused) && errors.Is(err, ErrUnauthorized)) {
			t.Errorf("Connect(%s) = %v: matches ErrRefused and ErrUnauthorized %v, want %v", url, err, !refused, refused)
		}
	}
}
