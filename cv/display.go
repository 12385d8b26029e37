package cv

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "window.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/rtcbot-go/rtcbot"
	"gocv.io/x/gocv"
)

// DisplaySettings configures a Display.
type DisplaySettings struct {
	// Name is the window's name and title (default "rtcbot"). Each open
	// Display needs a name of its own.
	Name string
	// Scale shows each frame Scale times wider and taller (default 1: pixel
	// for pixel), interpolated bilinearly as cv2.resize does in RTCBot's
	// offloading tutorial, which shows the robot's video 4 times larger.
	// Received 4:2:0 frames are enlarged and converted by libyuv (package
	// yuv) into buffers the display reuses; other kinds by OpenCV.
	Scale int
}

// Display is a consumer of video frames that shows them in an OpenCV window,
// RTCBot's CVDisplay. The window takes the size of the frames, shown pixel
// for pixel or enlarged (DisplaySettings.Scale); like any video consumer it shows only the newest frame, so a
// slow window skips frames instead of falling behind.
//
//	disp, err := cv.NewDisplay(cv.DisplaySettings{Name: "robot"})
//	if err != nil {
//		return err // no screen: rtcbot.NewHeadlessDisplay is the fallback
//	}
//	defer disp.Close()
//	disp.PutSubscription(conn.Video())
//
// All windows of a process are served by one goroutine locked to an OS
// thread (OpenCV's GUI, Qt on Debian, must run on a single thread), which
// shows frames and keeps the windows responsive. That goroutine stays for the
// life of the process. The display becomes ready once it has shown a frame.
type Display struct {
	cons      *rtcbot.Consumer[image.Image]
	name      string
	scale     int
	window    *gocv.Window // used on the UI thread only
	conv      converter    // used by the consumer's handler only
	closeOnce sync.Once
}

// openNames holds the names of the open displays' windows.
var openNames = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// NewDisplay opens a window. It returns an error, rather than letting OpenCV
// abort the process as it would, when there is no display to open it on: see
// rtcbot.CheckDisplay. With Qt's platform set to something other than X11
// ($QT_QPA_PLATFORM, for example offscreen), the window is opened there.
func NewDisplay(s DisplaySettings) (*Display, error) {
	if err := checkDisplay(); err != nil {
		return nil, err
	}
	name := s.Name
	if name == "" {
		name = "rtcbot"
	}
	openNames.Lock()
	taken := openNames.m[name]
	openNames.m[name] = true
	openNames.Unlock()
	if taken {
		return nil, fmt.Errorf("cv: a window named %q is open already", name)
	}
	d := &Display{name: name, scale: max(s.Scale, 1)}
	var err error
	onUI(func() {
		cname := C.CString(name)
		defer C.free(unsafe.Pointer(cname))
		if msg := C.rtcbot_cv_named_window(cname); msg != nil {
			err = errors.New(C.GoString(msg))
			C.free(unsafe.Pointer(msg))
			return
		}
		d.window = gocv.NewWindow(name) // the window exists: this only wraps it
		ui.windows++
	})
	if err != nil {
		d.releaseName()
		return nil, fmt.Errorf("cv: window %q: %w", name, err)
	}
	d.cons = rtcbot.NewConsumer(d.show, func() rtcbot.Subscription[image.Image] {
		return rtcbot.NewLatest[image.Image]()
	})
	return d, nil
}

// checkDisplay returns an error when opening a window would abort the
// process.
func checkDisplay() error {
	platform := os.Getenv("QT_QPA_PLATFORM")
	switch {
	case strings.HasPrefix(platform, "wayland"):
		if os.Getenv("WAYLAND_DISPLAY") == "" {
			return fmt.Errorf("cv: cannot open a window: %w: QT_QPA_PLATFORM is wayland but $WAYLAND_DISPLAY is not set", rtcbot.ErrNoDisplay)
		}
		return nil
	case platform != "" && !strings.HasPrefix(platform, "xcb"):
		return nil // offscreen, vnc, eglfs...: no X server needed
	}
	if err := rtcbot.CheckDisplay(); err != nil {
		return fmt.Errorf("cv: cannot open a window: %w", err)
	}
	return nil
}

// show is the consumer's handler: it converts the frame on the consumer's
// goroutine and shows it on the UI thread.
func (d *Display) show(frame image.Image) {
	mat, err := d.conv.toBGR(frame, d.scale)
	if err != nil {
		d.cons.SetError(fmt.Errorf("cv: window %q: %w", d.name, err))
		return
	}
	onUI(func() {
		d.window.IMShow(mat) // OpenCV copies the picture
		gocv.WaitKey(1)
	})
	d.cons.SetReady()
}

// Name returns the window's name.
func (d *Display) Name() string { return d.name }

// PutSubscription shows the frames src yields, replacing the previous input
// (RTCBot's putSubscription): a subscription, or a source such as a camera
// or a connection's Video(), which the display subscribes to.
func (d *Display) PutSubscription(src rtcbot.Getter[image.Image]) { d.cons.PutSubscription(src) }

// Put shows one frame (RTCBot's put_nowait), stopping any active
// subscription.
func (d *Display) Put(frame image.Image) { d.cons.Put(frame) }

// StopSubscription stops showing the active input; the window stays open.
func (d *Display) StopSubscription() { d.cons.StopSubscription() }

// Subscription returns the active input, or nil when there is none.
func (d *Display) Subscription() rtcbot.Getter[image.Image] { return d.cons.Subscription() }

// Ready returns a channel closed once the display has shown a frame.
func (d *Display) Ready() <-chan struct{} { return d.cons.Ready() }

// IsReady reports whether the display has shown a frame.
func (d *Display) IsReady() bool { return d.cons.IsReady() }

// Done returns a channel closed once the display has closed.
func (d *Display) Done() <-chan struct{} { return d.cons.Done() }

// IsClosed reports whether the display has closed.
func (d *Display) IsClosed() bool { return d.cons.IsClosed() }

// Err returns the display's first error (a frame it could not show), nil
// if it had none.
func (d *Display) Err() error { return d.cons.Err() }

// Wait blocks until the display closes or ctx ends, returning its error or
// ctx's.
func (d *Display) Wait(ctx context.Context) error { return d.cons.Wait(ctx) }

// OnReady runs f once the display has shown a frame (at once if it has).
func (d *Display) OnReady(f func()) { d.cons.OnReady(f) }

// OnClose runs f once the display has closed (at once if it has).
func (d *Display) OnClose(f func()) { d.cons.OnClose(f) }

// OnError runs f with the display's first error (at once if it had one).
func (d *Display) OnError(f func(error)) { d.cons.OnError(f) }

// Close stops the display and closes its window, waiting until it is gone.
// It is idempotent.
func (d *Display) Close() error {
	d.closeOnce.Do(func() {
		d.cons.Close()
		onUI(func() {
			d.window.Close()
			ui.windows--
			gocv.WaitKey(1) // let the window go away
		})
		d.conv.Close()
		d.releaseName()
	})
	return nil
}

func (d *Display) releaseName() {
	openNames.Lock()
	delete(openNames.m, d.name)
	openNames.Unlock()
}

// ui is the GUI thread shared by every window.
var ui struct {
	once    sync.Once
	calls   chan func()
	windows int // open windows; used on the UI thread only
}

// onUI runs f on the UI thread and waits for it.
func onUI(f func()) {
	ui.once.Do(func() {
		ui.calls = make(chan func())
		go uiLoop()
	})
	done := make(chan struct{})
	ui.calls <- func() {
		defer close(done)
		f()
	}
	<-done
}

// pumpInterval is how often the UI thread lets OpenCV handle window events
// (redraws, moves) while windows are open.
const pumpInterval = 10 * time.Millisecond

// uiLoop is the UI thread: it runs calls and, while windows are open, pumps
// OpenCV's event loop (cv::waitKey). It never returns: Qt's GUI objects
// belong to the thread that made them, so the goroutine keeps its thread.
func uiLoop() {
	runtime.LockOSThread()
	pump := time.NewTicker(pumpInterval)
	for {
		if ui.windows == 0 {
			(<-ui.calls)()
			continue
		}
		select {
		case f := <-ui.calls:
			f()
		case <-pump.C:
			gocv.WaitKey(1)
		}
	}
}
