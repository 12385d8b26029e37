package rtcbot

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultGamepadPollInterval is how often a Gamepad reads its joystick's
// state unless told otherwise.
const DefaultGamepadPollInterval = 10 * time.Millisecond

// GamepadSettings configures NewGamepad.
type GamepadSettings struct {
	// Device is the joystick number: /dev/input/js<Device>. The default, 0,
	// is the first joystick.
	Device int
	// Mapping names the joystick's axes and buttons; nil means
	// DefaultGamepadMapping, the kernel's standard gamepad layout.
	Mapping *GamepadMapping
	// Filter keeps the events it returns true for; nil means
	// DefaultInputFilter.
	Filter func(InputEvent) bool
	// PollInterval is how often the joystick's state is read (default
	// DefaultGamepadPollInterval). A button pressed and released within one
	// interval is missed.
	PollInterval time.Duration
}

// GamepadMapping names a joystick's axes and buttons, which the Linux
// joystick interface (/dev/input/jsN) reports by index, with the evdev codes
// RTCBot's events carry.
type GamepadMapping struct {
	// Axes[i] is the code of axis i, such as "ABS_X".
	Axes []string
	// Buttons[i] is the code of button i, such as "BTN_SOUTH".
	Buttons []string
}

// DefaultGamepadMapping returns the kernel's standard gamepad layout as the
// joystick interface presents it for an Xbox-style pad (the xpad driver,
// and most pads that follow the kernel's gamepad conventions): joydev
// numbers a device's axes in increasing evdev code order, and its buttons in
// increasing code order from BTN_MISC, so an xpad's ABS_X, ABS_Y, ABS_Z
// (left trigger), ABS_RX, ABS_RY, ABS_RZ (right trigger), ABS_HAT0X,
// ABS_HAT0Y become axes 0 to 7, and its BTN_SOUTH (A), BTN_EAST (B),
// BTN_NORTH (X), BTN_WEST (Y), BTN_TL, BTN_TR, BTN_SELECT (back), BTN_START,
// BTN_MODE (guide), BTN_THUMBL, BTN_THUMBR become buttons 0 to 10. Pads with
// other buttons (a BTN_C or BTN_Z, trigger buttons BTN_TL2/BTN_TR2) are
// numbered differently: pass a mapping for them. Each call returns a new
// mapping, which the caller may change.
func DefaultGamepadMapping() *GamepadMapping {
	return &GamepadMapping{
		Axes: []string{"ABS_X", "ABS_Y", "ABS_Z", "ABS_RX", "ABS_RY", "ABS_RZ", "ABS_HAT0X", "ABS_HAT0Y"},
		Buttons: []string{"BTN_SOUTH", "BTN_EAST", "BTN_NORTH", "BTN_WEST", "BTN_TL", "BTN_TR",
			"BTN_SELECT", "BTN_START", "BTN_MODE", "BTN_THUMBL", "BTN_THUMBR"},
	}
}

// AxisCode returns the code of axis i: its name in the mapping, or
// "ABS_UNMAPPED_<i>" when the mapping has none. A nil mapping is the default
// one.
func (m *GamepadMapping) AxisCode(i int) string {
	if m == nil {
		m = defaultGamepadMapping
	}
	if i >= 0 && i < len(m.Axes) && m.Axes[i] != "" {
		return m.Axes[i]
	}
	return "ABS_UNMAPPED_" + strconv.Itoa(i)
}

// ButtonCode returns the code of button i: its name in the mapping, or
// "BTN_UNMAPPED_<i>" when the mapping has none. A nil mapping is the
// default one.
func (m *GamepadMapping) ButtonCode(i int) string {
	if m == nil {
		m = defaultGamepadMapping
	}
	if i >= 0 && i < len(m.Buttons) && m.Buttons[i] != "" {
		return m.Buttons[i]
	}
	return "BTN_UNMAPPED_" + strconv.Itoa(i)
}

var defaultGamepadMapping = DefaultGamepadMapping()

// Gamepad is a gamepad or joystick read through the Linux joystick interface
// (/dev/input/jsN), RTCBot's Gamepad: a producer of InputEvents, one per
// change, such as
//
//	{'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
//	{'timestamp': 1553379216.872889, 'code': 'ABS_X', 'state': -11, 'event': 'Absolute'}
//
// Its subscriptions are queues. Buttons report 1 and 0; axes report the
// joystick interface's values, -32767 to 32767 for every axis: the kernel
// scales each axis to that range, so where RTCBot (reading evdev) reports an
// Xbox pad's triggers as 0 to 255 and its hat as -1 to 1, a Gamepad reports
// -32767 to 32767 for both. Axes and buttons are named by the mapping (the
// standard gamepad layout unless told otherwise). The joystick is polled
// (GamepadSettings.PollInterval); within one poll buttons come before axes,
// each in index order, all with the poll's timestamp. The state when the
// gamepad opens is the starting point and produces no events.
//
// If reading fails (the gamepad was unplugged), the error is reported
// through Err and OnError and the gamepad closes, so readers get ErrClosed.
// Close releases the joystick and stops the polling goroutine.
type Gamepad struct {
	*Producer[InputEvent]
	name string

	dev       joystickReader
	closeDev  sync.Once
	closeOnce sync.Once
	closing   chan struct{}
	done      chan struct{}
}

// NewGamepad opens joystick s.Device (/dev/input/js0 by default) and starts
// polling it. A missing joystick is an error wrapping os.ErrNotExist; a
// device the joystick interface cannot query is an error too. The joystick
// interface is Linux's: elsewhere NewGamepad returns an error wrapping
// errors.ErrUnsupported.
func NewGamepad(s GamepadSettings) (*Gamepad, error) { return openGamepad(s) }

// newGamepad starts a Gamepad polling dev, which has the given number of
// buttons.
func newGamepad(dev joystickReader, name string, buttons int, s GamepadSettings) *Gamepad {
	filter := s.Filter
	if filter == nil {
		filter = DefaultInputFilter
	}
	interval := s.PollInterval
	if interval <= 0 {
		interval = DefaultGamepadPollInterval
	}
	g := &Gamepad{
		Producer: NewProducer[InputEvent](nil),
		name:     name,
		dev:      dev,
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	var mapping *GamepadMapping // a copy: the caller may change theirs
	if s.Mapping != nil {
		mapping = &GamepadMapping{Axes: slices.Clone(s.Mapping.Axes), Buttons: slices.Clone(s.Mapping.Buttons)}
	}
	diff := &gamepadDiffer{mapping: mapping, buttons: buttons}
	go g.run(diff, filter, interval)
	return g
}

func (g *Gamepad) run(diff *gamepadDiffer, filter func(InputEvent) bool, interval time.Duration) {
	defer close(g.done)
	defer g.Producer.Close()
	defer g.closeDevice()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	g.SetReady()
	for {
		// The first read waits one interval too, which gives the joystick
		// package time to take in the device's initial state.
		select {
		case <-g.closing:
			return
		case <-tick.C:
		}
		state, err := g.dev.Read()
		if err != nil {
			select {
			case <-g.closing:
			default:
				g.SetError(fmt.Errorf("rtcbot: gamepad %q: %w", g.name, err))
			}
			return
		}
		ts := inputTimestamp(time.Now())
		for _, e := range diff.next(state, ts) {
			if filter(e) {
				g.Publish(e)
			}
		}
	}
}

func (g *Gamepad) closeDevice() { g.closeDev.Do(g.dev.Close) }

// Name returns the joystick's name as the kernel reports it.
func (g *Gamepad) Name() string { return g.name }

// Close stops polling, releases the joystick and closes every subscription
// (readers get what is queued, then ErrClosed). It waits for the polling
// goroutine to end and is idempotent.
func (g *Gamepad) Close() error {
	g.closeOnce.Do(func() {
		close(g.closing)
		g.closeDevice()
	})
	<-g.done
	return nil
}

// joystickState is one reading of a joystick: each axis's value and a bit
// per button (bit i set: button i pressed).
type joystickState struct {
	Axes    []int
	Buttons uint32
}

// joystickReader is the joystick a Gamepad polls; tests provide fakes.
type joystickReader interface {
	Read() (joystickState, error)
	Close()
}

// gamepadDiffer turns successive joystick states into events, one per
// change: buttons that changed ("Key", 1 or 0), then axes that changed
// ("Absolute", the value), each in index order. The first state is the
// starting point and yields no events.
type gamepadDiffer struct {
	mapping *GamepadMapping
	// buttons is how many buttons the joystick has; only those bits are
	// compared (all 32 if 0 or more than 32).
	buttons int

	prev    joystickState
	started bool
}

// next returns the events from the previous state to s, stamped ts.
func (d *gamepadDiffer) next(s joystickState, ts float64) []InputEvent {
	if !d.started {
		d.started = true
		d.prev = joystickState{Axes: append([]int(nil), s.Axes...), Buttons: s.Buttons}
		return nil
	}
	var events []InputEvent
	nb := d.buttons
	if nb <= 0 || nb > 32 {
		nb = 32
	}
	if changed := s.Buttons ^ d.prev.Buttons; changed != 0 {
		for i := range nb {
			if changed&(1<<i) == 0 {
				continue
			}
			state := 0
			if s.Buttons&(1<<i) != 0 {
				state = 1
			}
			events = append(events, InputEvent{Timestamp: ts, Code: d.mapping.ButtonCode(i), State: state, Event: InputKey})
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
			events = append(events, InputEvent{Timestamp: ts, Code: d.mapping.AxisCode(i), State: now, Event: InputAbsolute})
		}
	}
	d.prev.Buttons = s.Buttons
	d.prev.Axes = append(d.prev.Axes[:0], s.Axes...)
	return events
}
