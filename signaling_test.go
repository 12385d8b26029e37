package rtcbot

import (
	"context"
	"encoding/json"
	"fmt"
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
