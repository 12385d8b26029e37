package rtcbot

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// requireVideoCodec skips the test unless both an encoder and a decoder
// are registered for codec (cgo builds; H.264 through codecs_cgo_test.go).
func requireVideoCodec(t testing.TB, codec string) {
	t.Helper()
	c := registeredVideoCodecs()[codec]
	if c.newEncoder == nil || c.newDecoder == nil {
		t.Skipf("built without cgo: no %s codec", codec)
	}
}

// newVP8Encoder makes the registered VP8 encoder.
func newVP8Encoder(width, height, fps, bitrate int) (VideoEncoder, error) {
	newEnc, err := registeredVideoCodecs().encoder(codecVP8)
	if err != nil {
		return nil, err
	}
	return newEnc(VideoEncoderSettings{Width: width, Height: height, FPS: fps, Bitrate: bitrate})
}

// newVP8Decoder makes the registered VP8 decoder.
func newVP8Decoder() (VideoDecoder, error) {
	newDec, err := registeredVideoCodecs().decoder(codecVP8)
	if err != nil {
		return nil, err
	}
	return newDec()
}

// withRegistry makes the connections the test makes see the codecs of set
// (and RegisterVideo* change a copy of it), and restores the registry at
// the test's end. The package's tests do not run in parallel.
func withRegistry(t *testing.T, set videoCodecSet) {
	t.Helper()
	registry.mu.Lock()
	saved := registry.codecs
	registry.codecs = set
	registry.mu.Unlock()
	t.Cleanup(func() {
		registry.mu.Lock()
		registry.codecs = saved
		registry.mu.Unlock()
	})
}

// registeredWithout returns the registered codecs without codec's encoder
// (encoder) or decoder (!encoder).
func registeredWithout(codec string, encoder bool) videoCodecSet {
	all := registeredVideoCodecs()
	c := all[codec]
	if encoder {
		c.newEncoder = nil
	} else {
		c.newDecoder = nil
	}
	return all.with(codec, c)
}

func TestRegisterVideoCodecRefuses(t *testing.T) {
	enc := func(VideoEncoderSettings) (VideoEncoder, error) { return nil, errors.New("unused") }
	dec := func() (VideoDecoder, error) { return nil, errors.New("unused") }
	for _, tt := range []struct {
		name, want string
		register   func()
	}{
		{"encoder VP9", `RegisterVideoEncoder("VP9")`, func() { RegisterVideoEncoder("VP9", enc) }},
		{"decoder H265", `RegisterVideoDecoder("H265")`, func() { RegisterVideoDecoder("H265", dec) }},
		{"nil encoder", "nil constructor", func() { RegisterVideoEncoder("H264", nil) }},
		{"nil decoder", "nil constructor", func() { RegisterVideoDecoder("vp8", nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withRegistry(t, registeredVideoCodecs())
			before := registeredVideoCodecs()
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Fatalf("panic %v, want one naming %s", r, tt.want)
				}
				if after := registeredVideoCodecs(); len(after) != len(before) ||
					(after[codecVP8].newEncoder == nil) != (before[codecVP8].newEncoder == nil) {
					t.Fatal("a refused registration changed the registry")
				}
			}()
			tt.register()
		})
	}
}

// countingEncoder wraps a VP8 encoder and counts what rtcbot asks of it.
type countingEncoder struct {
	VideoEncoder
	made     *atomic.Int64
	frames   *atomic.Int64
	bitrates *atomic.Int64
}

func (e countingEncoder) Encode(img *image.YCbCr, pts time.Duration, key bool) ([]byte, bool, error) {
	e.frames.Add(1)
	return e.VideoEncoder.Encode(img, pts, key)
}

func (e countingEncoder) SetBitrate(bps int) error {
	e.bitrates.Add(1)
	return e.VideoEncoder.(BitrateSetter).SetBitrate(bps)
}

// An encoder registered from outside replaces the built-in one for the
// connections made afterwards, receives what the BitrateSetter and
// VideoEncoder documentation promises, and the registered decoder is kept.
func TestRegisterVideoEncoderReplaces(t *testing.T) {
	requireVideoCodec(t, codecVP8)
	withRegistry(t, registeredVideoCodecs())
	const w, h = 320, 240
	before := newConn(t) // made before the registration: keeps libvpx
	var made, frames, bitrates atomic.Int64
	libvpx, err := registeredVideoCodecs().encoder(codecVP8)
	if err != nil {
		t.Fatal(err)
	}
	RegisterVideoEncoder("vp8", func(s VideoEncoderSettings) (VideoEncoder, error) {
		if s.Width != w || s.Height != h || s.FPS != 30 || s.Bitrate <= 0 {
			t.Errorf("encoder made with %+v, want %dx%d at 30 fps and a bitrate", s, w, h)
		}
		enc, err := libvpx(s)
		if err != nil {
			return nil, err
		}
		made.Add(1)
		return countingEncoder{enc, &made, &frames, &bitrates}, nil
	})
	if before.codecs[codecVP8].newEncoder == nil || registeredVideoCodecs()[codecVP8].newDecoder == nil {
		t.Fatal("registering an encoder lost the earlier connection's encoder or the decoder")
	}

	robot, desktop := newConn(t), newConn(t)
	cam := NewTestPatternCamera(CameraSettings{Width: w, Height: h, FPS: 30})
	defer cam.Close()
	robot.Video().PutSubscription(cam)
	got := desktop.Video().Subscribe()
	connectPair(t, desktop, robot)
	for range 10 {
		if img := mustGet(t, got); img.Bounds().Dx() != w {
			t.Fatalf("received %v, want %dx%d", img.Bounds(), w, h)
		}
	}
	if made.Load() != 1 || frames.Load() < 10 {
		t.Fatalf("registered encoder made %d times and given %d frames, want once and at least 10", made.Load(), frames.Load())
	}
	t.Logf("frames encoded %d, bitrate changes %d", frames.Load(), bitrates.Load())
}

// Without an H.264 encoder, sending H.264 fails with ErrCodecNotSupported
// naming codec/h264; without a decoder, a connection does not offer to
// receive H.264 (unless it sends it), and an H.264 track that comes in
// anyway is logged as not decoded, naming codec/h264.
func TestH264NotRegistered(t *testing.T) {
	requireH264(t)
	offerCodecs := func(t *testing.T, c *Connection) []string {
		t.Helper()
		offer, err := c.GetLocalDescription(mediaCtx(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return peerCodecs(offer.SDP, "video")
	}
	t.Run("send without encoder", func(t *testing.T) {
		withRegistry(t, registeredWithout(codecH264, true))
		c := newConnWith(t, h264Settings())
		cam := NewTestPatternCamera(CameraSettings{})
		defer cam.Close()
		c.Video().PutSubscription(cam)
		_, err := c.GetLocalDescription(mediaCtx(t), nil)
		if !errors.Is(err, ErrCodecNotSupported) || !strings.Contains(err.Error(), `import _ "github.com/rtcbot-go/rtcbot/codec/h264"`) {
			t.Fatalf("sending H.264 without an encoder: %v; want ErrCodecNotSupported naming codec/h264", err)
		}
		t.Logf("error: %v", err)
	})
	t.Run("send encoded frames without encoder", func(t *testing.T) {
		// A robot passing H.264 through (PutEncoded) needs no encoder;
		// the desktop has the decoder still.
		withRegistry(t, registeredWithout(codecH264, true))
		robot := newConnWith(t, h264Settings())
		frames := NewQueue[EncodedFrame](0)
		defer frames.Close()
		robot.Video().PutEncoded(frames)
		desktop := newConn(t)
		got := desktop.Video().Subscribe()
		connectPair(t, desktop, robot)
		for _, f := range splitFrames(t, ffmpegH264(t, 320, 240, 10, 10)) {
			frames.Put(f)
		}
		if img := mustGet(t, got); img.Bounds().Dx() != 320 {
			t.Fatalf("received %v", img.Bounds())
		}
	})
	t.Run("receive without decoder", func(t *testing.T) {
		withRegistry(t, registeredWithout(codecH264, false))
		c := newConn(t)
		c.Video().Subscribe()
		if got := strings.Join(offerCodecs(t, c), " "); got != "VP8" {
			t.Fatalf("offer to receive video without an H.264 decoder lists %s, want VP8 alone", got)
		}
	})
	t.Run("receive with decoder", func(t *testing.T) {
		c := newConn(t)
		c.Video().Subscribe()
		if got := strings.Join(offerCodecs(t, c), " "); got != "VP8 H264" {
			t.Fatalf("offer to receive video with an H.264 decoder lists %s, want VP8 H264", got)
		}
	})
	t.Run("incoming track without decoder", func(t *testing.T) {
		robot := newConnWith(t, h264Settings())
		// The desktop sends H.264 (so offers it) but cannot decode it.
		withRegistry(t, registeredWithout(codecH264, false))
		logged := make(warnings, 16)
		ds := h264Settings()
		ds.Logger = slog.New(logged)
		desktop := newConnWith(t, ds)
		for _, c := range []*Connection{robot, desktop} {
			cam := NewTestPatternCamera(CameraSettings{})
			defer cam.Close()
			c.Video().PutSubscription(cam)
		}
		fromRobot := desktop.Video().Subscribe()
		connectPair(t, desktop, robot)
		ctx := mediaCtx(t)
		for {
			select {
			case r := <-logged:
				a := attrs(r)
				if r.Message != "rtcbot: incoming track not decoded" {
					continue
				}
				if a["codec"] != "video/H264" || !strings.Contains(a["err"], "github.com/rtcbot-go/rtcbot/codec/h264") ||
					!strings.Contains(a["err"], ErrCodecNotSupported.Error()) {
					t.Fatalf("logged %q %v; want the H.264 track's error naming codec/h264", r.Message, a)
				}
				t.Logf("logged: %s %v", r.Message, a)
				wait, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				if img, err := fromRobot.Get(wait); err == nil {
					t.Fatalf("desktop delivered a %v picture from a track it cannot decode", img.Bounds())
				}
				return
			case <-ctx.Done():
				t.Fatal("the undecodable H.264 track was not logged")
			}
		}
	})
}

// TestInteropWithoutH264: a Go peer without H.264, as a program that does
// not import codec/h264 is, works with aiortc (which offers H.264 and VP8)
// both ways round: the Go answer takes VP8 from Python's offer, and Python
// answers the Go offer, which lists VP8 alone, with VP8.
func TestInteropWithoutH264(t *testing.T) {
	requireAiortc(t)
	requireVideoCodec(t, codecVP8)
	withRegistry(t, videoCodecSet{codecVP8: registeredVideoCodecs()[codecVP8]})
	t.Run("Python offers", TestInteropPythonOfferer)
	t.Run("Python answers", TestInteropPythonAnswerer)
}
