package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtcbot-go/rtcbot/yuv"
)

// HeadlessDisplaySettings configures a HeadlessDisplay. The zero value
// measures the frame rate over 1 s intervals and reports nothing.
type HeadlessDisplaySettings struct {
	// Interval is how often the frame rate is measured and reported
	// (default 1 s).
	Interval time.Duration
	// Report, if set, is called with the display's statistics at the end of
	// every interval, on the display's statistics goroutine.
	Report func(DisplayStats)
	// Logger, if set, logs the statistics at the end of every interval in
	// which frames arrived, at level Info.
	Logger *slog.Logger
	// SnapshotPath, if set, is a PNG file the latest frame is written to
	// every SnapshotEvery (when a new frame arrived since the last write)
	// and once more on Close.
	SnapshotPath string
	// SnapshotEvery is the snapshot period (default 5 s).
	SnapshotEvery time.Duration
	// Scale shows frames Scale times wider and taller (default 1), as
	// package cv's DisplaySettings.Scale does in a window: interpolated
	// bilinearly by libyuv (package yuv), as cv2.resize does in RTCBot's
	// offloading tutorial. A headless display shows nothing between
	// snapshots, so it enlarges only what is looked at: Snapshot and
	// LastFrame give the enlarged picture and Stats its size, while the
	// frames as they arrive are kept as they are, without a copy or any
	// work per frame. A snapshot is enlarged a band of rows at a time as it
	// is written, so the enlarged picture never takes memory whole.
	Scale int
}

// DisplayStats is what a HeadlessDisplay reports.
type DisplayStats struct {
	// Frames is the number of frames received so far.
	Frames uint64
	// FPS is the frame rate over the last complete interval.
	FPS float64
	// Size is the size of the last frame (zero before the first).
	Size image.Point
}

// HeadlessDisplay is a consumer of video frames for machines without a
// screen, where a program would use a window (package cv's Display, RTCBot's
// CVDisplay) on a desktop. It counts the frames it receives, measures their
// rate, keeps the last one, and can write it to a PNG file (enlarged, with
// HeadlessDisplaySettings.Scale) and report the statistics periodically.
// Like a window it shows only the newest frame: its direct input (Put) is
// latest-only.
//
//	disp := rtcbot.NewHeadlessDisplay(rtcbot.HeadlessDisplaySettings{Logger: slog.Default()})
//	defer disp.Close()
//	disp.PutSubscription(cam)
//
// The display becomes ready with its first frame.
type HeadlessDisplay struct {
	frameSink
	settings HeadlessDisplaySettings

	mu     sync.Mutex
	frames uint64
	last   image.Image // as received
	fps    float64

	snapMu sync.Mutex  // serialises snapshots
	rgba   *image.RGBA // a snapshot's frame as RGBA, reused

	stop    context.CancelFunc
	stopped chan struct{} // closed when the statistics goroutine returns
}

// NewHeadlessDisplay returns a display with the given settings, defaults
// filled in. Close it to stop its goroutines.
func NewHeadlessDisplay(s HeadlessDisplaySettings) *HeadlessDisplay {
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	if s.SnapshotEvery <= 0 {
		s.SnapshotEvery = 5 * time.Second
	}
	s.Scale = max(s.Scale, 1)
	ctx, stop := context.WithCancel(context.Background())
	d := &HeadlessDisplay{settings: s, stop: stop, stopped: make(chan struct{})}
	d.frameSink = newFrameSink(NewConsumer(d.show, func() Subscription[image.Image] { return NewLatest[image.Image]() }))
	go d.stats(ctx)
	return d
}

// show is the consumer's handler.
func (d *HeadlessDisplay) show(frame image.Image) {
	d.mu.Lock()
	d.frames++
	d.last = frame
	d.mu.Unlock()
	d.cons.SetReady()
}

// stats is the statistics goroutine: it measures the frame rate, reports it
// and writes periodic snapshots.
func (d *HeadlessDisplay) stats(ctx context.Context) {
	defer close(d.stopped)
	tick := time.NewTicker(d.settings.Interval)
	defer tick.Stop()
	var snap <-chan time.Time
	if d.settings.SnapshotPath != "" {
		t := time.NewTicker(d.settings.SnapshotEvery)
		defer t.Stop()
		snap = t.C
	}
	start, startFrames := time.Now(), uint64(0)
	snapFrames := uint64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			d.mu.Lock()
			frames := d.frames
			d.fps = float64(frames-startFrames) / now.Sub(start).Seconds()
			d.mu.Unlock()
			start, startFrames = now, frames
			st := d.Stats()
			if d.settings.Report != nil {
				d.settings.Report(st)
			}
			if d.settings.Logger != nil && st.FPS > 0 {
				d.settings.Logger.Info("display", "frames", st.Frames, "fps", st.FPS,
					"width", st.Size.X, "height", st.Size.Y)
			}
		case <-snap:
			if frames := d.Frames(); frames != snapFrames {
				snapFrames = frames
				if err := d.Snapshot(d.settings.SnapshotPath); err != nil {
					d.cons.SetError(err)
				}
			}
		}
	}
}

// Frames returns the number of frames received so far.
func (d *HeadlessDisplay) Frames() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frames
}

// LastFrame returns the last frame received as the display shows it, or
// nil before the first: the frame itself, or with a Scale above 1 a new
// picture of it enlarged, which the caller owns.
func (d *HeadlessDisplay) LastFrame() image.Image {
	frame := d.received()
	n := d.settings.Scale
	if frame == nil || n == 1 || frame.Bounds().Empty() {
		return frame
	}
	src := toI420(frame, nil)
	big := image.NewYCbCr(image.Rect(0, 0, n*src.Rect.Dx(), n*src.Rect.Dy()), image.YCbCrSubsampleRatio420)
	if yuv.Scale(big, src, yuv.FilterBilinear) != nil {
		return frame // not reached: src is a 4:2:0 picture at even coordinates
	}
	return big
}

// received returns the last frame as it was received.
func (d *HeadlessDisplay) received() image.Image {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// FPS returns the frame rate measured over the last complete interval
// (HeadlessDisplaySettings.Interval), 0 before the first interval ends.
func (d *HeadlessDisplay) FPS() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fps
}

// Stats returns the display's statistics.
func (d *HeadlessDisplay) Stats() DisplayStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := DisplayStats{Frames: d.frames, FPS: d.fps}
	if d.last != nil {
		st.Size = d.last.Bounds().Size().Mul(d.settings.Scale)
	}
	return st
}

// Snapshot writes the last frame, as the display shows it (see
// HeadlessDisplaySettings.Scale), to path as an opaque RGB PNG file. The
// file is replaced atomically (written beside it, then renamed), so a
// reader never sees half a picture. An enlarged snapshot is made and
// written a band of rows at a time, never whole in memory. Before the first
// frame it fails with an error wrapping ErrNoFrame.
func (d *HeadlessDisplay) Snapshot(path string) error {
	frame := d.received()
	if frame == nil {
		return fmt.Errorf("snapshot %s: %w", path, ErrNoFrame)
	}
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	rgba, ok := frame.(*image.RGBA)
	if !ok {
		// Camera frames are 4:2:0 YCbCr, converted by libyuv.
		r := frame.Bounds()
		if d.rgba == nil || d.rgba.Rect.Size() != r.Size() {
			d.rgba = image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		}
		if m, ok := frame.(*image.YCbCr); !ok || yuv.ToRGBA(d.rgba, m) != nil {
			draw.Draw(d.rgba, d.rgba.Rect, frame, r.Min, draw.Src)
		}
		rgba = d.rgba
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	err = writePNG(f, rgba, d.settings.Scale)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}

// Close stops the display: its input and goroutines stop and the close event
// fires. With a SnapshotPath, the last frame (if any) is written once more,
// and an error doing so is returned.
func (d *HeadlessDisplay) Close() error {
	d.stop()
	<-d.stopped
	d.cons.Close()
	if d.settings.SnapshotPath != "" && d.received() != nil {
		return d.Snapshot(d.settings.SnapshotPath)
	}
	return nil
}

// CheckDisplay reports whether a graphical display is available for a
// window (package cv's Display): it returns nil if $DISPLAY names an X server
// that accepts connections, and an error saying why not otherwise. Programs
// use it to fall back to a HeadlessDisplay. It checks only that the server
// answers, not that this process is authorised to use it.
func CheckDisplay() error {
	display := os.Getenv("DISPLAY")
	if display == "" {
		return fmt.Errorf("%w: $DISPLAY is not set", ErrNoDisplay)
	}
	network, addrs, err := xAddrs(display)
	if err != nil {
		return fmt.Errorf("rtcbot: no display: $DISPLAY=%q: %w", display, err)
	}
	for _, addr := range addrs {
		var conn net.Conn
		conn, err = net.DialTimeout(network, addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
	}
	return fmt.Errorf("rtcbot: no display: X server %q does not answer: %w", display, err)
}

// xAddrs returns where the X server named by display (host:number.screen)
// listens: its Unix sockets (the file, then the Linux abstract one) for a
// local display, a TCP port for a remote one.
func xAddrs(display string) (network string, addrs []string, err error) {
	i := strings.LastIndexByte(display, ':')
	if i < 0 {
		return "", nil, errors.New("no display number")
	}
	host, num := display[:i], display[i+1:]
	num, _, _ = strings.Cut(num, ".") // drop the screen number
	if strings.HasPrefix(host, "/") { // a socket path (XQuartz): /path:number
		return "unix", []string{host + ":" + num}, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return "", nil, fmt.Errorf("bad display number %q", num)
	}
	if host == "" || host == "unix" {
		path := "/tmp/.X11-unix/X" + num
		return "unix", []string{path, "@" + path}, nil
	}
	host = strings.TrimSuffix(host, "/tcp")
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") // [IPv6 address]
	return "tcp", []string{net.JoinHostPort(host, strconv.Itoa(6000+n))}, nil
}
