package rtcbot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// CommandSettings configures a program that a source runs and reads from:
// NewH264Command (an encoder writing H.264), NewCommandCamera (raw
// frames), NewPiCamera and NewPiCameraH264 (rpicam-vid).
type CommandSettings struct {
	// Command is the program and its arguments, run directly, not through
	// a shell: {"rpicam-vid", "-t", "0", "--codec", "h264", "-o", "-"}.
	// Its standard output is what the source reads; its standard input is
	// empty.
	Command []string
	// Env is the command's environment, as exec.Cmd's: nil for this
	// process's.
	Env []string
	// RestartDelay is how long to wait before starting the command again
	// when it ends (default 500 ms); the wait doubles, up to 10 s, while
	// the command keeps ending within 10 s of starting. Negative: never
	// restart; the source closes when the command ends. A command that
	// cannot be started at all (not installed, say) is never restarted.
	RestartDelay time.Duration
	// StopTimeout is how long Close waits for the command to end after
	// asking it to (SIGTERM to its process group, so that what it started
	// stops too) before killing the group (SIGKILL); default 2 s.
	StopTimeout time.Duration
	// Logger receives the command's standard error, line by line (at
	// Info), and its starts and ends; default slog.Default().
	Logger *slog.Logger
}

const (
	defaultRestartDelay = 500 * time.Millisecond
	maxRestartDelay     = 10 * time.Second
	defaultStopTimeout  = 2 * time.Second
	maxStderrLine       = 1024 // longer lines of a command's standard error are cut
)

func (s CommandSettings) withDefaults() CommandSettings {
	if s.RestartDelay == 0 {
		s.RestartDelay = defaultRestartDelay
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = defaultStopTimeout
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s
}

// ErrCommand is wrapped by the errors of a source's command: one that
// cannot be started (the error says what to install when it is a known
// program), and one that ended, with its exit status.
var ErrCommand = errors.New("rtcbot: command failed")

// commandRunner runs a source's command, restarting it with backoff, and
// stops it for good on stop.
type commandRunner struct {
	s       CommandSettings
	name    string // the program, for messages
	install string // what to install when the program is missing, "" if unknown

	mu      sync.Mutex
	proc    *commandProc // the running command, nil between runs
	stopped bool

	delay   time.Duration // the next restart's wait
	started time.Time     // when the command last started
	runs    int
}

// commandProc is one run of a command.
type commandProc struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	logged chan struct{} // closed when its standard error has been read to the end
	once   sync.Once     // reap
	err    error         // why it ended, set by reap
}

func newCommandRunner(s CommandSettings) (*commandRunner, error) {
	s = s.withDefaults()
	if len(s.Command) == 0 || s.Command[0] == "" {
		return nil, fmt.Errorf("%w: CommandSettings.Command is empty", ErrInvalidSettings)
	}
	return &commandRunner{s: s, name: s.Command[0], delay: s.RestartDelay}, nil
}

// next starts the command, after the restart delay if it ran before, and
// returns its standard output. It returns io.EOF when the command is not
// to run again (stopped, or not restarted), and the start's error, which
// is final, when it cannot be started.
func (r *commandRunner) next(ctx context.Context) (io.Reader, error) {
	if r.runs > 0 {
		if r.s.RestartDelay < 0 {
			return nil, io.EOF
		}
		if time.Since(r.started) >= maxRestartDelay {
			r.delay = r.s.RestartDelay // it ran well: start again soon
		}
		t := time.NewTimer(r.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, io.EOF
		}
		r.delay = min(2*r.delay, maxRestartDelay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || ctx.Err() != nil {
		return nil, io.EOF
	}
	cmd := exec.Command(r.s.Command[0], r.s.Command[1:]...)
	cmd.Env = r.s.Env
	cmd.SysProcAttr = commandProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCommand, r.name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCommand, r.name, err)
	}
	if err := cmd.Start(); err != nil {
		if r.install != "" && errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s is not installed (%s): %w", ErrCommand, r.name, r.install, err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrCommand, r.name, err)
	}
	r.runs++
	r.started = time.Now()
	p := &commandProc{cmd: cmd, stdout: stdout, logged: make(chan struct{})}
	r.proc = p
	r.s.Logger.Debug("rtcbot: command started", "command", r.name, "pid", cmd.Process.Pid)
	go func() {
		defer close(p.logged)
		lines := bufio.NewReaderSize(stderr, maxStderrLine)
		for {
			line, err := lines.ReadSlice('\n')
			if s := strings.TrimRight(string(line), "\r\n"); s != "" {
				r.s.Logger.Info("rtcbot: command", "command", r.name, "stderr", s)
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return
			}
		}
	}()
	return stdout, nil
}

// ended waits for the run that next started to end, once its standard
// output was read to the end (or failed), and returns why it ended: nil
// if it was stopped.
func (r *commandRunner) ended() error {
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	r.reap(p)
	r.mu.Lock()
	if r.proc == p {
		r.proc = nil
	}
	stopped := r.stopped
	r.mu.Unlock()
	switch {
	case stopped:
		return nil
	case p.err != nil:
		r.s.Logger.Warn("rtcbot: command ended", "command", r.name, "err", p.err)
		return fmt.Errorf("%w: %s: %w", ErrCommand, r.name, p.err)
	}
	r.s.Logger.Warn("rtcbot: command ended", "command", r.name)
	return fmt.Errorf("%w: %s ended", ErrCommand, r.name)
}

// reap ends p's process group, what is left of it, and waits for p, once
// (later callers wait for the first): SIGTERM to the group, SIGKILL after
// StopTimeout. The command's end ends a read of its output in progress.
func (r *commandRunner) reap(p *commandProc) {
	p.once.Do(func() {
		signalGroup(p.cmd, false)
		kill := time.AfterFunc(r.s.StopTimeout, func() {
			r.s.Logger.Warn("rtcbot: command did not stop in time: killed", "command", r.name, "timeout", r.s.StopTimeout)
			signalGroup(p.cmd, true)
		})
		defer kill.Stop()
		// Wait closes standard error: read it to the end first, which
		// comes when the group has ended.
		select {
		case <-p.logged:
		case <-time.After(2 * r.s.StopTimeout):
		}
		p.err = p.cmd.Wait() // and closes its output
	})
}

// stop ends the running command, if any, and any later start, and returns
// once the command has been waited for.
func (r *commandRunner) stop() {
	r.mu.Lock()
	r.stopped = true
	p := r.proc
	r.mu.Unlock()
	if p != nil {
		r.reap(p)
	}
}

// NewH264Command runs a command that writes an H.264 Annex-B byte stream
// on its standard output and returns a source of its access units, sent
// as they are (MediaStream.PutEncoded): the output of a hardware encoder,
// with no decode and re-encode in this process. For example:
//
//	rpicam-vid -t 0 -n --codec h264 --profile baseline --inline --intra 30 --flush --width 1280 --height 720 --framerate 30 -o -
//	ffmpeg -loglevel error -f v4l2 -i /dev/video0 -c:v h264_v4l2m2m -g 30 -bsf:v dump_extra -flush_packets 1 -f h264 -
//	gst-launch-1.0 -q ... ! x264enc tune=zerolatency key-int-max=30 ! video/x-h264,stream-format=byte-stream ! fdsink
//
// The stream should repeat its SPS and PPS before every IDR picture
// (rpicam-vid --inline, ffmpeg -bsf:v dump_extra); the source does it
// when the stream does not, from the last ones seen. A viewer who joins
// waits for the next keyframe, so keep the intra period short, or give
// the stream's RequestKeyframe. The command is restarted when it ends
// (see CommandSettings) and stopped by Close; each end is reported
// through the error event (ErrCommand) and logged.
func NewH264Command(c CommandSettings, s EncodedStreamSettings) *EncodedSource {
	return newH264Command(c, s, "")
}

func newH264Command(c CommandSettings, s EncodedStreamSettings, install string) *EncodedSource {
	src, ctx := newEncodedSource(s)
	return src.runCommand(ctx, c, install, src.readH264)
}

// runCommand runs the source's command, reading each run's output with
// read, until the command is not restarted or the source closes.
func (src *EncodedSource) runCommand(ctx context.Context, c CommandSettings, install string, read func(context.Context, io.Reader) error) *EncodedSource {
	runner, err := newCommandRunner(c)
	if err != nil {
		close(src.exited)
		src.prod.SetError(err)
		src.prod.Close()
		return src
	}
	runner.install = install
	src.interrupt = runner.stop
	go func() {
		defer close(src.exited)
		defer src.prod.Close()
		defer runner.stop()
		for {
			out, err := runner.next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					src.prod.SetError(err)
				}
				return
			}
			if runner.runs > 1 {
				src.restarts.Add(1)
			}
			readErr := read(ctx, out)
			if err := runner.ended(); err != nil {
				src.prod.SetError(err)
			} else if readErr != nil && ctx.Err() == nil {
				src.prod.SetError(readErr)
			}
		}
	}()
	return src
}

// NewCommandCamera runs a command that writes raw I420 frames (YUV 4:2:0,
// planar: Y, then Cb, then Cr, each row without padding) of
// s.Width x s.Height on its standard output, and returns a camera of its
// frames, encoded by rtcbot like any camera's:
//
//	rpicam-vid -t 0 -n --codec yuv420 --width 640 --height 480 --framerate 30 --flush -o -
//	ffmpeg -loglevel error -f v4l2 -i /dev/video0 -pix_fmt yuv420p -f rawvideo -
//
// The command is restarted when it ends (see CommandSettings) and stopped
// when the camera closes. A run that ends inside a frame drops that frame.
func NewCommandCamera(c CommandSettings, s CameraSettings) *Camera {
	return newCommandCamera(c, s, "")
}

func newCommandCamera(c CommandSettings, s CameraSettings, install string) *Camera {
	s = s.WithDefaults()
	runner, err := newCommandRunner(c)
	if err != nil {
		return newFailedCamera(err, s)
	}
	runner.install = install
	return NewCameraFromReader(&rawFrameReader{runner: runner, width: s.Width, height: s.Height}, s)
}

// rawFrameReader reads I420 frames from a command's output.
type rawFrameReader struct {
	runner        *commandRunner
	width, height int
	out           io.Reader // the running command's output, nil between runs
	ran           error     // why the last run ended, reported when it is not restarted
	watching      bool      // the camera's context stops the command when it ends
}

func (r *rawFrameReader) ReadFrame(ctx context.Context) (image.Image, error) {
	if !r.watching {
		// Camera.Close ends ctx and then waits for this read: stopping
		// the command ends the read.
		r.watching = true
		context.AfterFunc(ctx, r.runner.stop)
	}
	for {
		if r.out == nil {
			out, err := r.runner.next(ctx)
			if err != nil {
				if r.ran != nil && errors.Is(err, io.EOF) && ctx.Err() == nil {
					return nil, r.ran // the command ended and is not restarted
				}
				return nil, err
			}
			r.out = out
		}
		img := image.NewYCbCr(image.Rect(0, 0, r.width, r.height), image.YCbCrSubsampleRatio420)
		_, err := io.ReadFull(r.out, img.Y)
		if err == nil {
			_, err = io.ReadFull(r.out, img.Cb)
		}
		if err == nil {
			_, err = io.ReadFull(r.out, img.Cr)
		}
		if err == nil {
			return img, nil
		}
		r.out = nil
		r.ran = r.runner.ended()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func (r *rawFrameReader) Close() error {
	r.runner.stop()
	return nil
}
