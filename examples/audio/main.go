// Command audio is RTCBot's audio and video tutorial in Go: a browser sees
// and hears the robot, and the robot plays what the browser's microphone
// hears.
//
//	go run ./examples/audio      # then open the URL it prints and press Connect
//
// Only those who know the robot's token may see and hear it. The robot takes
// it from -token or the environment variable RTCBOT_TOKEN, or else makes a
// random one at every start, and prints the page's URL with the token in it:
//
//	Open http://localhost:8080/?token=... in a browser and press Connect.
//
// The robot sends its camera on conn.Video() and its microphone on
// conn.Audio(), and hands the browser's audio, conn.Audio() again, to its
// speaker: speaker.PutSubscription(conn.Audio()). The page (index.html,
// embedded in the program) is RTCBot's: it loads the browser client from
// /rtcbot.js (rtcbot.JavaScriptHandler, also at /rtcbot.mjs as an ES
// module), sends the microphone with conn.audio.putSubscription, plays
// conn.video and conn.audio, and calls conn.connect("/connect", {token})
// with the token from its own URL, which goes as "Authorization: Bearer
// <token>". /connect is rtcbot.NewHandler, which refuses offers without the
// token (401) or from pages of other sites (403). Every other offer gets a
// fresh connection, one at a time, as the robot has one speaker: with
// MaxConnections 1 and ReplaceOnReconnect, a new offer (a reloaded page, a
// second browser) closes the connection before it and takes over the
// speaker.
//
// It falls back where hardware is missing, saying so in one line each: no
// camera streams the test pattern, no microphone a 440 Hz tone, and no
// speaker prints the level of the audio received once a second. -camera,
// -audio and -speaker choose explicitly. Browsers let a page use the
// microphone only on https:// or from localhost; elsewhere the page only
// listens. The media are always encrypted, but the token travels as plainly
// as the page over http://.
//
// Its camera is a V4L2 one (package v4l2), so the robot links no OpenCV;
// built with -tags opencv it is an OpenCV camera instead, RTCBot's
// CVCamera.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

type options struct {
	addr, token, camera, audio, speaker string
	cam                                 rtcbot.CameraSettings
	loopback                            bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", ":8080", "address to serve the page and /connect on")
	flag.StringVar(&o.camera, "camera", "auto", `camera: "auto" (V4L2, or OpenCV in a -tags opencv build; the test pattern if none opens), "v4l2", "cv" (needs -tags opencv) or "testpattern"`)
	flag.IntVar(&o.cam.Device, "device", 0, "camera number")
	flag.IntVar(&o.cam.Width, "width", 320, "frame width")
	flag.IntVar(&o.cam.Height, "height", 240, "frame height")
	flag.IntVar(&o.cam.FPS, "fps", 30, "frames per second")
	flag.StringVar(&o.audio, "audio", "auto", `audio sent: "auto" (microphone, else a tone), "mic" or "tone"`)
	flag.StringVar(&o.speaker, "speaker", "auto", `audio received: "auto" (speaker, else print levels), "speaker" or "levels"`)
	flag.BoolVar(&o.loopback, "loopback", false, "use only 127.0.0.1 for connections (a Go client or a browser on this machine, tests)")
	flag.StringVar(&o.token, "token", "", "the token a browser needs (default $RTCBOT_TOKEN, else a random one)")
	flag.Parse()
	if o.token == "" {
		o.token = os.Getenv("RTCBOT_TOKEN")
	}
	if o.token == "" {
		o.token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := exampleutil.OpenCamera(o.camera, o.cam)
	if err != nil {
		return err
	}
	defer cam.Close()
	mic, err := openAudio(ctx, o.audio)
	if err != nil {
		return err
	}
	defer mic.Close()
	speaker, err := openSpeaker(ctx, o.speaker)
	if err != nil {
		return err
	}
	defer speaker.Close()

	settings := rtcbot.ConnectionSettings{LoopbackOnly: o.loopback}
	// The open connections, so that the robot can close them all when it stops.
	var conns rtcbot.ConnectionSet
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	// The browser client the page loads (RTCBot's getRTCBotJS).
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	// A fresh connection per offer with the token, one at a time: a new
	// offer closes the previous connection and takes over.
	access := rtcbot.HandlerSettings{Token: o.token, MaxConnections: 1, ReplaceOnReconnect: true}
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		// RTCBot: conn.video.putSubscription(camera),
		// conn.audio.putSubscription(microphone).
		conn.Video().PutSubscription(cam)
		conn.Audio().PutSubscription(mic)
		if err := conns.Add(conn); err != nil { // closes conn if the robot is stopping
			return nil, err
		}
		// RTCBot: speaker.putSubscription(conn.audio.subscribe()). This
		// replaces the previous connection's audio, if any (that connection
		// is closing: see access).
		speaker.PutSubscription(conn.Audio())
		fmt.Printf("New connection from %s: the speaker plays its audio.\n", r.RemoteAddr)
		conn.OnClose(func() { fmt.Printf("Connection from %s closed.\n", r.RemoteAddr) })
		return conn, nil
	}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser and press Connect. (Press CTRL+C to quit)\n", exampleutil.PageURL(ln.Addr(), o.token))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	conns.Close()
	return nil
}

// audioSource is what the robot sends: a microphone or a tone.
type audioSource interface {
	rtcbot.Source[rtcbot.AudioChunk]
	Close() error
}

// openAudio opens the audio source asked for; "auto" falls back to a tone,
// saying so in one line.
func openAudio(ctx context.Context, kind string) (audioSource, error) {
	switch kind {
	case "tone":
		return rtcbot.NewToneSource(rtcbot.ToneSettings{})
	case "mic":
		return rtcbot.NewMicrophone(ctx, rtcbot.MicrophoneSettings{})
	case "auto":
		mic, err := rtcbot.NewMicrophone(ctx, rtcbot.MicrophoneSettings{})
		if err == nil {
			return mic, nil
		}
		fmt.Printf("No microphone (%v): sending a 440 Hz tone instead.\n", err)
		return rtcbot.NewToneSource(rtcbot.ToneSettings{})
	}
	return nil, fmt.Errorf("unknown audio source %q", kind)
}

// audioSink is what plays the audio received: a speaker, or a level meter.
type audioSink interface {
	PutSubscription(rtcbot.Getter[rtcbot.AudioChunk])
	Close() error
}

// openSpeaker opens the audio sink asked for; "auto" falls back to printing
// levels, saying so in one line.
func openSpeaker(ctx context.Context, kind string) (audioSink, error) {
	switch kind {
	case "levels":
		return newLevelMeter(), nil
	case "speaker":
		return rtcbot.NewSpeaker(ctx, rtcbot.SpeakerSettings{})
	case "auto":
		s, err := rtcbot.NewSpeaker(ctx, rtcbot.SpeakerSettings{})
		if err == nil {
			return s, nil
		}
		fmt.Printf("No speaker (%v): printing the level of the audio received instead.\n", err)
		return newLevelMeter(), nil
	}
	return nil, fmt.Errorf("unknown speaker %q", kind)
}

// newLevelMeter returns the speaker's stand-in for machines without one: a
// consumer of audio, like a speaker, that prints the level of what it
// receives once a second of audio.
func newLevelMeter() *rtcbot.Consumer[rtcbot.AudioChunk] {
	var (
		frames, samples int
		sum             float64
		peak            float32
	)
	return rtcbot.NewConsumer(func(c rtcbot.AudioChunk) {
		for _, s := range c.Samples {
			sum += float64(s) * float64(s)
			peak = max(peak, s, -s)
		}
		samples += len(c.Samples)
		frames += c.Frames()
		rate := c.SampleRate
		if rate == 0 {
			rate = 48000
		}
		if frames < rate {
			return
		}
		level := "silence"
		if rms := math.Sqrt(sum / float64(samples)); rms > 0 {
			level = fmt.Sprintf("%.1f dBFS", 20*math.Log10(rms))
		}
		fmt.Printf("Received audio: %.1f s, level %s, peak %.2f\n", float64(frames)/float64(rate), level, peak)
		frames, samples, sum, peak = 0, 0, 0, 0
	}, nil)
}
