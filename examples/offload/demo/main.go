// Command demo runs RTCBot's offloading tutorial end to end on one machine:
// it builds the robot and desktop commands, starts them as two processes
// talking over 127.0.0.1 (exactly as on two machines), shows the robot's
// control messages, and ends with one summary line. It exits 0 only if video
// and controls really flowed.
//
//	go run ./examples/offload/demo               # 15 s
//	go run ./examples/offload/demo -duration 1m  # or until Ctrl-C
//
// Run it from the repository's root (scripts/demo.sh does, after installing
// what is missing).
package main

import (
	"github.com/rtcbot-go/rtcbot"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// summary is the desktop's -summary line.
type summary struct {
	Frames          int     `json:"frames"`
	FPS             float64 `json:"fps"`
	Width           int     `json:"width"`
	Height          int     `json:"height"`
	ControlsSent    int64   `json:"controls_sent"`
	LatencyMedianMS float64 `json:"latency_median_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`
	LatencyReads    int     `json:"latency_reads"`
}

func main() {
	duration := flag.Duration("duration", 15*time.Second, "how long the desktop runs")
	width := flag.Int("width", 320, "frame width")
	height := flag.Int("height", 240, "frame height")
	fps := flag.Int("fps", 30, "frames per second")
	flag.Parse()
	if err := run(*duration, *width, *height, *fps); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, width, height, fps int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "rtcbot-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("Building the robot and desktop commands...")
	robotBin, desktopBin := filepath.Join(dir, "robot"), filepath.Join(dir, "desktop")
	for bin, pkg := range map[string]string{robotBin: "./examples/offload/robot", desktopBin: "./examples/offload/desktop"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building %s: %w", pkg, err)
		}
	}

	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	size := []string{fmt.Sprint("-width=", width), fmt.Sprint("-height=", height), fmt.Sprint("-fps=", fps)}
	token := rtcbot.RandomToken() // only this demo's desktop may drive its robot
	robot := exec.Command(robotBin, append([]string{"-addr", addr, "-loopback", "-camera", "testpattern", "-token", token}, size...)...)
	robot.Stderr = os.Stderr
	robotOut, err := robot.StdoutPipe()
	if err != nil {
		return err
	}
	if err := robot.Start(); err != nil {
		return err
	}
	defer robot.Process.Kill()

	// Echo the robot's output, counting its control messages; tell when it
	// is listening.
	listening := make(chan struct{})
	robotDone := make(chan int)
	go func() {
		received := 0
		scan := bufio.NewScanner(robotOut)
		for scan.Scan() {
			line := scan.Text()
			fmt.Println("robot   |", line)
			if strings.HasPrefix(line, "(Press CTRL+C") {
				close(listening)
			}
			if strings.HasPrefix(line, "Control message:") {
				received++
			}
		}
		robotDone <- received
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		return errors.New("the robot did not start")
	case <-ctx.Done():
		return ctx.Err()
	}

	desktop := exec.CommandContext(ctx, desktopBin, "-robot", "http://"+addr+"/connect", "-token", token, "-loopback",
		"-duration", duration.String(), "-display", "headless", "-summary")
	desktop.Stderr = os.Stderr
	desktopOut, err := desktop.StdoutPipe()
	if err != nil {
		return err
	}
	if err := desktop.Start(); err != nil {
		return err
	}
	var s summary
	var gotSummary bool
	scan := bufio.NewScanner(desktopOut)
	for scan.Scan() {
		line := scan.Text()
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &s) == nil {
			gotSummary = true
			continue
		}
		fmt.Println("desktop |", line)
	}
	io.Copy(io.Discard, desktopOut)
	desktopErr := desktop.Wait()

	robot.Process.Signal(os.Interrupt)
	received := <-robotDone
	robotErr := robot.Wait()

	fmt.Printf("Summary: %d frames received at %.1f fps, %dx%d; %d control messages sent, %d received; median frame latency %.1f ms (p99 %.1f ms, %d frames read)\n",
		s.Frames, s.FPS, s.Width, s.Height, s.ControlsSent, received, s.LatencyMedianMS, s.LatencyP99MS, s.LatencyReads)
	switch {
	case desktopErr != nil:
		return fmt.Errorf("desktop: %w", desktopErr)
	case robotErr != nil:
		return fmt.Errorf("robot: %w", robotErr)
	case !gotSummary:
		return errors.New("the desktop printed no summary")
	case s.Frames == 0 || s.Width != width || s.Height != height:
		return fmt.Errorf("video did not flow: %d frames of %dx%d", s.Frames, s.Width, s.Height)
	case s.ControlsSent == 0 || int64(received) != s.ControlsSent:
		return fmt.Errorf("controls did not flow: %d sent, %d received", s.ControlsSent, received)
	}
	return nil
}

// freeLoopbackAddr returns a free TCP address on 127.0.0.1.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
