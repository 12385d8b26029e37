//go:build sfu

package main

// The processes of the -sfu livekit measurement (see sfu.go): the robot in
// the room and the viewers. Only in builds with -tags sfu, so that the
// P2P robot and desktop, which are this binary too, do not carry LiveKit's
// SDK (about 14 MB more resident memory at 640x480).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/codec/vp8"
	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
	"github.com/rtcbot-go/rtcbot/livekit"
	"github.com/rtcbot-go/rtcbot/timecode"
)

func init() { sfuBuilt = true }

// robotIdentity is the robot's identity in the run's room.
const robotIdentity = "robot"

// livekitToken is a join token for identity in the run's room.
func livekitToken(room, identity string) (string, error) {
	return livekit.Token(livekitserver.APIKey, livekitserver.APISecret, livekit.Grant{Room: room, Identity: identity, ValidFor: time.Hour})
}

// --- the SFU robot -----------------------------------------------------------

// encodes counts the video encoder's calls in this process.
var encodes atomic.Uint64

// countingEncoder is libvpx, as rtcbot registers it in cgo builds, counting
// its frames.
type countingEncoder struct{ rtcbot.VideoEncoder }

func (e countingEncoder) Encode(img *image.YCbCr, pts time.Duration, key bool) ([]byte, bool, error) {
	encodes.Add(1)
	return e.VideoEncoder.Encode(img, pts, key)
}

// runSFURobot is the robot in the room: the test pattern published with
// livekit.JoinRobot, every control echoed as {"echo": message} to every
// participant. It prints "ready" once publishing, then a robotStats line
// for every line on its standard input, until the input closes.
func runSFURobot(o options) error {
	rtcbot.RegisterVideoEncoder("VP8", func(s rtcbot.VideoEncoderSettings) (rtcbot.VideoEncoder, error) {
		enc, err := vp8.NewEncoder(vp8.EncoderSettings{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate})
		if err != nil {
			return nil, err
		}
		return countingEncoder{enc}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cam := rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: o.width, Height: o.height, FPS: o.fps})
	defer cam.Close()
	token, err := livekitToken(o.room, robotIdentity)
	if err != nil {
		return err
	}
	r, err := livekit.JoinRobot(ctx, o.livekitURL, token, livekit.RobotSettings{
		Video: rtcbot.VideoSettings{Codec: o.codec, MaxBitrate: o.kbps * 1000, StartBitrate: o.kbps * 1000, MinBitrate: o.kbps * 1000},
	})
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.PublishVideo(ctx, cam); err != nil {
		return err
	}
	r.SubscribeFunc(func(msg any) { r.Put(map[string]any{"echo": msg}) })
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		st := r.Stats()
		if err := enc.Encode(robotStats{
			BytesSent: st.BytesSent, FramesSent: st.FramesSent, KeyframeRequests: st.KeyframeRequests,
			KeyframesSent: st.KeyframesSent, TargetBitrate: st.TargetBitrate, Encodes: encodes.Load(),
		}); err != nil {
			return err
		}
	}
	return r.Err()
}

// --- the viewers -------------------------------------------------------------

// decoded counts what this process's VP8 decoders were given: one decoder
// per viewer's video track.
type decoded struct {
	frames, bytes atomic.Uint64
	first         chan struct{} // closed at the first frame
	once          sync.Once
}

var (
	decodersMu sync.Mutex
	decoders   []*decoded
	newDecoder = make(chan struct{}, 1024) // a decoder was made
)

// countingDecoder counts the frames of one track, and decodes them with
// libvpx unless dec is nil: then it returns the same blank picture of the
// stream's size (from the keyframes' headers) for every frame. (Not nil,
// which VideoDecoder allows for a frame without a picture: rtcbot's VP8
// receive path dereferences it.) Nothing subscribes to those viewers'
// video, so the picture goes nowhere.
type countingDecoder struct {
	dec   *vp8.Decoder
	n     *decoded
	blank **image.YCbCr
}

func (d countingDecoder) Decode(frame []byte) (*image.YCbCr, error) {
	d.n.frames.Add(1)
	d.n.bytes.Add(uint64(len(frame)))
	d.n.once.Do(func() { close(d.n.first) })
	if d.dec != nil {
		return d.dec.Decode(frame)
	}
	// A keyframe: a 3-byte tag whose low bit is 0, the start code 9d 01 2a,
	// then 14-bit width and height, little-endian (RFC 6386, 9.1).
	if len(frame) >= 10 && frame[0]&1 == 0 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a {
		w, h := int(frame[6])|int(frame[7]&0x3f)<<8, int(frame[8])|int(frame[9]&0x3f)<<8
		if b := *d.blank; b == nil || b.Rect.Dx() != w || b.Rect.Dy() != h {
			*d.blank = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		}
	}
	if *d.blank == nil {
		return nil, errors.New("no keyframe yet")
	}
	return *d.blank, nil
}

func (d countingDecoder) Close() error {
	if d.dec == nil {
		return nil
	}
	return d.dec.Close()
}

// registerCountingDecoder makes VP8's decoder a countingDecoder, decoding
// or not.
func registerCountingDecoder(decode bool) {
	rtcbot.RegisterVideoDecoder("VP8", func() (rtcbot.VideoDecoder, error) {
		d := countingDecoder{n: &decoded{first: make(chan struct{})}, blank: new(*image.YCbCr)}
		if decode {
			dec, err := vp8.NewDecoder()
			if err != nil {
				return nil, err
			}
			d.dec = dec
		}
		decodersMu.Lock()
		decoders = append(decoders, d.n)
		decodersMu.Unlock()
		newDecoder <- struct{}{}
		return d, nil
	})
}

// runSFUDesktop is the viewer that measures: the P2P desktop (it decodes,
// shows the video 4x on a headless display, sends a control every 50 ms,
// reads the time codes), through livekit.JoinViewer.
func runSFUDesktop(o options) error {
	registerCountingDecoder(true)
	ctx, cancel := context.WithTimeout(context.Background(), desktopTimeout(o))
	defer cancel()
	token, err := livekitToken(o.room, "desktop")
	if err != nil {
		return err
	}
	v, err := livekit.JoinViewer(ctx, o.livekitURL, token, livekit.ViewerSettings{Robot: robotIdentity})
	if err != nil {
		return err
	}
	defer v.Close()
	stats := func() rtcbot.LinkStats {
		var st rtcbot.LinkStats
		decodersMu.Lock()
		defer decodersMu.Unlock()
		for _, d := range decoders {
			st.VideoBytesReceived += d.bytes.Load()
		}
		return st
	}
	return watch(ctx, o, desktopLink{frames: v.Video().Subscribe(), echoes: v.Subscribe(), put: v.Put, stats: stats})
}

// runViewers joins o.viewers viewers, each receiving the robot's video
// through rtcbot's receive path, decoding it and reading the time codes if
// o.decode is "all", else only counting its frames (see the package doc).
// It prints "ready" once every viewer has had a frame, then a
// viewersReport for every line on its standard input (the first starts a
// window of time codes, each next one ends it and starts the next), until
// the input closes.
func runViewers(o options) error {
	decode := o.decode == "all"
	registerCountingDecoder(decode)
	ctx, cancel := context.WithTimeout(context.Background(), desktopTimeout(o)+30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var latencies []float64
	unreadable := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range o.viewers {
		token, err := livekitToken(o.room, fmt.Sprintf("viewer-%d", i+1))
		if err != nil {
			return err
		}
		v, err := livekit.JoinViewer(ctx, o.livekitURL, token, livekit.ViewerSettings{Robot: robotIdentity})
		if err != nil {
			return fmt.Errorf("viewer %d: %w", i+1, err)
		}
		defer v.Close()
		if !decode {
			continue
		}
		frames := v.Video().Subscribe()
		wg.Go(func() {
			for {
				frame, err := frames.Get(ctx)
				if err != nil {
					return
				}
				now := time.Now()
				s, err := timecode.Read(frame)
				mu.Lock()
				if err != nil {
					unreadable++
				} else {
					latencies = append(latencies, float64(s.Latency(now))/float64(time.Millisecond))
				}
				mu.Unlock()
			}
		})
	}
	// Every viewer's decoder made, then every one's first frame.
	for range o.viewers {
		select {
		case <-newDecoder:
		case <-ctx.Done():
			return fmt.Errorf("not every viewer got a video track: %w", ctx.Err())
		}
	}
	decodersMu.Lock()
	all := slices.Clone(decoders)
	decodersMu.Unlock()
	for i, d := range all {
		select {
		case <-d.first:
		case <-ctx.Done():
			return fmt.Errorf("viewer %d got no frame: %w", i+1, ctx.Err())
		}
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r viewersReport
		decodersMu.Lock()
		for _, d := range decoders {
			r.Frames = append(r.Frames, d.frames.Load())
			r.Bytes = append(r.Bytes, d.bytes.Load())
		}
		decodersMu.Unlock()
		mu.Lock()
		r.LatencyP50, r.LatencyP99 = percentile(latencies, 50), percentile(latencies, 99)
		r.Unreadable = unreadable
		latencies, unreadable = nil, 0
		mu.Unlock()
		if err := enc.Encode(jsonSafe(r)); err != nil {
			return err
		}
	}
	return nil
}

// jsonSafe replaces the NaN percentiles of no time codes, which JSON
// cannot carry, with -1.
func jsonSafe(r viewersReport) viewersReport {
	if math.IsNaN(r.LatencyP50) {
		r.LatencyP50, r.LatencyP99 = -1, -1
	}
	return r
}

// --- the orchestrator's side -------------------------------------------------
