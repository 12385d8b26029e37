package rtcbot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A message that cannot be sent fires the connection's error event and is
// counted; the channel goes on.
func TestSendFailuresAreVisible(t *testing.T) {
	a, b := newConn(t), newConn(t)
	got := b.Subscribe()
	failed := make(chan error, 1)
	a.OnError(func(err error) { failed <- err })
	connectPair(t, a, b)

	a.Put(strings.Repeat("x", MaxMessageSize+1))
	if err := recv(t, failed); !errors.Is(err, ErrMessageTooLarge) || !strings.Contains(err.Error(), "byte limit") {
		t.Fatalf("error %v, want ErrMessageTooLarge with the limit", err)
	}
	a.Put(map[string]any{"bad": make(chan int)})
	a.Put("fine")
	if m := mustGet(t, got); m != "fine" {
		t.Fatalf("got %v", m)
	}
	// The count of sent messages goes up once the send returns, which may
	// be after the peer has the message.
	eventually(t, "one message counted sent", func() bool { return a.DataChannelByName(DefaultChannelLabel).Stats().MessagesSent == 1 })
	if s := a.DataChannelByName(DefaultChannelLabel).Stats(); s.MessagesNotSent != 2 || s.MessagesSent != 1 {
		t.Fatalf("stats %+v, want 2 not sent and 1 sent", s)
	}
	if a.Err() == nil || a.DataChannelByName(DefaultChannelLabel).Err() == nil {
		t.Fatal("Err() is nil after a failed send")
	}
	notClosed(t, a.Done(), "connection after a failed send")
}

// Audio the encoder cannot take fires the stream's error event.
func TestMediaEncodeFailureIsVisible(t *testing.T) {
	a, b := newConn(t), newConn(t)
	chunks := NewQueue[AudioChunk](16)
	a.Audio().PutSubscription(chunks)
	failed := make(chan error, 1)
	a.Audio().OnError(func(err error) { failed <- err })
	connectPair(t, a, b)
	// 10 ms chunks at their real pace, until the track is live and the
	// encoder sees one.
	ctx := mediaCtx(t)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			chunks.Put(AudioChunk{Samples: make([]float32, 441), Channels: 1, SampleRate: 44100})
		case err := <-failed:
			if !strings.Contains(err.Error(), "44100 Hz") || !errors.Is(err, ErrAudioFormat) {
				t.Fatalf("error %v, want ErrAudioFormat naming the sample rate", err)
			}
			if !errors.Is(a.Audio().Err(), err) {
				t.Fatalf("Err() = %v", a.Audio().Err())
			}
			notClosed(t, a.Done(), "connection after a failed encode")
			return
		case <-a.Done():
			t.Fatal("connection closed")
		case <-ctx.Done():
			t.Fatal("no error reported")
		}
	}
}

// Settings out of range, a description that is not an offer and a missing
// display are told apart with errors.Is.
func TestSentinelErrors(t *testing.T) {
	if _, err := NewToneSource(ToneSettings{Frequency: 30_000}); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("tone above Nyquist: %v, want ErrInvalidSettings", err)
	}
	if err := checkAudioFormat("speaker", 48000, 40, 0); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("40 channels: %v, want ErrInvalidSettings", err)
	}
	for _, body := range []string{`{"type":"answer","sdp":"v=0"}`, `{"type":"offer","sdp":"hello"}`} {
		if _, err := parseOffer([]byte(body)); !errors.Is(err, ErrInvalidDescription) {
			t.Errorf("offer %s: %v, want ErrInvalidDescription", body, err)
		}
	}
	t.Setenv("DISPLAY", "")
	if err := CheckDisplay(); !errors.Is(err, ErrNoDisplay) {
		t.Errorf("no $DISPLAY: %v, want ErrNoDisplay", err)
	}
}
