package main

// The -sfu livekit measurement: the robot publishing into a room of a
// livekit-server on 127.0.0.1 with package livekit, watched by one viewer
// that decodes and measures as the P2P desktop does, and by the other
// viewers in a process of their own. See the package doc.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/livekitserver"
)

// robotStats is what the SFU robot reports when asked: livekit.Stats's
// fields that the measurement reads, and the encoder's count.
type robotStats struct {
	BytesSent, FramesSent           uint64
	KeyframeRequests, KeyframesSent uint64
	TargetBitrate                   int
	Encodes                         uint64 `json:"encodes"`
}

// viewersReport is what the other viewers' process reports at each mark.
type viewersReport struct {
	Frames []uint64 `json:"frames"` // per viewer, VP8 frames received
	Bytes  []uint64 `json:"bytes"`  // per viewer, their bytes
	// The time codes read between the last two marks, all viewers
	// pooled, when they decode.
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	Unreadable int     `json:"unreadable"`
}

// child is a role process rtcbench talks to by lines: it asks with a line
// on the child's standard input and reads one line of answer.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	name  string
}

func startChild(ctx context.Context, name, self string, args ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout), name: name}
	c.out.Buffer(nil, 1<<20)
	if line, err := c.line(); err != nil {
		c.stop()
		return nil, err
	} else if line != "ready" {
		c.stop()
		return nil, fmt.Errorf("%s printed %q", name, line)
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) line() (string, error) {
	if !c.out.Scan() {
		if err := c.cmd.Wait(); err != nil {
			return "", fmt.Errorf("%s: %w", c.name, err)
		}
		return "", fmt.Errorf("%s ended", c.name)
	}
	return c.out.Text(), nil
}

// ask writes a line and decodes the JSON line answered into v.
func (c *child) ask(v any) error {
	if _, err := io.WriteString(c.stdin, "stats\n"); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	line, err := c.line()
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		return fmt.Errorf("%s printed %q: %w", c.name, line, err)
	}
	return nil
}

// stop closes the child's standard input, which ends it, and waits (10 s,
// then kills it).
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// sfuResult is one SFU run: the robot, the server, the measuring viewer
// and the others.
type sfuResult struct {
	desktopReport
	Viewers                int
	RobotCPU, RobotRSS     float64
	ServerCPU, ServerRSS   float64
	DesktopCPU, DesktopRSS float64
	OthersCPU, OthersRSS   float64 // the other viewers' process, 0 for one viewer
	FPS                    float64
	UplinkKbps             float64 // Robot.Stats().BytesSent: RTP, headers and resends included
	EncodesPerSecond       float64
	FramesSentPerSecond    float64
	KeyframesSent          uint64
	KeyframeRequests       uint64
	TargetKbps             float64
	OthersFPSMin           float64 // the fewest frames per second one of the others got
	OthersKbps             float64 // their VP8 payload, mean per viewer
	OthersLatencyP50       float64 // with -decode all, pooled
	OthersLatencyP99       float64
	RestCPU                float64 // the rest of the machine's CPU in the window, % of one core
}

// measureSFU runs a livekit-server, the robot in a room of it, the other
// viewers (viewers-1 of them), then the measuring viewer, and measures
// over the measuring viewer's window.
func measureSFU(ctx context.Context, self string, o options, viewers int) (sfuResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(o.seconds*float64(time.Second))+o.warmup+120*time.Second)
	defer cancel()
	bin, err := livekitserver.Binary()
	if err != nil {
		return sfuResult{}, err
	}
	srv, err := livekitserver.Start(ctx, bin)
	if err != nil {
		return sfuResult{}, err
	}
	defer srv.Close()
	room := fmt.Sprintf("rtcbench-%d", os.Getpid())
	common := []string{"-livekit", srv.WebsocketURL, "-room", room, "-width", strconv.Itoa(o.width), "-height", strconv.Itoa(o.height),
		"-fps", strconv.Itoa(o.fps), "-codec", o.codec, "-seconds", strconv.FormatFloat(o.seconds, 'f', -1, 64)}
	robot, err := startChild(ctx, "the SFU robot", self, append([]string{"-role", "sfu-robot", "-kbps", strconv.Itoa(o.kbps), "-cpuprofile", profilePath(o, "sfu-robot")}, common...)...)
	if err != nil {
		return sfuResult{}, err
	}
	defer robot.stop()
	var others *child
	if viewers > 1 {
		others, err = startChild(ctx, "the other viewers", self, append([]string{"-role", "viewers", "-viewers", strconv.Itoa(viewers - 1), "-decode", o.decode}, common...)...)
		if err != nil {
			return sfuResult{}, err
		}
		defer others.stop()
	}

	desktop := exec.CommandContext(ctx, self, append([]string{"-role", "sfu-desktop", "-cpuprofile", profilePath(o, fmt.Sprintf("sfu-desktop-%d", viewers))}, common...)...)
	desktop.Stderr = os.Stderr
	out, err := desktop.StdoutPipe()
	if err != nil {
		return sfuResult{}, err
	}
	resume, err := desktop.StdinPipe()
	if err != nil {
		return sfuResult{}, err
	}
	defer resume.Close()
	if err := desktop.Start(); err != nil {
		return sfuResult{}, err
	}
	defer desktop.Wait()

	r := sfuResult{Viewers: viewers}
	type sample struct {
		at                                      time.Time
		robot, server, desktop, others, machine float64
		rs                                      robotStats
		vs                                      viewersReport
	}
	take := func() (sample, error) {
		s := sample{at: time.Now(), robot: cpuSeconds(robot.pid()), server: cpuSeconds(srv.PID()), desktop: cpuSeconds(desktop.Process.Pid), machine: machineCPUSeconds()}
		if others != nil {
			s.others = cpuSeconds(others.pid())
			if err := others.ask(&s.vs); err != nil {
				return s, err
			}
		}
		return s, robot.ask(&s.rs)
	}
	var s0, s1 sample
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		switch line := lines.Text(); line {
		case "first":
		case "window":
			if s0, err = take(); err != nil {
				return sfuResult{}, err
			}
		case "end":
			if s1, err = take(); err != nil {
				return sfuResult{}, err
			}
			r.RobotRSS, r.ServerRSS, r.DesktopRSS = peakRSS(robot.pid()), peakRSS(srv.PID()), peakRSS(desktop.Process.Pid)
			if others != nil {
				r.OthersRSS = peakRSS(others.pid())
			}
			io.WriteString(resume, "\n")
		default:
			if err := json.Unmarshal([]byte(line), &r.desktopReport); err != nil {
				return sfuResult{}, fmt.Errorf("the SFU desktop printed %q: %w", line, err)
			}
		}
	}
	if err := desktop.Wait(); err != nil {
		return sfuResult{}, fmt.Errorf("the SFU desktop: %w", err)
	}
	if s1.at.IsZero() || r.Frames == 0 {
		return sfuResult{}, errors.New("the SFU desktop measured no frames")
	}
	wall := s1.at.Sub(s0.at).Seconds()
	r.RobotCPU = 100 * (s1.robot - s0.robot) / wall
	r.ServerCPU = 100 * (s1.server - s0.server) / wall
	r.DesktopCPU = 100 * (s1.desktop - s0.desktop) / wall
	r.OthersCPU = 100 * (s1.others - s0.others) / wall
	r.RestCPU = 100*(s1.machine-s0.machine)/wall - r.RobotCPU - r.ServerCPU - r.DesktopCPU - r.OthersCPU
	r.FPS = float64(r.Frames) / r.Seconds
	r.UplinkKbps = float64(s1.rs.BytesSent-s0.rs.BytesSent) * 8 / 1000 / wall
	r.EncodesPerSecond = float64(s1.rs.Encodes-s0.rs.Encodes) / wall
	r.FramesSentPerSecond = float64(s1.rs.FramesSent-s0.rs.FramesSent) / wall
	r.KeyframesSent, r.KeyframeRequests = s1.rs.KeyframesSent-s0.rs.KeyframesSent, s1.rs.KeyframeRequests-s0.rs.KeyframeRequests
	r.TargetKbps = float64(s1.rs.TargetBitrate) / 1000
	if others != nil {
		if len(s0.vs.Frames) != len(s1.vs.Frames) {
			return sfuResult{}, fmt.Errorf("the other viewers' video tracks went from %d to %d", len(s0.vs.Frames), len(s1.vs.Frames))
		}
		r.OthersFPSMin = -1
		var bytes uint64
		for i := range s1.vs.Frames {
			fps := float64(s1.vs.Frames[i]-s0.vs.Frames[i]) / wall
			if r.OthersFPSMin < 0 || fps < r.OthersFPSMin {
				r.OthersFPSMin = fps
			}
			bytes += s1.vs.Bytes[i] - s0.vs.Bytes[i]
		}
		r.OthersKbps = float64(bytes) * 8 / 1000 / wall / float64(len(s1.vs.Frames))
		r.OthersLatencyP50, r.OthersLatencyP99 = s1.vs.LatencyP50, s1.vs.LatencyP99
	}
	return r, nil
}

// sfuJSONLine is an SFU run's JSON line; p2p is the P2P run at the same
// size and codec, for the latency the SFU adds.
func sfuJSONLine(o options, r sfuResult, p2p result) map[string]any {
	line := map[string]any{
		"path": "livekit", "viewers": r.Viewers, "decode": o.decode,
		"width": o.width, "height": o.height, "codec": o.codec, "fps_target": o.fps, "seconds": o.seconds,
		"fps": round(r.FPS, 2), "dropped": r.Dropped, "frames": r.Frames, "unreadable": r.Unreadable,
		"latency_p50_ms": round(r.LatencyP50, 2), "latency_p99_ms": round(r.LatencyP99, 2),
		"latency_mean_ms": round(r.LatencyMean, 2), "added_latency_mean_ms": round(r.LatencyMean-p2p.LatencyMean, 2),
		"added_latency_p50_ms": round(r.LatencyP50-p2p.LatencyP50, 2), "added_latency_p99_ms": round(r.LatencyP99-p2p.LatencyP99, 2),
		"robot_cpu_pct": round(r.RobotCPU, 1), "robot_rss_mb": round(r.RobotRSS, 1),
		"robot_uplink_kbps": round(r.UplinkKbps, 0), "robot_target_kbps": round(r.TargetKbps, 0),
		"robot_encodes_per_s": round(r.EncodesPerSecond, 2), "robot_frames_sent_per_s": round(r.FramesSentPerSecond, 2),
		"robot_keyframes_sent": r.KeyframesSent, "robot_keyframe_requests": r.KeyframeRequests,
		"server_cpu_pct": round(r.ServerCPU, 1), "server_rss_mb": round(r.ServerRSS, 1),
		"desktop_cpu_pct": round(r.DesktopCPU, 1), "desktop_rss_mb": round(r.DesktopRSS, 1),
		"rtt_p50_ms": round(r.RTTP50, 3), "rtt_p99_ms": round(r.RTTP99, 3),
		"video_kbps": round(r.VideoKbps, 0), "rest_cpu_pct": round(r.RestCPU, 1),
	}
	if r.Viewers > 1 {
		line["others_cpu_pct"], line["others_rss_mb"] = round(r.OthersCPU, 1), round(r.OthersRSS, 1)
		line["others_fps_min"], line["others_video_kbps"] = round(r.OthersFPSMin, 2), round(r.OthersKbps, 0)
		if o.decode == "all" {
			line["others_latency_p50_ms"], line["others_latency_p99_ms"] = round(r.OthersLatencyP50, 2), round(r.OthersLatencyP99, 2)
		}
	}
	return line
}

// sfuHeader and sfuRow print the -sfu table, P2P and SFU rows alike.
func sfuHeader() {
	fmt.Println("| size | codec | path | viewers | fps | dropped | latency p50 / p99 / mean | added p50 / p99 / mean | robot CPU / RSS | robot uplink | encodes/s | SFU CPU / RSS | desktop CPU / RSS | other viewers CPU / RSS, min fps | control RTT p50 / p99 | rest of machine |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
}

func p2pRow(o options, r result) {
	fmt.Printf("| %dx%d | %s | P2P | 1 | %.1f | %d | %.1f / %.1f / %.2f ms | - | %.1f%% / %.0f MB | %.0f kbit/s (payload) | - | - | %.1f%% / %.0f MB | - | %.2f / %.2f ms | %.0f%% |\n",
		o.width, o.height, strings.ToUpper(o.codec), r.FPS, r.Dropped, r.LatencyP50, r.LatencyP99, r.LatencyMean,
		r.RobotCPU, r.RobotRSS, r.VideoKbps, r.DesktopCPU, r.DesktopRSS, r.RTTP50, r.RTTP99, r.RestCPU)
}

func sfuRow(o options, r sfuResult, p2p result) {
	others := "-"
	if r.Viewers > 1 {
		others = fmt.Sprintf("%.1f%% / %.0f MB, %.1f", r.OthersCPU, r.OthersRSS, r.OthersFPSMin)
		if o.decode != "all" {
			others += " (not decoding)"
		} else {
			others += fmt.Sprintf(", latency %.1f / %.1f ms", r.OthersLatencyP50, r.OthersLatencyP99)
		}
	}
	fmt.Printf("| %dx%d | %s | LiveKit | %d | %.1f | %d | %.1f / %.1f / %.2f ms | %+.1f / %+.1f / %+.2f ms | %.1f%% / %.0f MB | %.0f kbit/s (RTP) | %.1f | %.1f%% / %.0f MB | %.1f%% / %.0f MB | %s | %.2f / %.2f ms | %.0f%% |\n",
		o.width, o.height, strings.ToUpper(o.codec), r.Viewers, r.FPS, r.Dropped, r.LatencyP50, r.LatencyP99, r.LatencyMean,
		r.LatencyP50-p2p.LatencyP50, r.LatencyP99-p2p.LatencyP99, r.LatencyMean-p2p.LatencyMean, r.RobotCPU, r.RobotRSS, r.UplinkKbps, r.EncodesPerSecond,
		r.ServerCPU, r.ServerRSS, r.DesktopCPU, r.DesktopRSS, others, r.RTTP50, r.RTTP99, r.RestCPU)
}
