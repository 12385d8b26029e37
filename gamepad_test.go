package rtcbot

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// js builds a joystick state from axis values and pressed button indices.
func js(axes []int, pressed ...int) joystickState {
	var b uint32
	for _, i := range pressed {
		b |= 1 << i
	}
	return joystickState{Axes: axes, Buttons: b}
}

// restX returns an xpad's axes at rest (triggers at -32767) but for ABS_X.
func restX(x int) []int { return []int{x, 0, -32767, 0, 0, -32767, 0, 0} }

func TestGamepadDiff(t *testing.T) {
	rest := restX(0)
	tests := []struct {
		name    string
		mapping *GamepadMapping
		buttons int
		states  []joystickState
		want    string
	}{
		{"first state is the baseline", nil, 11,
			[]joystickState{js([]int{100, -200, 5}, 0, 3)}, ""},
		{"unchanged states give nothing", nil, 11,
			[]joystickState{js(rest, 1), js(rest, 1), js(rest, 1)}, ""},
		{"press and release", nil, 11,
			[]joystickState{js(rest), js(rest, 0), js(rest)},
			"Key:BTN_SOUTH=1 Key:BTN_SOUTH=0"},
		{"every default button", nil, 11,
			[]joystickState{js(rest), js(rest, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
			"Key:BTN_SOUTH=1 Key:BTN_EAST=1 Key:BTN_NORTH=1 Key:BTN_WEST=1 Key:BTN_TL=1 Key:BTN_TR=1 " +
				"Key:BTN_SELECT=1 Key:BTN_START=1 Key:BTN_MODE=1 Key:BTN_THUMBL=1 Key:BTN_THUMBR=1"},
		{"every default axis", nil, 11,
			[]joystickState{js(rest), js([]int{1, 2, 3, 4, 5, 6, 7, 8})},
			"Absolute:ABS_X=1 Absolute:ABS_Y=2 Absolute:ABS_Z=3 Absolute:ABS_RX=4 Absolute:ABS_RY=5 " +
				"Absolute:ABS_RZ=6 Absolute:ABS_HAT0X=7 Absolute:ABS_HAT0Y=8"},
		{"buttons before axes, each in index order", nil, 11,
			[]joystickState{js(rest), js([]int{0, -1, -32767, 0, 0, -32767, 0, 32767}, 7, 0)},
			"Key:BTN_SOUTH=1 Key:BTN_START=1 Absolute:ABS_Y=-1 Absolute:ABS_HAT0Y=32767"},
		{"only what changed", nil, 11,
			[]joystickState{js(rest, 0, 1), js([]int{-11, 0, -32767, 0, 0, -32767, 0, 0}, 1, 2)},
			"Key:BTN_SOUTH=0 Key:BTN_NORTH=1 Absolute:ABS_X=-11"},
		{"a sweep gives one event per reading", nil, 11,
			[]joystickState{js(rest), js(restX(-64)), js(restX(-95)), js(restX(-95)), js(restX(-158))},
			"Absolute:ABS_X=-64 Absolute:ABS_X=-95 Absolute:ABS_X=-158"},
		{"axes the state no longer has read as 0", nil, 11,
			[]joystickState{js([]int{4, 5, 6}), js([]int{4})},
			"Absolute:ABS_Y=0 Absolute:ABS_Z=0"},
		{"a button held at start is released", nil, 11,
			[]joystickState{js(rest, 4), js(rest, 4), js(rest)}, "Key:BTN_TL=0"},
		{"unmapped indices", nil, 16,
			[]joystickState{js(make([]int, 10)), js([]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 300}, 12)},
			"Key:BTN_UNMAPPED_12=1 Absolute:ABS_UNMAPPED_9=300"},
		{"buttons beyond the device's count are ignored", nil, 2,
			[]joystickState{js(nil), js(nil, 1, 5)}, "Key:BTN_EAST=1"},
		{"button 31", nil, 32,
			[]joystickState{js(nil), js(nil, 31)}, "Key:BTN_UNMAPPED_31=1"},
		{"custom mapping", &GamepadMapping{Axes: []string{"ABS_RX", ""}, Buttons: []string{"BTN_TRIGGER", "BTN_THUMB"}}, 3,
			[]joystickState{js([]int{0, 0}), js([]int{9, 8}, 0, 1, 2)},
			"Key:BTN_TRIGGER=1 Key:BTN_THUMB=1 Key:BTN_UNMAPPED_2=1 Absolute:ABS_RX=9 Absolute:ABS_UNMAPPED_1=8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &gamepadDiffer{mapping: tc.mapping, buttons: tc.buttons}
			var got []InputEvent
			for i, s := range tc.states {
				events := d.next(s, float64(i))
				for _, e := range events {
					if e.Timestamp != float64(i) {
						t.Errorf("event %v stamped %v, want the reading's %d", e, e.Timestamp, i)
					}
				}
				got = append(got, events...)
			}
			if codes(got) != tc.want {
				t.Errorf("events:\n got %s\nwant %s", codes(got), tc.want)
			}
		})
	}
}

func TestGamepadDiffKeepsNoReferenceToTheState(t *testing.T) {
	d := &gamepadDiffer{buttons: 11}
	axes := []int{0, 0}
	d.next(joystickState{Axes: axes}, 0)
	axes[0] = 500 // the caller reuses its slice
	if got := codes(d.next(joystickState{Axes: axes}, 1)); got != "Absolute:ABS_X=500" {
		t.Errorf("events = %s, want ABS_X=500", got)
	}
}

func TestGamepadMappingCodes(t *testing.T) {
	var nilMapping *GamepadMapping
	custom := &GamepadMapping{Axes: []string{"ABS_WHEEL"}, Buttons: []string{"", "BTN_Z"}}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"default axis 0", DefaultGamepadMapping().AxisCode(0), "ABS_X"},
		{"default axis 7", DefaultGamepadMapping().AxisCode(7), "ABS_HAT0Y"},
		{"default axis 8", DefaultGamepadMapping().AxisCode(8), "ABS_UNMAPPED_8"},
		{"default button 2", DefaultGamepadMapping().ButtonCode(2), "BTN_NORTH"},
		{"default button 10", DefaultGamepadMapping().ButtonCode(10), "BTN_THUMBR"},
		{"default button 11", DefaultGamepadMapping().ButtonCode(11), "BTN_UNMAPPED_11"},
		{"nil mapping is the default", nilMapping.ButtonCode(0), "BTN_SOUTH"},
		{"nil mapping axis", nilMapping.AxisCode(5), "ABS_RZ"},
		{"negative index", custom.AxisCode(-1), "ABS_UNMAPPED_-1"},
		{"custom axis", custom.AxisCode(0), "ABS_WHEEL"},
		{"empty name falls back", custom.ButtonCode(0), "BTN_UNMAPPED_0"},
		{"custom button", custom.ButtonCode(1), "BTN_Z"},
		{"custom mapping has no defaults", custom.AxisCode(1), "ABS_UNMAPPED_1"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	m := DefaultGamepadMapping()
	m.Buttons[0] = "BTN_CHANGED"
	if got := DefaultGamepadMapping().ButtonCode(0); got != "BTN_SOUTH" {
		t.Errorf("changing one default mapping changed the next: %s", got)
	}
}

// fakeJoystick is a joystick whose readings a test hands over one by one:
// Read waits for the next state. Closing states makes Read fail with err.
type fakeJoystick struct {
	states    chan joystickState
	err       error
	closed    chan struct{}
	closeOnce sync.Once
}

func newFakeJoystick(err error) *fakeJoystick {
	return &fakeJoystick{states: make(chan joystickState), err: err, closed: make(chan struct{})}
}

func (f *fakeJoystick) Read() (joystickState, error) {
	select {
	case s, ok := <-f.states:
		if !ok {
			return joystickState{}, f.err
		}
		return s, nil
	case <-f.closed:
		return joystickState{}, os.ErrClosed
	}
}

func (f *fakeJoystick) Close() { f.closeOnce.Do(func() { close(f.closed) }) }

// send hands s to the gamepad's next read.
func (f *fakeJoystick) send(t *testing.T, states ...joystickState) {
	t.Helper()
	for _, s := range states {
		select {
		case f.states <- s:
		case <-time.After(waitTime):
			t.Fatalf("the gamepad did not read state %v", s)
		}
	}
}

// fakeGamepad starts a Gamepad on a fake joystick with 11 buttons, polling
// every millisecond.
func fakeGamepad(t *testing.T, s GamepadSettings) (*Gamepad, *fakeJoystick) {
	t.Helper()
	dev := newFakeJoystick(errors.New("fake joystick unplugged"))
	if s.PollInterval == 0 {
		s.PollInterval = time.Millisecond
	}
	g := newGamepad(dev, "Fake Pad", 11, s)
	t.Cleanup(func() { g.Close() })
	return g, dev
}

func TestGamepadPublishesChanges(t *testing.T) {
	before := inputTimestamp(time.Now())
	g, dev := fakeGamepad(t, GamepadSettings{})
	sub := g.Subscribe()
	dev.send(t,
		js([]int{0, 0}),                        // baseline
		js([]int{0, -1}, 0),                    // press A, nudge up
		js([]int{0, -1}),                       // release A
		js([]int{-11, -1}), js([]int{-64, -1}), // sweep left
	)
	got := readEvents(t, sub, 5)
	if want := "Key:BTN_SOUTH=1 Absolute:ABS_Y=-1 Key:BTN_SOUTH=0 Absolute:ABS_X=-11 Absolute:ABS_X=-64"; codes(got) != want {
		t.Errorf("events:\n got %s\nwant %s", codes(got), want)
	}
	after := inputTimestamp(time.Now())
	for i, e := range got {
		if e.Timestamp < before || e.Timestamp > after || (i > 0 && e.Timestamp < got[i-1].Timestamp) {
			t.Errorf("event %d stamped %v, want non-decreasing within [%v, %v]", i, e.Timestamp, before, after)
		}
	}
	if g.Name() != "Fake Pad" || !g.IsReady() {
		t.Errorf("Name() = %q, IsReady() = %v", g.Name(), g.IsReady())
	}
}

func TestGamepadFilter(t *testing.T) {
	tests := []struct {
		name string
		s    GamepadSettings
		want string
	}{
		{"default filter drops SYN_REPORT", GamepadSettings{Mapping: &GamepadMapping{Axes: []string{"SYN_REPORT", "ABS_Y"}}},
			"Key:BTN_UNMAPPED_0=1 Absolute:ABS_Y=7"},
		{"keys only", GamepadSettings{Filter: func(e InputEvent) bool { return e.Event == InputKey }},
			"Key:BTN_SOUTH=1"},
		{"everything", GamepadSettings{Mapping: &GamepadMapping{Axes: []string{"SYN_REPORT"}}, Filter: func(InputEvent) bool { return true }},
			"Key:BTN_UNMAPPED_0=1 Absolute:SYN_REPORT=5 Absolute:ABS_UNMAPPED_1=7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, dev := fakeGamepad(t, tc.s)
			sub := g.Subscribe()
			dev.send(t, js([]int{0, 0}), js([]int{5, 7}, 0))
			close(dev.states) // then the device fails: the gamepad closes
			var got []InputEvent
			for {
				e, err := sub.Get(testCtx(t))
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Fatal(err)
					}
					break
				}
				got = append(got, e)
			}
			if codes(got) != tc.want {
				t.Errorf("events:\n got %s\nwant %s", codes(got), tc.want)
			}
		})
	}
}

func TestGamepadCopiesItsMapping(t *testing.T) {
	m := &GamepadMapping{Buttons: []string{"BTN_A_NAME"}}
	g, dev := fakeGamepad(t, GamepadSettings{Mapping: m})
	m.Buttons[0] = "BTN_CHANGED_LATER"
	sub := g.Subscribe()
	dev.send(t, js(nil), js(nil, 0))
	if e := mustGet(t, sub); e.Code != "BTN_A_NAME" {
		t.Errorf("code = %s, want the mapping as it was at NewGamepad", e.Code)
	}
}

func TestGamepadReadFailureClosesWithError(t *testing.T) {
	g, dev := fakeGamepad(t, GamepadSettings{})
	sub := g.Subscribe()
	var reported error
	gotErr := make(chan struct{})
	g.OnError(func(err error) { reported = err; close(gotErr) })
	dev.send(t, js(nil), js(nil, 1))
	close(dev.states) // unplugged
	if e := mustGet(t, sub); e.Code != "BTN_EAST" {
		t.Errorf("event = %v, want BTN_EAST", e)
	}
	wantClosed(t, sub)
	recv(t, gotErr)
	if reported == nil || !strings.Contains(reported.Error(), "fake joystick unplugged") || g.Err() != reported {
		t.Errorf("reported %v, Err() %v; want the device's error", reported, g.Err())
	}
	closedWithin(t, dev.closed, "joystick")
	if _, err := g.Get(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after failure = %v, want ErrClosed", err)
	}
}

func TestGamepadClose(t *testing.T) {
	g, dev := fakeGamepad(t, GamepadSettings{})
	sub := g.Subscribe()
	dev.send(t, js(nil)) // the gamepad is now polling
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closedWithin(t, dev.closed, "joystick")
	wantClosed(t, sub)
	if err := g.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil: closing is not a failure", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
