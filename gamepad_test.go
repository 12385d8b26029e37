package rtcbot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The xpad360 trace in testdata/gamepad is synthesized, not recorded: there
// is no gamepad on the machines these tests were written on. gen_xpad360.py
// builds it from the event stream the kernel's xpad driver produces for a
// wired Xbox 360 pad (sticks -32768..32767, triggers 0..255, hat -1..1, the
// driver's report order, a SYN_REPORT after each report), as raw 24-byte
// struct input_event records of a 64-bit little-endian Linux, and computes
// the expected events independently of this package, the way Python's
// inputs package and RTCBot's Gamepad do: xpad360.jsonl holds them as JSON,
// xpad360.txt as Python prints them.

// traceRecord is one record of a trace file.
type traceRecord struct {
	sec, usec int64
	typ, code uint16
	value     int32
}

// readTrace reads a trace file: 24-byte struct input_event records of a
// 64-bit little-endian Linux.
func readTrace(t *testing.T, name string) []traceRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gamepad", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%24 != 0 {
		t.Fatalf("%s: %d bytes, not a whole number of 24-byte records", name, len(b))
	}
	var recs []traceRecord
	for ; len(b) > 0; b = b[24:] {
		recs = append(recs, traceRecord{
			sec:   int64(binary.LittleEndian.Uint64(b[0:])),
			usec:  int64(binary.LittleEndian.Uint64(b[8:])),
			typ:   binary.LittleEndian.Uint16(b[16:]),
			code:  binary.LittleEndian.Uint16(b[18:]),
			value: int32(binary.LittleEndian.Uint32(b[20:])),
		})
	}
	return recs
}

// nativeRecords lays records out as this platform's kernel does (on 64-bit
// little-endian platforms, the trace's own bytes).
func nativeRecords(recs []traceRecord) []byte {
	var b []byte
	for _, r := range recs {
		b = append(b, inputRecord(inputWord, r.sec, r.usec, r.typ, r.code, r.value)...)
	}
	return b
}

// pipeGamepad starts a Gamepad reading the read end of a pipe, standing in
// for an evdev node, and returns it with the write end.
func pipeGamepad(t *testing.T, filter func(InputEvent) bool) (*Gamepad, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	g := newGamepad(newEvdevSource(r), "Microsoft X-Box 360 pad", "pipe", filter)
	t.Cleanup(func() {
		w.Close()
		g.Close()
	})
	return g, w
}

// readUntilClosed reads events from g until it is closed.
func readUntilClosed(t *testing.T, g Getter[InputEvent]) []InputEvent {
	t.Helper()
	var got []InputEvent
	for {
		e, err := g.Get(testCtx(t))
		if errors.Is(err, ErrClosed) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
}

// playTrace feeds the named trace through a pipe Gamepad and returns what
// it delivered.
func playTrace(t *testing.T, name string, filter func(InputEvent) bool) []InputEvent {
	t.Helper()
	g, w := pipeGamepad(t, filter)
	sub := g.Subscribe()
	if _, err := w.Write(nativeRecords(readTrace(t, name))); err != nil {
		t.Fatal(err)
	}
	w.Close() // the trace ends: the gamepad reports the end and closes
	got := readUntilClosed(t, sub)
	closedWithin(t, g.Done(), "gamepad")
	if err := g.Err(); err == nil || !errors.Is(err, io.EOF) {
		t.Errorf("Err() = %v, want the end of the device (io.EOF)", err)
	}
	return got
}

func TestGamepadXpadTraceGivesRTCBotsEvents(t *testing.T) {
	got := playTrace(t, "xpad360.evdev", nil)
	var gotJSON, gotText bytes.Buffer
	for _, e := range got {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		gotJSON.Write(b)
		gotJSON.WriteByte('\n')
		gotText.WriteString(e.String() + "\n")
	}
	for _, c := range []struct {
		file string
		got  []byte
	}{{"xpad360.jsonl", gotJSON.Bytes()}, {"xpad360.txt", gotText.Bytes()}} {
		want, err := os.ReadFile(filepath.Join("testdata", "gamepad", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.got, want) {
			gl, wl := strings.Split(string(c.got), "\n"), strings.Split(string(want), "\n")
			for i := range max(len(gl), len(wl)) {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("%s line %d:\n got %s\nwant %s", c.file, i+1, g, w)
					break
				}
			}
			t.Errorf("%s: %d bytes out, want %d byte for byte", c.file, len(c.got), len(want))
		}
	}
	// The values RTCBot's robots expect of an Xbox pad, in the device's
	// ranges, not the joystick interface's -32767..32767.
	ranges := map[string][2]int{
		"ABS_X": {-32768, 32767}, "ABS_Y": {-32768, 32767}, "ABS_RX": {-32768, 32767}, "ABS_RY": {-32768, 32767},
		"ABS_Z": {0, 255}, "ABS_RZ": {0, 255}, "ABS_HAT0X": {-1, 1}, "ABS_HAT0Y": {-1, 1},
	}
	seen := map[string]map[int]bool{}
	for _, e := range got {
		if seen[e.Code] == nil {
			seen[e.Code] = map[int]bool{}
		}
		seen[e.Code][e.State] = true
		if r, ok := ranges[e.Code]; ok && (e.State < r[0] || e.State > r[1]) {
			t.Errorf("%v: state outside the device's range %v", e, r)
		}
	}
	for code, want := range map[string][]int{
		"ABS_Z": {255}, "ABS_RZ": {255}, "ABS_HAT0X": {-1}, "ABS_HAT0Y": {1}, "ABS_X": {-32768}, "ABS_RX": {32767},
	} {
		for _, v := range want {
			if !seen[code][v] {
				t.Errorf("no %s event with state %d", code, v)
			}
		}
	}
}

func TestGamepadTraceWithAFilterKeepingSync(t *testing.T) {
	all := playTrace(t, "xpad360.evdev", func(InputEvent) bool { return true })
	recs := readTrace(t, "xpad360.evdev")
	if len(all) != len(recs) {
		t.Fatalf("%d events, want one per record (%d)", len(all), len(recs))
	}
	for i, e := range all {
		r := recs[i]
		if want := float64(r.sec) + float64(r.usec)/1e6; e.Timestamp != want || e.State != int(r.value) {
			t.Errorf("event %d = %v, want the record's time %v and value %d", i, e, want, r.value)
		}
		if isSync := r.typ == evSyn; isSync != (e.Code == "SYN_REPORT" && e.Event == InputSync) {
			t.Errorf("event %d = %v for a record of type %d", i, e, r.typ)
		}
	}
}

func TestGamepadDeliversEventsUnder1msApart(t *testing.T) {
	// A polled gamepad loses a press and release that fall within one poll;
	// one reading evdev delivers both, with the kernel's timestamps.
	g, w := pipeGamepad(t, nil)
	sub := g.Subscribe()
	writeRecords(t, w,
		inputRecord(inputWord, 1553379212, 684861, evKey, codeBtnSouth, 1), inputRecord(inputWord, 1553379212, 684861, evSyn, 0, 0),
		inputRecord(inputWord, 1553379212, 685361, evKey, codeBtnSouth, 0), inputRecord(inputWord, 1553379212, 685361, evSyn, 0, 0))
	got := readEvents(t, sub, 2)
	if want := "Key:BTN_SOUTH=1 Key:BTN_SOUTH=0"; codes(got) != want {
		t.Errorf("events %s, want %s", codes(got), want)
	}
	if got[0].Timestamp != 1553379212.684861 || got[1].Timestamp != 1553379212.685361 {
		t.Errorf("timestamps %v, %v; want the records' 1553379212.684861 and 1553379212.685361", got[0].Timestamp, got[1].Timestamp)
	}
	// Each event is delivered as soon as the device has it, not at a poll
	// or when the next one comes.
	writeRecords(t, w, inputRecord(inputWord, 1553379213, 0, evAbs, codeAbsHat0X, -1))
	if e := mustGet(t, sub); e.Code != "ABS_HAT0X" || e.State != -1 {
		t.Errorf("event %v, want ABS_HAT0X -1", e)
	}
	wantEmpty(t, sub)
}

func TestGamepadTruncatedRecordIsAnError(t *testing.T) {
	g, w := pipeGamepad(t, nil)
	sub := g.Subscribe()
	var reported error
	gotErr := make(chan struct{})
	g.OnError(func(err error) { reported = err; close(gotErr) })
	full := rec(evKey, codeBtnSouth, 1)
	writeRecords(t, w, full, full[:10])
	w.Close()
	if e := mustGet(t, sub); e.Code != "BTN_SOUTH" || e.State != 1 {
		t.Errorf("first event = %v, want BTN_SOUTH pressed", e)
	}
	wantClosed(t, sub)
	recv(t, gotErr)
	if !errors.Is(reported, io.ErrUnexpectedEOF) || g.Err() != reported || !strings.Contains(reported.Error(), "gamepad pipe") {
		t.Errorf("reported %v, Err() %v; want an error naming the gamepad and wrapping io.ErrUnexpectedEOF", reported, g.Err())
	}
}

func TestGamepadCloseUnblocksTheRead(t *testing.T) {
	g, w := pipeGamepad(t, nil)
	sub := g.Subscribe()
	writeRecords(t, w, rec(evKey, codeBtnSouth, 1))
	mustGet(t, sub) // the gamepad is reading, and now waits on an empty pipe
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closedWithin(t, g.Done(), "gamepad")
	wantClosed(t, sub)
	if err := g.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil: closing is not a failure", err)
	}
	// The read end is closed: writing to the pipe fails.
	if _, err := w.Write(rec(evKey, codeBtnSouth, 0)); err == nil {
		t.Error("the device is still open after Close: a write to its pipe succeeded")
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if g.Name() != "Microsoft X-Box 360 pad" || g.Path() != "pipe" {
		t.Errorf("Name() = %q, Path() = %q", g.Name(), g.Path())
	}
}

// js builds a joystick state from axis values and pressed button indices.
func js(axes []int, pressed ...int) joystickState {
	var b uint32
	for _, i := range pressed {
		b |= 1 << i
	}
	return joystickState{Axes: axes, Buttons: b}
}

// The xpad driver's axes and buttons as the kernel's joystick map presents
// them (joydev numbers axes and buttons in increasing code order).
var (
	xpadAxes    = []string{"ABS_X", "ABS_Y", "ABS_Z", "ABS_RX", "ABS_RY", "ABS_RZ", "ABS_HAT0X", "ABS_HAT0Y"}
	xpadButtons = []string{"BTN_SOUTH", "BTN_EAST", "BTN_NORTH", "BTN_WEST", "BTN_TL", "BTN_TR",
		"BTN_SELECT", "BTN_START", "BTN_MODE", "BTN_THUMBL", "BTN_THUMBR"}
)

// restX returns an xpad's axes at rest in joystick mode (triggers at
// -32767) but for ABS_X.
func restX(x int) []int { return []int{x, 0, -32767, 0, 0, -32767, 0, 0} }

func TestGamepadDiff(t *testing.T) {
	rest := restX(0)
	tests := []struct {
		name          string
		axes, buttons []string
		states        []joystickState
		want          string
	}{
		{"first state is the baseline", xpadAxes, xpadButtons,
			[]joystickState{js([]int{100, -200, 5}, 0, 3)}, ""},
		{"unchanged states give nothing", xpadAxes, xpadButtons,
			[]joystickState{js(rest, 1), js(rest, 1), js(rest, 1)}, ""},
		{"press and release", xpadAxes, xpadButtons,
			[]joystickState{js(rest), js(rest, 0), js(rest)},
			"Key:BTN_SOUTH=1 Key:BTN_SOUTH=0"},
		{"every button", xpadAxes, xpadButtons,
			[]joystickState{js(rest), js(rest, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
			"Key:BTN_SOUTH=1 Key:BTN_EAST=1 Key:BTN_NORTH=1 Key:BTN_WEST=1 Key:BTN_TL=1 Key:BTN_TR=1 " +
				"Key:BTN_SELECT=1 Key:BTN_START=1 Key:BTN_MODE=1 Key:BTN_THUMBL=1 Key:BTN_THUMBR=1"},
		{"every axis", xpadAxes, xpadButtons,
			[]joystickState{js(rest), js([]int{1, 2, 3, 4, 5, 6, 7, 8})},
			"Absolute:ABS_X=1 Absolute:ABS_Y=2 Absolute:ABS_Z=3 Absolute:ABS_RX=4 Absolute:ABS_RY=5 " +
				"Absolute:ABS_RZ=6 Absolute:ABS_HAT0X=7 Absolute:ABS_HAT0Y=8"},
		{"buttons before axes, each in index order", xpadAxes, xpadButtons,
			[]joystickState{js(rest), js([]int{0, -1, -32767, 0, 0, -32767, 0, 32767}, 7, 0)},
			"Key:BTN_SOUTH=1 Key:BTN_START=1 Absolute:ABS_Y=-1 Absolute:ABS_HAT0Y=32767"},
		{"only what changed", xpadAxes, xpadButtons,
			[]joystickState{js(rest, 0, 1), js([]int{-11, 0, -32767, 0, 0, -32767, 0, 0}, 1, 2)},
			"Key:BTN_SOUTH=0 Key:BTN_NORTH=1 Absolute:ABS_X=-11"},
		{"a sweep gives one event per reading", xpadAxes, xpadButtons,
			[]joystickState{js(rest), js(restX(-64)), js(restX(-95)), js(restX(-95)), js(restX(-158))},
			"Absolute:ABS_X=-64 Absolute:ABS_X=-95 Absolute:ABS_X=-158"},
		{"axes the state no longer has read as 0", xpadAxes, xpadButtons,
			[]joystickState{js([]int{4, 5, 6}), js([]int{4})},
			"Absolute:ABS_Y=0 Absolute:ABS_Z=0"},
		{"a button held at start is released", xpadAxes, xpadButtons,
			[]joystickState{js(rest, 4), js(rest, 4), js(rest)}, "Key:BTN_TL=0"},
		{"axes beyond the map", []string{"ABS_X"}, xpadButtons,
			[]joystickState{js([]int{0, 0}), js([]int{1, 300})},
			"Absolute:ABS_X=1 Absolute:ABS_UNKNOWN_AXIS_1=300"},
		{"buttons beyond the map are ignored", xpadAxes, xpadButtons[:2],
			[]joystickState{js(nil), js(nil, 1, 5)}, "Key:BTN_EAST=1"},
		{"a joystick's map", []string{"ABS_THROTTLE"}, []string{"BTN_TRIGGER", "BTN_THUMB"},
			[]joystickState{js([]int{0}), js([]int{9}, 0, 1)},
			"Key:BTN_TRIGGER=1 Key:BTN_THUMB=1 Absolute:ABS_THROTTLE=9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &gamepadDiffer{axes: tc.axes, buttons: tc.buttons}
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
	d := &gamepadDiffer{axes: xpadAxes, buttons: xpadButtons}
	axes := []int{0, 0}
	d.next(joystickState{Axes: axes}, 0)
	axes[0] = 500 // the caller reuses its slice
	if got := codes(d.next(joystickState{Axes: axes}, 1)); got != "Absolute:ABS_X=500" {
		t.Errorf("events = %s, want ABS_X=500", got)
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

// fakeJoystickGamepad starts a joystick-mode Gamepad on a fake xpad,
// polling every millisecond.
func fakeJoystickGamepad(t *testing.T, filter func(InputEvent) bool) (*Gamepad, *fakeJoystick) {
	t.Helper()
	dev := newFakeJoystick(errors.New("fake joystick unplugged"))
	g := newGamepad(newJoystickSource(dev, xpadAxes, xpadButtons, time.Millisecond), "Fake Pad", "/dev/input/js7", filter)
	t.Cleanup(func() { g.Close() })
	return g, dev
}

func TestJoystickModePublishesChanges(t *testing.T) {
	before := inputTimestamp(time.Now())
	g, dev := fakeJoystickGamepad(t, nil)
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
	if g.Name() != "Fake Pad" || g.Path() != "/dev/input/js7" || !g.IsReady() {
		t.Errorf("Name() = %q, Path() = %q, IsReady() = %v", g.Name(), g.Path(), g.IsReady())
	}
}

func TestJoystickModeFilter(t *testing.T) {
	keysOnly := func(e InputEvent) bool { return e.Event == InputKey }
	for _, tc := range []struct {
		name   string
		filter func(InputEvent) bool
		want   string
	}{
		{"default", nil, "Key:BTN_SOUTH=1 Absolute:ABS_X=5 Absolute:ABS_Y=7"},
		{"keys only", keysOnly, "Key:BTN_SOUTH=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, dev := fakeJoystickGamepad(t, tc.filter)
			sub := g.Subscribe()
			dev.send(t, js([]int{0, 0}), js([]int{5, 7}, 0))
			close(dev.states) // then the device fails: the gamepad closes
			if got := readUntilClosed(t, sub); codes(got) != tc.want {
				t.Errorf("events:\n got %s\nwant %s", codes(got), tc.want)
			}
		})
	}
}

func TestJoystickModeReadFailureClosesWithError(t *testing.T) {
	g, dev := fakeJoystickGamepad(t, nil)
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
}

func TestJoystickModeClose(t *testing.T) {
	g, dev := fakeJoystickGamepad(t, nil)
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
