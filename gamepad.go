package rtcbot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultGamepadPollInterval is how often a Gamepad in joystick mode (see
// Gamepad) reads its joystick's state unless told otherwise. A Gamepad
// reading evdev does not poll.
const DefaultGamepadPollInterval = 10 * time.Millisecond

// GamepadSettings configures NewGamepad.
type GamepadSettings struct {
	// Path is the gamepad's device: an evdev node (/dev/input/event5, or a
	// stable /dev/input/by-id/...-event-joystick link), or a joystick node
	// (/dev/input/js0, or a by-id ...-joystick link) to use joystick mode.
	// Empty means the first gamepad found (see NewGamepad).
	Path string
	// Filter keeps the events it returns true for; nil means
	// DefaultInputFilter, which drops SYN_REPORT.
	Filter func(InputEvent) bool
	// PollInterval is used only in joystick mode: how often the joystick's
	// state is read (default DefaultGamepadPollInterval). A button pressed
	// and released within one interval is missed there.
	PollInterval time.Duration
}

// Gamepad is a gamepad or joystick, RTCBot's Gamepad: a producer of
// InputEvents, one for every change the device reports, such as
//
//	{'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
//	{'timestamp': 1553379213.184861, 'code': 'ABS_X', 'state': -1240, 'event': 'Absolute'}
//
// Its subscriptions are queues.
//
// A Gamepad normally reads the device's evdev node (/dev/input/eventN) as
// RTCBot does through Python's inputs package, and delivers the same events
// with the same values: every event the device sends (EV_KEY, EV_ABS,
// EV_SYN and any other; the default filter drops only SYN_REPORT), stamped
// with the kernel's time, in the kernel's order, with the device's raw
// values: buttons 1 and 0, sticks in the device's range
// (-32768 to 32767 on an Xbox pad), triggers 0 to 255 (or 0 to 1023, as the
// device reports them), hats -1 to 1. It blocks on the device, so every
// event is delivered, however short the press. Like RTCBot it passes on a
// SYN_DROPPED (the kernel's queue overflowed) without resynchronising.
//
// In joystick mode, used when no gamepad's evdev node can be read (reading
// /dev/input/event* needs root or the input group; /dev/input/js* is often
// readable by everyone) or when GamepadSettings.Path is a joystick node, a
// Gamepad reads the Linux joystick interface (/dev/input/jsN) through the
// joystick package instead, and its events differ from RTCBot's:
//   - Codes are right: each axis and button is named by the evdev code the
//     kernel's joystick map gives it (JSIOCGAXMAP, JSIOCGBTNMAP), so axis 2
//     of an Xbox pad is ABS_Z and button 0 is BTN_SOUTH.
//   - Axis values are not: the kernel rescales every axis to -32767..32767
//     and zeroes its dead zone, so an Xbox pad's triggers report -32767
//     (released) to 32767 and its hat -32767, 0 and 32767. The device's
//     own values cannot be recovered exactly from the joystick interface
//     (its correction drops the dead zone and saturates at the ends), so
//     they are passed on as the kernel gives them. Buttons report 1 and 0.
//   - The state is polled every PollInterval: a press shorter than that can
//     be lost, events are stamped with the time of the poll, and within a
//     poll buttons come before axes, each in index order. The state when
//     the gamepad opens produces no events.
//   - The joystick package reads the device in a goroutine of its own, on a
//     file that closing cannot interrupt: after Close that goroutine ends at
//     the device's next event or removal, not at once.
//
// Path says which mode a Gamepad is in. If reading fails (the gamepad was
// unplugged), the error is reported through Err and OnError and the
// gamepad closes, so readers get ErrClosed.
type Gamepad struct {
	inputSource
	name, path string

	src       gamepadSource
	closeOnce sync.Once
	closing   chan struct{}
	done      chan struct{}
}

// NewGamepad opens the gamepad at s.Path or, when it is empty, the first
// gamepad found: the first evdev device in /dev/input (event0, event1, ...)
// with absolute axes and gamepad or joystick buttons (BTN_SOUTH or
// BTN_TRIGGER), or, when none can be read, the first joystick node
// (/dev/input/js0, js1, ...) in joystick mode. Finding none is an error
// wrapping os.ErrNotExist. Evdev and the joystick interface are Linux's:
// elsewhere NewGamepad returns an error wrapping errors.ErrUnsupported.
func NewGamepad(s GamepadSettings) (*Gamepad, error) { return openGamepad(s) }

// gamepadSource is what a Gamepad reads its events from.
type gamepadSource interface {
	// next blocks until the next event.
	next() (InputEvent, error)
	// close releases the device and makes a blocked next return; it may be
	// called more than once.
	close()
}

// newGamepad starts a Gamepad reading src.
func newGamepad(src gamepadSource, name, path string, filter func(InputEvent) bool) *Gamepad {
	if filter == nil {
		filter = DefaultInputFilter
	}
	g := &Gamepad{
		inputSource: newInputSource(NewProducer[InputEvent](nil)),
		name:        name,
		path:        path,
		src:         src,
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
	}
	go g.run(filter)
	return g
}

func (g *Gamepad) run(filter func(InputEvent) bool) {
	defer close(g.done)
	defer g.prod.Close()
	defer g.src.close()
	g.prod.SetReady()
	for {
		e, err := g.src.next()
		if err != nil {
			select {
			case <-g.closing: // Close closed the device under the reader
			default:
				g.prod.SetError(fmt.Errorf("rtcbot: gamepad %s: %w", g.path, err))
			}
			return
		}
		if filter(e) {
			g.prod.Publish(e)
		}
	}
}

// Name returns the gamepad's name as the kernel reports it ("Microsoft
// X-Box 360 pad").
func (g *Gamepad) Name() string { return g.name }

// Path returns the device the gamepad reads: an evdev node
// (/dev/input/eventN), or a joystick node (/dev/input/jsN) in joystick mode.
func (g *Gamepad) Path() string { return g.path }

// Close stops reading, releases the device and closes every subscription
// (readers get what is queued, then ErrClosed). It waits for the reading
// goroutine to end and is idempotent.
func (g *Gamepad) Close() error {
	g.closeOnce.Do(func() {
		close(g.closing)
		g.src.close()
	})
	<-g.done
	return nil
}

// evdevSource reads an evdev node's struct input_event records with the
// package's own decoder (the one Keyboard and Mouse use) rather than
// kenshaw/evdev's Poll: Poll runs a goroutine of its own on a file it has
// made blocking (through Fd), which Close could not wake, while a file
// opened here stays in Go's poller, so closing it ends a blocked read at
// once. The decoder also names codes as the inputs package does.
type evdevSource struct {
	f    io.ReadCloser
	rr   *inputRecordReader
	once sync.Once
}

// newEvdevSource reads records laid out for this platform from f (an evdev
// node, or a pipe or file in tests), which it closes when it closes.
func newEvdevSource(f io.ReadCloser) *evdevSource {
	return &evdevSource{f: f, rr: newInputRecordReader(f, inputWord)}
}

func (s *evdevSource) next() (InputEvent, error) {
	e, err := s.rr.next()
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("device ended: %w", err)
	}
	return e, err
}

func (s *evdevSource) close() { s.once.Do(func() { s.f.Close() }) }

// joystickState is one reading of a joystick: each axis's value and a bit
// per button (bit i set: button i pressed).
type joystickState struct {
	Axes    []int
	Buttons uint32
}

// joystickReader is the joystick a joystick-mode Gamepad polls; tests
// provide fakes.
type joystickReader interface {
	Read() (joystickState, error)
	Close()
}

// joystickSource polls a joystick every interval and turns what changed
// into events.
type joystickSource struct {
	dev     joystickReader
	diff    *gamepadDiffer
	tick    *time.Ticker
	pending []InputEvent

	closing chan struct{}
	once    sync.Once
}

// newJoystickSource polls dev, naming its axes and buttons with the evdev
// codes axes and buttons (index i: axis or button i).
func newJoystickSource(dev joystickReader, axes, buttons []string, interval time.Duration) *joystickSource {
	if interval <= 0 {
		interval = DefaultGamepadPollInterval
	}
	return &joystickSource{
		dev:     dev,
		diff:    &gamepadDiffer{axes: axes, buttons: buttons},
		tick:    time.NewTicker(interval),
		closing: make(chan struct{}),
	}
}

func (s *joystickSource) next() (InputEvent, error) {
	for len(s.pending) == 0 {
		// The first read waits one interval too, which gives the joystick
		// package time to take in the device's initial state.
		select {
		case <-s.closing:
			return InputEvent{}, os.ErrClosed
		case <-s.tick.C:
		}
		state, err := s.dev.Read()
		if err != nil {
			return InputEvent{}, err
		}
		s.pending = s.diff.next(state, inputTimestamp(time.Now()))
	}
	e := s.pending[0]
	s.pending = s.pending[1:]
	return e, nil
}

func (s *joystickSource) close() {
	s.once.Do(func() {
		close(s.closing)
		s.tick.Stop()
		s.dev.Close()
	})
}

// gamepadDiffer turns successive joystick states into events, one per
// change: buttons that changed ("Key", 1 or 0), then axes that changed
// ("Absolute", the value), each in index order. The first state is the
// starting point and yields no events.
type gamepadDiffer struct {
	// axes[i] and buttons[i] are the evdev codes of axis and button i;
	// only the buttons named (at most 32) are compared.
	axes, buttons []string

	prev    joystickState
	started bool
}

// axisCode returns the code of axis i, or ABS_UNKNOWN_i for one the map
// does not name.
func (d *gamepadDiffer) axisCode(i int) string {
	if i < len(d.axes) && d.axes[i] != "" {
		return d.axes[i]
	}
	return fmt.Sprintf("ABS_UNKNOWN_AXIS_%d", i)
}

// next returns the events from the previous state to s, stamped ts.
func (d *gamepadDiffer) next(s joystickState, ts float64) []InputEvent {
	if !d.started {
		d.started = true
		d.prev = joystickState{Axes: append([]int(nil), s.Axes...), Buttons: s.Buttons}
		return nil
	}
	var events []InputEvent
	if changed := s.Buttons ^ d.prev.Buttons; changed != 0 {
		for i := range min(len(d.buttons), 32) {
			if changed&(1<<i) == 0 {
				continue
			}
			state := 0
			if s.Buttons&(1<<i) != 0 {
				state = 1
			}
			events = append(events, InputEvent{Timestamp: ts, Code: d.buttons[i], State: state, Event: InputKey})
		}
	}
	for i := range max(len(s.Axes), len(d.prev.Axes)) {
		var was, now int
		if i < len(d.prev.Axes) {
			was = d.prev.Axes[i]
		}
		if i < len(s.Axes) {
			now = s.Axes[i]
		}
		if now != was {
			events = append(events, InputEvent{Timestamp: ts, Code: d.axisCode(i), State: now, Event: InputAbsolute})
		}
	}
	d.prev.Buttons = s.Buttons
	d.prev.Axes = append(d.prev.Axes[:0], s.Axes...)
	return events
}
