// Command rtcbench measures a robot streaming to a desktop, as two processes
// on 127.0.0.1, and with -peer aiortc the same desktop watching a Python
// robot on aiortc (Debian's python3-aiortc, what Python RTCBot runs on) in
// the same run, side by side:
//
//	go run ./cmd/rtcbench                       # 320x240, 640x480, 1280x720, VP8, Go robot
//	go run ./cmd/rtcbench -peer aiortc          # and the aiortc robot, with ratios
//	go run ./cmd/rtcbench -width 640 -height 480 -codec h264 -seconds 30 -json
//
// The robot streams the moving test pattern with the frame time code (the
// offloading tutorial's robot, with rtcbot.NewTestPatternCamera as its
// camera) and echoes every control message; the desktop (the tutorial's
// desktop: it decodes the video and shows it four times larger on a
// headless display) reads each frame's time code and sends a control
// message every 50 ms. After a warm-up of two seconds from the first frame,
// it measures for -seconds:
//
//   - capture-to-decoded latency, median and 99th percentile, from the time
//     code (one clock: both processes are on this machine);
//   - frames received per second, and frames dropped (gaps in the time
//     code's sequence numbers);
//   - each process's CPU, user and system time of all its threads from
//     /proc per second of the measured window, as a share of one core, and
//     its peak resident memory (VmHWM);
//   - the control round trip while video flows, median and 99th percentile;
//   - the time from starting the desktop process to its first frame;
//   - the video bitrate received (RTP payload), in kbit/s, and in the JSON
//     line what the desktop's video met: packets repaired and given up,
//     frames lost to them.
//
// It prints a table (Markdown) and, for each size and codec, one JSON line
// (only the JSON lines with -json). With -peer aiortc the JSON line also has
// the aiortc robot's figures (aiortc_*) and robot_cpu_ratio, the aiortc
// robot's CPU divided by the Go robot's.
//
// With -sfu livekit it measures, for each size, the Go robot peer to peer as
// above, then through a LiveKit SFU with each number of -viewers in turn
// (default 1,10), and prints one table of both (and a JSON line for each):
//
//	go run -tags sfu ./cmd/rtcbench -sfu livekit -width 640 -height 480 -viewers 1,10
//	go run -tags sfu ./cmd/rtcbench -sfu livekit -width 640 -height 480 -viewers 10 -decode all
//
// The SFU's processes need LiveKit's Go SDK, in builds with the sfu tag
// only (sfu_roles.go): the robot and desktop are this binary, and the SDK
// would add about 14 MB to their resident memory in every run, peer to
// peer too. In an -sfu run the P2P row's robot and desktop carry it, as the
// SFU rows' do.
//
// Each SFU run is four processes: a livekit-server v1.13.5 of its own
// (scripts/setup.sh installs it; $RTCBOT_LIVEKIT_SERVER overrides where it
// is looked for), kept to 127.0.0.1 by its config, on free ports; the robot,
// publishing the same test pattern with livekit.JoinRobot (rtcbot's own
// send path, as peer to peer) and echoing controls to the room; the
// measuring viewer, which is the desktop above (decoding, 4x headless
// display, a control every 50 ms) through livekit.JoinViewer; and, with
// more than one viewer, the other viewers together in one process, each a
// livekit.JoinViewer, started before the measuring one. The measuring viewer
// has a process to itself, so its figures are those of one desktop whatever
// the count; the others share one so that their cost is one figure, apart
// from the robot's and the server's. By default (-decode one) the others
// go through rtcbot's whole receive path (RTP reassembly, losses asked for
// again) but hand their frames to a decoder that only counts them: on this
// machine every viewer would otherwise decode on the same two cores as the
// robot and the server, which real operators, each on a desktop of their
// own, do not. -decode all has them decode and read the time codes too (9
// decoding viewers at 640x480 took about 40% of a core here: the machine
// is not saturated, but the measuring viewer's p99 grows). Beyond the
// figures above, an SFU run reports:
//
//   - the latency the SFU adds: its median, 99th percentile and mean minus
//     those of the peer-to-peer run at the same size in the same run (the
//     time code counts whole milliseconds, so the medians move in steps of
//     one; the mean does not);
//   - the robot's uplink, from livekit.Robot.Stats: all RTP bytes sent to
//     the server, headers and retransmissions included, per second of the
//     window (the P2P row's figure is the video payload the desktop
//     received), and the encoder's calls per second, counted by a wrapper
//     of the libvpx encoder rtcbot registers, which stay one per camera
//     frame however many watch;
//   - the livekit-server's CPU and peak memory, as for the robot;
//   - the other viewers' CPU and peak memory, the fewest frames per second
//     one of them received, and the mean VP8 bitrate they received (frame
//     bytes, as their decoders got them);
//   - the rest of the machine: its busy CPU time in the window (/proc/stat,
//     all cores) minus the measured processes', as a share of one core: what
//     else ran (rtcbench itself, other programs). On a shared machine a row
//     with much of it measured a busy machine. It is good to a few percent
//     either way (the kernel samples the machine's times at each tick but
//     counts each process's precisely), so a quiet machine shows about 0,
//     or a little below.
//
// H.264 is x264 and FFmpeg's libavcodec through package codec/h264, in a
// build with the h264 tag only, as in the tutorial's robot and desktop:
//
//	go run -tags h264 ./cmd/rtcbench -codec h264
//
// so that VP8 is measured without the GPL libraries (and their 15 MB of
// shared libraries) that the default robot does not carry.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
	"github.com/rtcbot-go/rtcbot/timecode"
)

//go:embed aiortc_robot.py
var aiortcRobot []byte

// h264Built is whether this build has H.264 (the h264 tag: h264.go).
var h264Built = false

// sfuBuilt is whether this build has the SFU roles (the sfu tag:
// sfu_roles.go).
var sfuBuilt = false

// errNoSFU is the error of -sfu in a build without the sfu tag.
var errNoSFU = errors.New("-sfu needs a build with LiveKit's SDK: go run -tags sfu ./cmd/rtcbench -sfu livekit")

// The options of every role.
type options struct {
	width, height, fps int
	kbps               int    // the video bitrate, 0 for each robot's default
	source             string // the Go robot's video: "pattern" or "ffmpeg"
	codec              string
	seconds            float64
	warmup             time.Duration
	robotURL           string
	profile            string // a CPU profile to write (roles), or their directory
	livekitURL, room   string // the SFU roles' server and room
	viewers            int    // the viewers role's count
	decode             string // -sfu: "one" or "all" viewers decode
}

func main() {
	var o options
	role := flag.String("role", "", `internal: "robot", "desktop", "pattern", "sfu-robot", "sfu-desktop" or "viewers", the processes rtcbench starts`)
	flag.IntVar(&o.width, "width", 0, "frame width (default: 320x240, 640x480 and 1280x720 in turn)")
	flag.IntVar(&o.height, "height", 0, "frame height (with -width)")
	flag.IntVar(&o.fps, "fps", 30, "frames per second")
	flag.StringVar(&o.source, "source", "pattern", `the Go robot's video: "pattern" (the test pattern camera, encoded by the robot) or "ffmpeg" (the pattern from another process, encoded by ffmpeg's x264 and passed through by the robot: H.264, a -tags h264 build)`)
	flag.IntVar(&o.kbps, "kbps", 0, "video bitrate of both robots in kbit/s (default: each robot's own, which differ: see the video column)")
	codecs := flag.String("codec", "vp8", `video codec: "vp8", "h264", or both: "vp8,h264"`)
	flag.Float64Var(&o.seconds, "seconds", 20, "seconds to measure, after a 2 s warm-up")
	peer := flag.String("peer", "go", `robots to measure: "go", or "aiortc" for the Go robot and the aiortc robot`)
	jsonOnly := flag.Bool("json", false, "print only the JSON lines")
	flag.StringVar(&o.robotURL, "robot", "", "internal: the robot's /connect URL, for -role desktop")
	sfu := flag.String("sfu", "", `"livekit": also measure the Go robot through a livekit-server on 127.0.0.1, with -viewers viewers, against peer to peer`)
	viewers := flag.String("viewers", "1,10", "with -sfu: the numbers of viewers to measure, in turn")
	flag.StringVar(&o.decode, "decode", "one", `with -sfu: "one" (the measuring viewer decodes, the others only count their frames) or "all" (every viewer decodes and reads the time codes)`)
	flag.StringVar(&o.livekitURL, "livekit", "", "internal: the livekit-server's ws:// URL, for the SFU roles")
	flag.StringVar(&o.room, "room", "", "internal: the room, for the SFU roles")
	flag.StringVar(&o.profile, "cpuprofile", "", "write CPU profiles of the Go robot and the desktop into this directory (robot-WxH-CODEC.pprof, desktop-...), for go tool pprof")
	flag.Parse()
	o.warmup = 2 * time.Second
	o.codec = *codecs

	if *role != "" && o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			log.Fatal("rtcbench: ", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal("rtcbench: ", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	var err error
	switch *role {
	case "robot":
		err = runRobot(o)
	case "desktop":
		err = runDesktop(o)
	case "pattern":
		err = runPattern(o)
	case "sfu-robot":
		err = runSFURobot(o)
	case "sfu-desktop":
		err = runSFUDesktop(o)
	case "viewers":
		if o.viewers, err = strconv.Atoi(*viewers); err == nil {
			err = runViewers(o)
		}
	case "":
		if *sfu != "" {
			err = orchestrateSFU(o, *sfu, strings.Split(*codecs, ","), *viewers, *peer, *jsonOnly)
		} else {
			err = orchestrate(o, strings.Split(*codecs, ","), *peer, *jsonOnly)
		}
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Fatal("rtcbench: ", err)
	}
}

// --- the robot ---------------------------------------------------------------

// runRobot is the Go robot: the test pattern to every desktop that connects,
// encoded once, and every control message echoed as {"echo": message}. It
// prints its /connect URL, then runs until its standard input closes.
func runRobot(o options) error {
	var cam *rtcbot.Camera
	var encoded *rtcbot.EncodedSource
	if o.source == "ffmpeg" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		encoded = rtcbot.NewH264Command(rtcbot.CommandSettings{Command: []string{"sh", "-c", ffmpegPipeline(self, o)}}, rtcbot.EncodedStreamSettings{})
		defer encoded.Close()
	} else {
		cam = rtcbot.NewTestPatternCamera(rtcbot.CameraSettings{Width: o.width, Height: o.height, FPS: o.fps})
		defer cam.Close()
	}
	var conns rtcbot.ConnectionSet
	defer conns.Close()
	handler := rtcbot.Handler(func(*http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true, Video: rtcbot.VideoSettings{Codec: o.codec, MaxBitrate: o.kbps * 1000, StartBitrate: o.kbps * 1000, MinBitrate: o.kbps * 1000}})
		if err != nil {
			return nil, err
		}
		if encoded != nil {
			conn.Video().PutEncoded(encoded)
		} else {
			conn.Video().PutSubscription(cam)
		}
		conn.SubscribeFunc(func(msg any) { conn.Put(map[string]any{"echo": msg}) })
		return conn, conns.Add(conn)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("robot http://%s/connect\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until rtcbench closes it
	return nil
}

// ffmpegPipeline is the shell pipeline of -source ffmpeg: this program's
// pattern role writing raw I420 frames, stamped when written, into ffmpeg's
// x264 at its fastest real-time settings, at the bitrate the Go robot's own
// encoder would have, writing H.264 on standard output.
func ffmpegPipeline(self string, o options) string {
	kbps := o.kbps
	if kbps == 0 {
		kbps = max(o.width*o.height*o.fps/10/1000, 100) // VideoSettings.MaxBitrate's default
	}
	size := fmt.Sprintf("%dx%d", o.width, o.height)
	return fmt.Sprintf("'%s' -role pattern -width %d -height %d -fps %d | "+
		"ffmpeg -nostdin -loglevel error -f rawvideo -pix_fmt yuv420p -s %s -r %d -i - "+
		"-c:v libx264 -preset ultrafast -tune zerolatency -g %d -b:v %dk -maxrate %dk -bufsize %dk -flush_packets 1 -f h264 -",
		self, o.width, o.height, o.fps, size, o.fps, o.fps, kbps, kbps, kbps/2)
}

// runPattern writes the moving test pattern with its time code as raw I420
// frames on standard output at -fps, each stamped as it is written, until
// the reader goes away.
func runPattern(o options) error {
	pattern := timecode.NewPattern(o.width, o.height)
	img := image.NewYCbCr(image.Rect(0, 0, o.width, o.height), image.YCbCrSubsampleRatio420)
	tick := time.NewTicker(time.Second / time.Duration(o.fps))
	defer tick.Stop()
	for seq := uint32(0); ; seq++ {
		<-tick.C
		if err := pattern.FrameInto(img, seq, time.Now()); err != nil {
			return err
		}
		for _, plane := range [][]byte{img.Y, img.Cb, img.Cr} {
			if _, err := os.Stdout.Write(plane); err != nil {
				return nil // ffmpeg ended
			}
		}
	}
}

// --- the desktop -------------------------------------------------------------

// desktopReport is what the desktop measured, its last line of output.
type desktopReport struct {
	FirstFrameUnixNano int64   `json:"first_frame_unix_ns"`
	Frames             int     `json:"frames"`
	Dropped            int     `json:"dropped"`
	Seconds            float64 `json:"seconds"`
	Width              int     `json:"width"`
	Height             int     `json:"height"`
	LatencyP50         float64 `json:"latency_p50_ms"`
	LatencyP99         float64 `json:"latency_p99_ms"`
	LatencyMean        float64 `json:"latency_mean_ms"`
	RTTP50             float64 `json:"rtt_p50_ms"`
	RTTP99             float64 `json:"rtt_p99_ms"`
	Unreadable         int     `json:"unreadable"`
	VideoKbps          float64 `json:"video_kbps"` // video payload received
	// What the desktop's video met in the window (LinkStats): packets
	// resent or reordered in time, packets given up, and frames dropped
	// for it (incomplete, or skipped until the next keyframe).
	PacketsRepaired uint64 `json:"packets_repaired"`
	PacketsGivenUp  uint64 `json:"packets_given_up"`
	FramesLost      uint64 `json:"frames_lost"`
}

// runDesktop connects to the robot, shows its video 4x larger on a headless
// display, sends a control every 50 ms, and measures. It prints "first"
// at the first frame, "window" when measuring starts, "end" when it
// stops; then, once a line (or EOF) arrives on its standard input, its
// report as JSON.
func runDesktop(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), desktopTimeout(o))
	defer cancel()
	conn, err := rtcbot.NewConnection(rtcbot.ConnectionSettings{LoopbackOnly: true})
	if err != nil {
		return err
	}
	defer conn.Close()
	frames := conn.Video().Subscribe()
	echoes := conn.Subscribe()
	if err := rtcbot.Connect(ctx, conn, o.robotURL, nil); err != nil {
		return err
	}
	return watch(ctx, o, desktopLink{frames: frames, echoes: echoes, put: conn.Put, stats: conn.LinkStats})
}

// desktopTimeout bounds a desktop's whole run.
func desktopTimeout(o options) time.Duration {
	return time.Duration(o.seconds*float64(time.Second)) + o.warmup + 30*time.Second
}

// desktopLink is what a desktop watches the robot through: a peer
// connection, or a LiveKit viewer.
type desktopLink struct {
	frames rtcbot.Getter[image.Image]
	echoes rtcbot.Getter[any]
	put    func(any)
	stats  func() rtcbot.LinkStats // a LiveKit viewer's has VideoBytesReceived only
}

// watch is the desktop's measurement over link, as runDesktop describes.
func watch(ctx context.Context, o options, link desktopLink) error {
	frames, echoes, conn := link.frames, link.echoes, link
	disp := rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{Scale: 4}) // the tutorial's 4x, headless
	defer disp.Close()

	var mu sync.Mutex
	measuring := false
	var rtts []float64
	go func() { // controls out, echoes in
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			conn.put(map[string]any{"ping": n, "sent": time.Now().UnixNano()})
		}
	}()
	go func() {
		for {
			msg, err := echoes.Get(ctx)
			if err != nil {
				return
			}
			m, _ := msg.(map[string]any) // anything else is not an echo
			echo, _ := m["echo"].(map[string]any)
			sent, ok := echo["sent"].(float64)
			if !ok {
				continue
			}
			rtt := float64(time.Now().UnixNano()-int64(sent)) / 1e6
			mu.Lock()
			if measuring {
				rtts = append(rtts, rtt)
			}
			mu.Unlock()
		}
	}()

	var r desktopReport
	var latencies []float64
	var start, end time.Time
	var stats0 rtcbot.LinkStats
	var lastSeq uint32
	haveSeq := false
	for {
		frame, err := frames.Get(ctx)
		if err != nil {
			return fmt.Errorf("video: %w", err)
		}
		now := time.Now()
		disp.Put(frame)
		if r.FirstFrameUnixNano == 0 {
			r.FirstFrameUnixNano = now.UnixNano()
			start, end = now.Add(o.warmup), now.Add(o.warmup+time.Duration(o.seconds*float64(time.Second)))
			fmt.Println("first")
		}
		if now.Before(start) {
			continue
		}
		if !measuring {
			mu.Lock()
			measuring = true
			mu.Unlock()
			stats0 = conn.stats()
			fmt.Println("window")
		}
		if now.After(end) {
			st := conn.stats()
			r.VideoKbps = float64(st.VideoBytesReceived-stats0.VideoBytesReceived) * 8 / 1000 / o.seconds
			r.PacketsRepaired, r.PacketsGivenUp = st.PacketsRepaired-stats0.PacketsRepaired, st.PacketsGivenUp-stats0.PacketsGivenUp
			r.FramesLost = st.FramesIncomplete + st.FramesSkipped - stats0.FramesIncomplete - stats0.FramesSkipped
			break
		}
		r.Frames++
		b := frame.Bounds()
		r.Width, r.Height = b.Dx(), b.Dy()
		s, err := timecode.Read(frame)
		if err != nil {
			r.Unreadable++
			continue
		}
		latencies = append(latencies, float64(s.Latency(now))/float64(time.Millisecond))
		if haveSeq && s.Seq > lastSeq+1 {
			r.Dropped += int(s.Seq - lastSeq - 1)
		}
		lastSeq, haveSeq = s.Seq, true
	}
	fmt.Println("end")
	// Wait while rtcbench reads this process's CPU time and peak memory.
	bufio.NewReader(os.Stdin).ReadString('\n')
	r.Seconds = o.seconds
	r.LatencyP50, r.LatencyP99 = percentile(latencies, 50), percentile(latencies, 99)
	r.LatencyMean = mean(latencies)
	mu.Lock()
	r.RTTP50, r.RTTP99 = percentile(rtts, 50), percentile(rtts, 99)
	mu.Unlock()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// mean returns the mean of v (NaN if empty).
func mean(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// percentile returns the p-th percentile of v (NaN if empty).
func percentile(v []float64, p int) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Sorted(slices.Values(v))
	return v[min(len(v)*p/100, len(v)-1)]
}

// --- the orchestrator --------------------------------------------------------

// result is one run: a robot and the desktop, measured.
type result struct {
	desktopReport
	RobotCPU, RobotRSS     float64 // % of one core, MB
	DesktopCPU, DesktopRSS float64
	FirstFrameMS           float64
	FPS                    float64
	RestCPU                float64 // the rest of the machine's CPU in the window, % of one core
}

func orchestrate(o options, codecs []string, peer string, jsonOnly bool) error {
	if o.source != "pattern" && o.source != "ffmpeg" {
		return fmt.Errorf(`-source %q: want "pattern" or "ffmpeg"`, o.source)
	}
	if peer != "go" && peer != "aiortc" {
		return fmt.Errorf(`-peer %q: want "go" or "aiortc"`, peer)
	}
	sizes := measuredSizes(o)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !jsonOnly {
		fmt.Printf("%s\n\n", machineLine(o))
		fmt.Println("| size | codec | robot | fps | dropped | latency p50 / p99 | robot CPU / RSS | desktop CPU / RSS | control RTT p50 / p99 | first frame | video |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	}
	out := jsonOutput{only: jsonOnly}
	for _, codec := range codecs {
		codec = strings.ToLower(strings.TrimSpace(codec))
		if codec != "vp8" && codec != "h264" {
			return fmt.Errorf(`-codec %q: want "vp8" or "h264"`, codec)
		}
		if o.source == "ffmpeg" && codec != "h264" {
			return fmt.Errorf(`-source ffmpeg sends H.264: use -codec h264 (go run -tags h264 ./cmd/rtcbench -source ffmpeg -codec h264)`)
		}
		if codec == "h264" && !h264Built {
			return errors.New("-codec h264 needs a build with H.264: go run -tags h264 ./cmd/rtcbench -codec h264")
		}
		for _, size := range sizes {
			run := o
			run.width, run.height, run.codec = size[0], size[1], codec
			goRes, err := measure(ctx, self, run, "go")
			if err != nil {
				return fmt.Errorf("%dx%d %s, Go robot: %w", run.width, run.height, codec, err)
			}
			line := jsonLine(run, goRes)
			if !jsonOnly {
				printRow(run, "Go", goRes)
			}
			if peer == "aiortc" {
				pyRes, err := measure(ctx, self, run, "aiortc")
				if err != nil {
					return fmt.Errorf("%dx%d %s, aiortc robot: %w", run.width, run.height, codec, err)
				}
				for k, v := range jsonLine(run, pyRes) {
					if k != "width" && k != "height" && k != "codec" && k != "fps_target" && k != "seconds" {
						line["aiortc_"+k] = v
					}
				}
				line["robot_cpu_ratio"] = round(pyRes.RobotCPU/goRes.RobotCPU, 2)
				if !jsonOnly {
					printRow(run, "aiortc", pyRes)
					fmt.Printf("| | | aiortc / Go | %.2f | | %.1fx / %.1fx | %.1fx / %.1fx | %.1fx / %.1fx | | | %.2fx |\n",
						pyRes.FPS/goRes.FPS, pyRes.LatencyP50/goRes.LatencyP50, pyRes.LatencyP99/goRes.LatencyP99,
						pyRes.RobotCPU/goRes.RobotCPU, pyRes.RobotRSS/goRes.RobotRSS, pyRes.DesktopCPU/goRes.DesktopCPU, pyRes.DesktopRSS/goRes.DesktopRSS, pyRes.VideoKbps/goRes.VideoKbps)
				}
			}
			out.emit(line)
		}
	}
	out.flush()
	return nil
}

// measuredSizes is the sizes a run measures: -width and -height, or three.
func measuredSizes(o options) [][2]int {
	if o.width > 0 || o.height > 0 {
		return [][2]int{{o.width, o.height}}
	}
	return [][2]int{{320, 240}, {640, 480}, {1280, 720}}
}

// machineLine is the first line of a run's table: the machine and what is
// measured.
func machineLine(o options) string {
	return fmt.Sprintf("rtcbench: %s, %d cores, %s, %s; loopback, %d fps, %g s measured after a %v warm-up",
		cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, o.fps, o.seconds, o.warmup)
}

// jsonOutput prints a run's JSON lines: each at once with -json (only),
// else after the table (flush).
type jsonOutput struct {
	only  bool
	lines []string
}

func (j *jsonOutput) emit(line map[string]any) {
	b, _ := json.Marshal(line)
	if j.only {
		fmt.Println(string(b))
		return
	}
	j.lines = append(j.lines, string(b))
}

func (j *jsonOutput) flush() {
	if j.only {
		return
	}
	fmt.Println()
	for _, l := range j.lines {
		fmt.Println(l)
	}
}

// orchestrateSFU measures, for each size, the Go robot peer to peer, then
// through LiveKit with each number of viewers.
func orchestrateSFU(o options, sfu string, codecs []string, viewerList, peer string, jsonOnly bool) error {
	if sfu != "livekit" {
		return fmt.Errorf(`-sfu %q: want "livekit"`, sfu)
	}
	if !sfuBuilt {
		return errNoSFU
	}
	if peer != "go" || o.source != "pattern" {
		return errors.New("-sfu measures the Go robot with the test pattern: leave out -peer and -source")
	}
	if len(codecs) != 1 || strings.ToLower(strings.TrimSpace(codecs[0])) != "vp8" {
		return errors.New("-sfu measures VP8 (its viewers count frames with a VP8 decoder of their own): leave out -codec")
	}
	if o.decode != "one" && o.decode != "all" {
		return fmt.Errorf(`-decode %q: want "one" or "all"`, o.decode)
	}
	var counts []int
	for f := range strings.SplitSeq(viewerList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-viewers %q: want numbers of viewers from 1, such as 1,10", viewerList)
		}
		counts = append(counts, n)
	}
	if _, err := livekitserver.Binary(); err != nil {
		return err
	}
	o.codec = "vp8"
	sizes := measuredSizes(o)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !jsonOnly {
		fmt.Printf("%s; LiveKit %s, other viewers decode: %v\n\n", machineLine(o), livekitserver.Version, o.decode == "all")
		sfuHeader()
	}
	out := jsonOutput{only: jsonOnly}
	for _, size := range sizes {
		run := o
		run.width, run.height = size[0], size[1]
		p2p, err := measure(ctx, self, run, "go")
		if err != nil {
			return fmt.Errorf("%dx%d, peer to peer: %w", run.width, run.height, err)
		}
		if !jsonOnly {
			p2pRow(run, p2p)
		}
		line := jsonLine(run, p2p)
		line["path"], line["viewers"], line["latency_mean_ms"] = "p2p", 1, round(p2p.LatencyMean, 2)
		line["rest_cpu_pct"] = round(p2p.RestCPU, 1)
		out.emit(line)
		for _, n := range counts {
			r, err := measureSFU(ctx, self, run, n)
			if err != nil {
				return fmt.Errorf("%dx%d, LiveKit, %d viewers: %w", run.width, run.height, n, err)
			}
			if !jsonOnly {
				sfuRow(run, r, p2p)
			}
			out.emit(sfuJSONLine(run, r, p2p))
		}
	}
	out.flush()
	return nil
}

func printRow(o options, robot string, r result) {
	fmt.Printf("| %dx%d | %s | %s | %.1f | %d (%.1f%%) | %.1f / %.1f ms | %.1f%% / %.0f MB | %.1f%% / %.0f MB | %.2f / %.2f ms | %.0f ms | %.0f kbit/s |\n",
		o.width, o.height, strings.ToUpper(o.codec), robot, r.FPS, r.Dropped, 100*float64(r.Dropped)/float64(max(r.Frames+r.Dropped, 1)),
		r.LatencyP50, r.LatencyP99, r.RobotCPU, r.RobotRSS, r.DesktopCPU, r.DesktopRSS, r.RTTP50, r.RTTP99, r.FirstFrameMS, r.VideoKbps)
}

func jsonLine(o options, r result) map[string]any {
	return map[string]any{
		"width": o.width, "height": o.height, "codec": o.codec, "fps_target": o.fps, "seconds": o.seconds,
		"fps": round(r.FPS, 2), "dropped": r.Dropped, "frames": r.Frames,
		"latency_p50_ms": round(r.LatencyP50, 2), "latency_p99_ms": round(r.LatencyP99, 2),
		"robot_cpu_pct": round(r.RobotCPU, 1), "robot_rss_mb": round(r.RobotRSS, 1),
		"desktop_cpu_pct": round(r.DesktopCPU, 1), "desktop_rss_mb": round(r.DesktopRSS, 1),
		"rtt_p50_ms": round(r.RTTP50, 3), "rtt_p99_ms": round(r.RTTP99, 3), "first_frame_ms": round(r.FirstFrameMS, 1),
		"video_kbps": round(r.VideoKbps, 0), "packets_repaired": r.PacketsRepaired, "packets_given_up": r.PacketsGivenUp, "frames_lost": r.FramesLost,
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// measure runs one robot (kind "go" or "aiortc") and the desktop.
func measure(ctx context.Context, self string, o options, kind string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(o.seconds*float64(time.Second))+o.warmup+90*time.Second)
	defer cancel()
	robot, url, err := startRobot(ctx, self, o, kind)
	if err != nil {
		return result{}, err
	}
	defer robot.stop()

	desktop := exec.CommandContext(ctx, self, "-role", "desktop", "-robot", url,
		"-seconds", strconv.FormatFloat(o.seconds, 'f', -1, 64), "-cpuprofile", profilePath(o, "desktop-"+kind))
	desktop.Stderr = os.Stderr
	out, err := desktop.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	resume, err := desktop.StdinPipe()
	if err != nil {
		return result{}, err
	}
	defer resume.Close()
	started := time.Now()
	if err := desktop.Start(); err != nil {
		return result{}, err
	}
	defer desktop.Wait()
	var r result
	var cpu0Robot, cpu0Desktop, cpu1Robot, cpu1Desktop, cpu0Machine, cpu1Machine float64
	var t0, t1 time.Time
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		switch line := lines.Text(); line {
		case "first":
		case "window":
			t0 = time.Now()
			cpu0Robot, cpu0Desktop, cpu0Machine = cpuSeconds(robot.pid()), cpuSeconds(desktop.Process.Pid), machineCPUSeconds()
		case "end":
			t1 = time.Now()
			cpu1Robot, cpu1Desktop, cpu1Machine = cpuSeconds(robot.pid()), cpuSeconds(desktop.Process.Pid), machineCPUSeconds()
			r.RobotRSS, r.DesktopRSS = peakRSS(robot.pid()), peakRSS(desktop.Process.Pid)
			io.WriteString(resume, "\n")
		default:
			if err := json.Unmarshal([]byte(line), &r.desktopReport); err != nil {
				return result{}, fmt.Errorf("desktop printed %q: %w", line, err)
			}
		}
	}
	if err := desktop.Wait(); err != nil {
		return result{}, fmt.Errorf("desktop: %w", err)
	}
	if t1.IsZero() || r.Frames == 0 {
		return result{}, errors.New("the desktop measured no frames")
	}
	wall := t1.Sub(t0).Seconds()
	r.RobotCPU = 100 * (cpu1Robot - cpu0Robot) / wall
	r.DesktopCPU = 100 * (cpu1Desktop - cpu0Desktop) / wall
	r.RestCPU = 100*(cpu1Machine-cpu0Machine)/wall - r.RobotCPU - r.DesktopCPU
	r.FirstFrameMS = float64(time.Unix(0, r.FirstFrameUnixNano).Sub(started)) / float64(time.Millisecond)
	r.FPS = float64(r.Frames) / r.Seconds
	return r, nil
}

// profilePath is where a role writes its CPU profile, "" for none.
func profilePath(o options, who string) string {
	if o.profile == "" {
		return ""
	}
	return filepath.Join(o.profile, fmt.Sprintf("%s-%dx%d-%s.pprof", who, o.width, o.height, o.codec))
}

// robotProcess is a running robot.
type robotProcess struct {
	cmd   *exec.Cmd
	stdin io.Closer
	srv   *http.Server // the aiortc robot's /connect, served here
	file  string       // the aiortc robot's script, removed at the end
}

func (p *robotProcess) pid() int { return p.cmd.Process.Pid }

// stop closes the robot's standard input, which ends it, and waits.
func (p *robotProcess) stop() {
	p.stdin.Close()
	if p.srv != nil {
		p.srv.Close()
	}
	if p.file != "" {
		defer os.Remove(p.file)
	}
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// startRobot starts a robot and returns its /connect URL. The Go robot
// serves /connect itself; the aiortc robot answers one offer on its
// standard input, and a /connect served here hands it the desktop's offer.
func startRobot(ctx context.Context, self string, o options, kind string) (*robotProcess, string, error) {
	var cmd *exec.Cmd
	script := ""
	if kind == "go" {
		cmd = exec.CommandContext(ctx, self, "-role", "robot", "-width", strconv.Itoa(o.width), "-height", strconv.Itoa(o.height),
			"-fps", strconv.Itoa(o.fps), "-kbps", strconv.Itoa(o.kbps), "-codec", o.codec, "-source", o.source, "-cpuprofile", profilePath(o, "robot"))
	} else {
		script = filepath.Join(os.TempDir(), fmt.Sprintf("rtcbench-aiortc-robot-%d.py", os.Getpid()))
		if err := os.WriteFile(script, aiortcRobot, 0o600); err != nil {
			return nil, "", err
		}
		cmd = exec.CommandContext(ctx, "/usr/bin/python3", script, strconv.Itoa(o.width), strconv.Itoa(o.height), strconv.Itoa(o.fps), o.codec, strconv.Itoa(o.kbps))
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		os.Remove(script)
		if kind == "aiortc" {
			err = fmt.Errorf("%w (install python3-aiortc: sudo apt-get install python3-aiortc)", err)
		}
		return nil, "", err
	}
	p := &robotProcess{cmd: cmd, stdin: stdin, file: script}
	lines := bufio.NewScanner(stdout)
	if kind == "go" {
		if !lines.Scan() {
			p.stop()
			return nil, "", errors.New("the robot printed no address")
		}
		url, ok := strings.CutPrefix(lines.Text(), "robot ")
		if !ok {
			p.stop()
			return nil, "", fmt.Errorf("the robot printed %q", lines.Text())
		}
		go io.Copy(io.Discard, stdout)
		return p, url, nil
	}
	// aiortc: "ready" once Python has started, then one offer in, one
	// answer out.
	if !lines.Scan() || lines.Text() != "ready" {
		p.stop()
		return nil, "", errors.New("the aiortc robot did not start")
	}
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect", func(w http.ResponseWriter, r *http.Request) {
		served := false
		once.Do(func() {
			served = true
			offer, err := io.ReadAll(io.LimitReader(r.Body, rtcbot.MaxOfferSize))
			if err == nil {
				_, err = fmt.Fprintf(stdin, "%s\n", strings.TrimSpace(string(offer)))
			}
			if err != nil || !lines.Scan() {
				http.Error(w, "the aiortc robot did not answer", http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, lines.Text())
			go io.Copy(io.Discard, stdout)
		})
		if !served {
			http.Error(w, "the aiortc robot takes one connection", http.StatusConflict)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.stop()
		return nil, "", err
	}
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, "http://" + ln.Addr().String() + "/connect", nil
}

// cpuSeconds returns a process's user and system CPU time, all threads,
// from /proc/PID/stat.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return math.NaN()
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return math.NaN()
	}
	utime, _ := strconv.ParseFloat(fields[11], 64) // field 14
	stime, _ := strconv.ParseFloat(fields[12], 64) // field 15
	return (utime + stime) / clockTicks
}

// machineCPUSeconds returns the CPU time all the machine's cores have
// spent busy (user, nice, system, interrupts, steal), from /proc/stat.
func machineCPUSeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return math.NaN()
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 9 || fields[0] != "cpu" {
		return math.NaN()
	}
	busy := 0.0
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseFloat(fields[i], 64)
		busy += v
	}
	return busy / clockTicks
}

// clockTicks is Linux's USER_HZ, the unit of /proc's CPU times: 100 on
// every architecture Go supports.
const clockTicks = 100

// peakRSS returns a process's peak resident memory (VmHWM) in MB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return math.NaN()
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// cpuModel is the machine's processor, from /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
