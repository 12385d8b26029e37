package rtcbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxOfferSize is the largest offer body Handler accepts.
const MaxOfferSize = 1 << 20

// Handler serves RTCBot's signaling endpoint, POST /connect: the body is the
// peer's offer as JSON ({"sdp": ..., "type": "offer"}; any content type, as
// RTCBot's browser client posts text/plain), the response is this side's
// answer as JSON. For every request it asks newConn for the Connection to
// answer with (a fresh one per request lets many viewers connect, RTCBot's
// "multiple connections" tutorial; the offloading tutorial's robot returns
// its one connection).
//
// Bad requests get a clear error and no connection is left behind: a method
// other than POST is a 405, a body over MaxOfferSize a 413, malformed JSON or
// SDP a 400 with the reason. If newConn fails, its error is a 503; the
// connection it returned is closed when the answer cannot be made.
func Handler(newConn func(r *http.Request) (*Connection, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "rtcbot: POST the offer to this address", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxOfferSize))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, fmt.Sprintf("rtcbot: offer larger than %d bytes", MaxOfferSize), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "rtcbot: reading offer: "+err.Error(), http.StatusBadRequest)
			return
		}
		offer, err := parseOffer(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		conn, err := newConn(r)
		if err != nil {
			http.Error(w, "rtcbot: no connection: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		answer, err := conn.GetLocalDescription(r.Context(), &offer)
		if err != nil {
			conn.Close()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	})
}

// parseOffer checks that body is an offer in RTCBot's JSON shape.
func parseOffer(body []byte) (SessionDescription, error) {
	var offer SessionDescription
	if err := json.Unmarshal(body, &offer); err != nil {
		return offer, fmt.Errorf("rtcbot: offer is not valid JSON: %w", err)
	}
	if offer.Type != "offer" {
		return offer, fmt.Errorf("rtcbot: expected a description of type \"offer\", got %q", offer.Type)
	}
	if !strings.HasPrefix(offer.SDP, "v=0") {
		return offer, errors.New("rtcbot: the offer's sdp is not a session description (it must start with v=0)")
	}
	return offer, nil
}

// Connect makes conn's offer, posts it to url (a robot's /connect, served by
// Handler or by Python RTCBot) with client (nil means
// http.DefaultClient), and applies the answer: the desktop side of RTCBot's
// offloading tutorial.
func Connect(ctx context.Context, conn *Connection, url string, client *http.Client) error {
	if client == nil {
		client = http.DefaultClient
	}
	offer, err := conn.GetLocalDescription(ctx, nil)
	if err != nil {
		return err
	}
	body, err := json.Marshal(offer)
	if err != nil {
		return fmt.Errorf("rtcbot: encode offer: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("rtcbot: connect to %s: %w", url, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxOfferSize))
	if err != nil {
		return fmt.Errorf("rtcbot: reading answer from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("rtcbot: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(reply)))
	}
	var answer SessionDescription
	if err := json.Unmarshal(reply, &answer); err != nil {
		return fmt.Errorf("rtcbot: answer from %s is not valid JSON: %w", url, err)
	}
	return conn.SetRemoteDescription(ctx, answer)
}
