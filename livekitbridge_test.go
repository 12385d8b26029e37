package rtcbot

import (
	"errors"
	"image"
	"testing"

	"github.com/rtcbot-go/rtcbot/internal/lkbridge"
)

// The bridge's senders are rtcbot's shared tracks: one per source and
// settings, whoever holds it (a LiveKit room, Connections), so a source is
// encoded once; other settings are another track, and what cannot be sent
// is refused with rtcbot's errors.
func TestLiveKitBridgeSharesTracks(t *testing.T) {
	cam := NewTestPatternCamera(CameraSettings{Width: 64, Height: 48})
	defer cam.Close()
	a, err := lkbridge.NewVideoSender(Getter[image.Image](cam), VideoSettings{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := lkbridge.NewVideoSender(Getter[image.Image](cam), VideoSettings{Codec: "vp8"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Track() != b.Track() {
		t.Error("the same source and settings made two tracks")
	}
	b.Close()
	b.Close() // idempotent: a's reference stays
	c, err := lkbridge.NewVideoSender(Getter[image.Image](cam), VideoSettings{MaxBitrate: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	if c.Track() == a.Track() {
		t.Error("other settings shared the track")
	}
	c.Close()
	if _, err := lkbridge.NewVideoSender(Getter[image.Image](cam), VideoSettings{Codec: "AV1"}); !errors.Is(err, ErrCodecNotSupported) {
		t.Errorf("AV1: %v, want ErrCodecNotSupported", err)
	}
	if _, err := lkbridge.NewVideoSender(Getter[image.Image](cam), "settings"); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("settings of another type: %v, want ErrInvalidSettings", err)
	}
	if _, err := lkbridge.NewAudioSender(Getter[image.Image](cam)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("audio from pictures: %v, want errors.ErrUnsupported", err)
	}
	stop := a.Start()
	a.SetEstimate(500_000)
	a.RequestKeyframe()
	stop()
	stop()
	if start, least, most := lkbridge.Bitrates(VideoSettings{MaxBitrate: 400_000}); start != 400_000 || least != lowestBitrate || most != 400_000 {
		t.Errorf("Bitrates = %d, %d, %d", start, least, most)
	}
	if v := lkbridge.DecodeText([]byte(`{"a":1}`)); v.(map[string]any)["a"] != 1.0 {
		t.Errorf("DecodeText = %v", v)
	}
}
