package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
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
