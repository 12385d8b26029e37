package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRTCBench runs the command as a user would, briefly, with both robots,
// and checks that its JSON line has every figure, each plausible, and that
// -kbps holds both robots' video to about that bitrate (their defaults at
// 320x240 are 230 and 500 kbit/s).
func TestRTCBench(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "rtcbench")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "-width", "320", "-height", "240", "-seconds", "1", "-peer", "aiortc", "-kbps", "120", "-json").Output()
	if err != nil {
		if e, ok := err.(*exec.ExitError); ok {
			t.Logf("stderr:\n%s", e.Stderr)
		}
		t.Fatalf("rtcbench: %v (python3-aiortc missing? sudo apt-get install python3-aiortc)", err)
	}
	var line map[string]any
	if err := json.Unmarshal(out, &line); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, prefix := range []string{"", "aiortc_"} {
		for key, lo := range map[string]float64{
			"fps": 20, "frames": 20, "latency_p50_ms": 0, "latency_p99_ms": 0, "robot_cpu_pct": 0.1, "robot_rss_mb": 5,
			"desktop_cpu_pct": 0.1, "desktop_rss_mb": 5, "rtt_p50_ms": 0.001, "first_frame_ms": 1, "video_kbps": 40,
		} {
			v, ok := line[prefix+key].(float64)
			if !ok || v < lo || v > 10000 {
				t.Errorf("%s%s = %v, want a number from %g", prefix, key, line[prefix+key], lo)
			}
		}
	}
	for _, key := range []string{"video_kbps", "aiortc_video_kbps"} {
		if v, _ := line[key].(float64); v > 200 {
			t.Errorf("%s = %v with -kbps 120", key, v)
		}
	}
	if r, ok := line["robot_cpu_ratio"].(float64); !ok || r <= 0 {
		t.Errorf("robot_cpu_ratio = %v", line["robot_cpu_ratio"])
	}
}

// TestRTCBenchSFU runs -sfu livekit briefly with 1 and 3 viewers (a real
// livekit-server, which scripts/setup.sh installs) and checks the JSON
// lines: the P2P run's, then one per viewer count, each with frames whose
// time codes read, and the robot encoding and sending the same for three
// viewers as for one.
func TestRTCBenchSFU(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "rtcbench")
	if out, err := exec.CommandContext(ctx, "go", "build", "-tags", "sfu", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "-sfu", "livekit", "-width", "320", "-height", "240", "-viewers", "1,3", "-seconds", "2", "-json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rtcbench -sfu livekit: %v\n%s", err, stderr.String())
	}
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		lines = append(lines, line)
	}
	if len(lines) != 3 || lines[0]["path"] != "p2p" || lines[1]["path"] != "livekit" || lines[2]["path"] != "livekit" ||
		lines[1]["viewers"] != 1.0 || lines[2]["viewers"] != 3.0 {
		t.Fatalf("want the p2p line, then livekit with 1 and 3 viewers; got %s", out)
	}
	for i, line := range lines {
		keys := map[string]float64{"fps": 20, "frames": 40, "latency_mean_ms": 0.1, "latency_p99_ms": 0.5, "robot_cpu_pct": 0.1,
			"robot_rss_mb": 5, "desktop_cpu_pct": 0.1, "rtt_p50_ms": 0.001, "video_kbps": 40}
		if i > 0 {
			for k, lo := range map[string]float64{"robot_uplink_kbps": 40, "robot_encodes_per_s": 20, "robot_frames_sent_per_s": 20,
				"server_cpu_pct": 0.1, "server_rss_mb": 5} {
				keys[k] = lo
			}
		}
		if i == 2 {
			keys["others_fps_min"], keys["others_video_kbps"], keys["others_cpu_pct"] = 20, 40, 0.1
		}
		for key, lo := range keys {
			if v, ok := line[key].(float64); !ok || v < lo || v > 10000 {
				t.Errorf("%s line: %s = %v, want a number from %g", line["path"], key, line[key], lo)
			}
		}
		if line["unreadable"] != nil && line["unreadable"] != 0.0 {
			t.Errorf("%s line: %v frames with unreadable time codes", line["path"], line["unreadable"])
		}
	}
	// One encode per camera frame however many watch: 30 per second, a
	// tenth either way for the window's edges and rate control's skips;
	// the uplink the same within a third (a new viewer's keyframe).
	for _, key := range []string{"robot_encodes_per_s", "robot_uplink_kbps"} {
		one, three := lines[1][key].(float64), lines[2][key].(float64)
		if r := three / one; r < 0.67 || r > 1.33 {
			t.Errorf("%s: %v with one viewer, %v with three; want about the same", key, one, three)
		}
	}
	if e := lines[2]["robot_encodes_per_s"].(float64); e < 27 || e > 33 {
		t.Errorf("robot_encodes_per_s = %v with three viewers, want about 30", e)
	}
}
