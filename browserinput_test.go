package rtcbot

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
	"time"
)

// browserTestNow is the time of conversion in the tests: a message without
// a timestamp is stamped browserTestStamp.
var browserTestNow = time.Unix(1764633600, 250000700)

const browserTestStamp = 1764633600.25

func browserTestClock() time.Time { return browserTestNow }

// browserInputCases are messages as a page sends them (JSON text) and the
// events they convert to; ok false means no event. They also seed
// FuzzBrowserInputEvent.
var browserInputCases = []struct {
	name string
	msg  string
	want InputEvent
	ok   bool
}{
	// Keyboard, as RTCBot's Keyboard sends it: no code, no timestamp.
	{"rtcbot keydown", `{"type": "keydown", "altKey": false, "shiftKey": false, "keyCode": 65, "key": "a"}`,
		InputEvent{browserTestStamp, "KEY_A", 1, "Key"}, true},
	{"rtcbot keyup", `{"type": "keyup", "altKey": false, "shiftKey": false, "keyCode": 65, "key": "a"}`,
		InputEvent{browserTestStamp, "KEY_A", 0, "Key"}, true},
	{"shifted letter", `{"type": "keydown", "altKey": false, "shiftKey": true, "keyCode": 65, "key": "A"}`,
		InputEvent{browserTestStamp, "KEY_A", 1, "Key"}, true},
	// Keyboard, as rtcbot.js sends it: with code and timestamp.
	{"code and timestamp", `{"type": "keydown", "altKey": false, "shiftKey": false, "keyCode": 65, "key": "a", "code": "KeyA", "timestamp": 1764633600.123}`,
		InputEvent{1764633600.123, "KEY_A", 1, "Key"}, true},
	{"repeat", `{"type": "keydown", "keyCode": 65, "key": "a", "code": "KeyA", "repeat": true}`,
		InputEvent{browserTestStamp, "KEY_A", 2, "Key"}, true},
	{"keyup repeat", `{"type": "keyup", "code": "KeyA", "repeat": true}`,
		InputEvent{browserTestStamp, "KEY_A", 0, "Key"}, true},
	{"code tells right shift", `{"type": "keydown", "keyCode": 16, "key": "Shift", "code": "ShiftRight"}`,
		InputEvent{browserTestStamp, "KEY_RIGHTSHIFT", 1, "Key"}, true},
	{"code over keyCode", `{"type": "keydown", "keyCode": 65, "key": "q", "code": "KeyQ"}`, // AZERTY
		InputEvent{browserTestStamp, "KEY_Q", 1, "Key"}, true},
	{"unknown code, keyCode", `{"type": "keydown", "keyCode": 38, "key": "ArrowUp", "code": "Unidentified"}`,
		InputEvent{browserTestStamp, "KEY_UP", 1, "Key"}, true},
	{"unknown code and keyCode, key", `{"type": "keydown", "keyCode": 193, "key": "/", "code": "IntlRo"}`,
		InputEvent{browserTestStamp, "KEY_SLASH", 1, "Key"}, true},
	{"empty code", `{"type": "keyup", "keyCode": 32, "key": " ", "code": ""}`,
		InputEvent{browserTestStamp, "KEY_SPACE", 0, "Key"}, true},
	{"no key", `{"type": "keydown", "altKey": false, "shiftKey": false}`, InputEvent{}, false},
	{"IME key", `{"type": "keydown", "keyCode": 229, "key": "Process"}`, InputEvent{}, false},
	{"non-US character", `{"type": "keydown", "keyCode": 0, "key": "é"}`, InputEvent{}, false},
	{"keyCode a string", `{"type": "keydown", "keyCode": "65"}`, InputEvent{}, false},
	{"keyCode a fraction", `{"type": "keydown", "keyCode": 65.5}`, InputEvent{}, false},
	{"keyCode huge", `{"type": "keydown", "keyCode": 1e300}`, InputEvent{}, false},
	{"keyCode negative", `{"type": "keydown", "keyCode": -65}`, InputEvent{}, false},
	{"keyCode NaN", `{"type": "keydown", "keyCode": NaN}`, InputEvent{}, false},
	{"code a number", `{"type": "keydown", "code": 65}`, InputEvent{}, false},
	{"keypress", `{"type": "keypress", "keyCode": 65, "key": "a", "code": "KeyA"}`, InputEvent{}, false},

	// Gamepad buttons, as RTCBot's Gamepad sends them: true or false.
	{"A pressed", `{"type": "btn0", "value": true}`, InputEvent{browserTestStamp, "BTN_SOUTH", 1, "Key"}, true},
	{"A released", `{"type": "btn0", "value": false}`, InputEvent{browserTestStamp, "BTN_SOUTH", 0, "Key"}, true},
	{"X", `{"type": "btn2", "value": true}`, InputEvent{browserTestStamp, "BTN_NORTH", 1, "Key"}, true},
	{"Y", `{"type": "btn3", "value": true}`, InputEvent{browserTestStamp, "BTN_WEST", 1, "Key"}, true},
	{"LT pressed", `{"type": "btn6", "value": true}`, InputEvent{browserTestStamp, "ABS_Z", 255, "Absolute"}, true},
	{"LT released", `{"type": "btn6", "value": false}`, InputEvent{browserTestStamp, "ABS_Z", 0, "Absolute"}, true},
	{"d-pad up", `{"type": "btn12", "value": true}`, InputEvent{browserTestStamp, "ABS_HAT0Y", -1, "Absolute"}, true},
	{"d-pad up released", `{"type": "btn12", "value": false}`, InputEvent{browserTestStamp, "ABS_HAT0Y", 0, "Absolute"}, true},
	{"d-pad right", `{"type": "btn15", "value": true}`, InputEvent{browserTestStamp, "ABS_HAT0X", 1, "Absolute"}, true},
	{"guide", `{"type": "btn16", "value": true}`, InputEvent{browserTestStamp, "BTN_MODE", 1, "Key"}, true},
	{"first extra", `{"type": "btn17", "value": true}`, InputEvent{browserTestStamp, "BTN_TRIGGER_HAPPY1", 1, "Key"}, true},
	{"last extra", `{"type": "btn56", "value": false}`, InputEvent{browserTestStamp, "BTN_TRIGGER_HAPPY40", 0, "Key"}, true},
	// Gamepad buttons with a number, GamepadButton.value.
	{"button at 0.7", `{"type": "btn1", "value": 0.7}`, InputEvent{browserTestStamp, "BTN_EAST", 1, "Key"}, true},
	{"button at 0.5", `{"type": "btn1", "value": 0.5}`, InputEvent{browserTestStamp, "BTN_EAST", 1, "Key"}, true},
	{"button at 0.3", `{"type": "btn1", "value": 0.3}`, InputEvent{browserTestStamp, "BTN_EAST", 0, "Key"}, true},
	{"button at 1", `{"type": "btn9", "value": 1}`, InputEvent{browserTestStamp, "BTN_START", 1, "Key"}, true},
	{"d-pad at 1", `{"type": "btn13", "value": 1}`, InputEvent{browserTestStamp, "ABS_HAT0Y", 1, "Absolute"}, true},
	{"trigger half", `{"type": "btn7", "value": 0.5}`, InputEvent{browserTestStamp, "ABS_RZ", 128, "Absolute"}, true},
	{"trigger light", `{"type": "btn7", "value": 0.25}`, InputEvent{browserTestStamp, "ABS_RZ", 64, "Absolute"}, true},
	{"trigger full", `{"type": "btn7", "value": 1}`, InputEvent{browserTestStamp, "ABS_RZ", 255, "Absolute"}, true},
	{"trigger over", `{"type": "btn6", "value": 1.7}`, InputEvent{browserTestStamp, "ABS_Z", 255, "Absolute"}, true},
	{"trigger under", `{"type": "btn6", "value": -0.2}`, InputEvent{browserTestStamp, "ABS_Z", 0, "Absolute"}, true},
	// Bad buttons.
	{"button past the extras", `{"type": "btn57", "value": true}`, InputEvent{}, false},
	{"button huge", `{"type": "btn99999999999999999999999", "value": true}`, InputEvent{}, false},
	{"button negative", `{"type": "btn-1", "value": true}`, InputEvent{}, false},
	{"button plus", `{"type": "btn+1", "value": true}`, InputEvent{}, false},
	{"button no index", `{"type": "btn", "value": true}`, InputEvent{}, false},
	{"button trailing", `{"type": "btn1x", "value": true}`, InputEvent{}, false},
	{"button space", `{"type": "btn 1", "value": true}`, InputEvent{}, false},
	{"button value a string", `{"type": "btn0", "value": "true"}`, InputEvent{}, false},
	{"button value null", `{"type": "btn0", "value": null}`, InputEvent{}, false},
	{"button no value", `{"type": "btn0"}`, InputEvent{}, false},
	{"button NaN", `{"type": "btn6", "value": NaN}`, InputEvent{}, false},
	{"button Infinity", `{"type": "btn6", "value": Infinity}`, InputEvent{}, false},

	// Gamepad axes.
	{"stick centred", `{"type": "axis0", "value": 0}`, InputEvent{browserTestStamp, "ABS_X", 0, "Absolute"}, true},
	{"stick up", `{"type": "axis1", "value": -0.53}`, InputEvent{browserTestStamp, "ABS_Y", -17367, "Absolute"}, true},
	{"stick half down", `{"type": "axis1", "value": 0.5}`, InputEvent{browserTestStamp, "ABS_Y", 16384, "Absolute"}, true},
	{"right stick right", `{"type": "axis2", "value": 1}`, InputEvent{browserTestStamp, "ABS_RX", 32767, "Absolute"}, true},
	{"right stick up", `{"type": "axis3", "value": -1}`, InputEvent{browserTestStamp, "ABS_RY", -32768, "Absolute"}, true},
	{"axis over", `{"type": "axis0", "value": 1.5}`, InputEvent{browserTestStamp, "ABS_X", 32767, "Absolute"}, true},
	{"axis under", `{"type": "axis0", "value": -7e300}`, InputEvent{browserTestStamp, "ABS_X", -32768, "Absolute"}, true},
	{"axis tiny", `{"type": "axis0", "value": 1.5259021896696422e-05}`, InputEvent{browserTestStamp, "ABS_X", 0, "Absolute"}, true},
	{"axis with timestamp", `{"type": "axis0", "value": -1, "timestamp": 1764633601}`, InputEvent{1764633601, "ABS_X", -32768, "Absolute"}, true},
	{"axis past the standard", `{"type": "axis4", "value": 0.5}`, InputEvent{}, false},
	{"axis huge", `{"type": "axis18446744073709551616", "value": 0.5}`, InputEvent{}, false},
	{"axis a bool", `{"type": "axis0", "value": true}`, InputEvent{}, false},
	{"axis a string", `{"type": "axis0", "value": "0.5"}`, InputEvent{}, false},
	{"axis NaN", `{"type": "axis0", "value": NaN}`, InputEvent{}, false},
	{"axis -Infinity", `{"type": "axis0", "value": -Infinity}`, InputEvent{}, false},
	{"axis no value", `{"type": "axis0"}`, InputEvent{}, false},

	// Timestamps that are not usable: the time of conversion instead.
	{"timestamp NaN", `{"type": "btn0", "value": true, "timestamp": NaN}`, InputEvent{browserTestStamp, "BTN_SOUTH", 1, "Key"}, true},
	{"timestamp Infinity", `{"type": "btn0", "value": true, "timestamp": Infinity}`, InputEvent{browserTestStamp, "BTN_SOUTH", 1, "Key"}, true},
	{"timestamp a string", `{"type": "btn0", "value": true, "timestamp": "now"}`, InputEvent{browserTestStamp, "BTN_SOUTH", 1, "Key"}, true},
	{"timestamp null", `{"type": "keyup", "code": "Escape", "timestamp": null}`, InputEvent{browserTestStamp, "KEY_ESC", 0, "Key"}, true},

	// InputEvent's own shape passes through as it is.
	{"InputEvent shape", `{"timestamp": 1553379212.684861, "code": "BTN_SOUTH", "state": 1, "event": "Key"}`,
		InputEvent{1553379212.684861, "BTN_SOUTH", 1, "Key"}, true},

	// Other messages.
	{"null", `null`, InputEvent{}, false},
	{"number", `42`, InputEvent{}, false},
	{"string", `"btn0"`, InputEvent{}, false},
	{"array", `[{"type": "btn0", "value": true}]`, InputEvent{}, false},
	{"empty object", `{}`, InputEvent{}, false},
	{"no type", `{"value": true}`, InputEvent{}, false},
	{"type a number", `{"type": 0, "value": true}`, InputEvent{}, false},
	{"other type", `{"type": "hello"}`, InputEvent{}, false},
	{"not JSON", `drive forward`, InputEvent{}, false},
}

func TestBrowserInputEvent(t *testing.T) {
	for _, tc := range browserInputCases {
		t.Run(tc.name, func(t *testing.T) {
			// As the connection delivers it (decoded), and as JSON text.
			for _, msg := range []any{decodeText([]byte(tc.msg)), tc.msg, []byte(tc.msg)} {
				got, ok := browserInputEvent(msg, browserTestClock)
				if ok != tc.ok || got != tc.want {
					t.Errorf("browserInputEvent(%T %v) = %v, %v; want %v, %v", msg, msg, got, ok, tc.want, tc.ok)
				}
			}
		})
	}
}

// Every code a browser's key can become, in every family of the US
// keyboard, and only evdev's names.
func TestBrowserKeyNames(t *testing.T) {
	keys := func(typ string, fields string) InputEvent {
		t.Helper()
		e, ok := browserInputEvent(`{"type": "`+typ+`", `+fields+`}`, browserTestClock)
		if !ok {
			t.Errorf("%s %s: not converted", typ, fields)
		}
		return e
	}
	for _, tc := range []struct{ field, value, want string }{
		{"code", `"KeyA"`, "KEY_A"}, {"code", `"KeyZ"`, "KEY_Z"}, {"code", `"Digit0"`, "KEY_0"},
		{"code", `"Digit1"`, "KEY_1"}, {"code", `"ArrowUp"`, "KEY_UP"}, {"code", `"ArrowDown"`, "KEY_DOWN"},
		{"code", `"ArrowLeft"`, "KEY_LEFT"}, {"code", `"ArrowRight"`, "KEY_RIGHT"},
		{"code", `"Space"`, "KEY_SPACE"}, {"code", `"ShiftLeft"`, "KEY_LEFTSHIFT"},
		{"code", `"ControlLeft"`, "KEY_LEFTCTRL"}, {"code", `"ControlRight"`, "KEY_RIGHTCTRL"},
		{"code", `"AltRight"`, "KEY_RIGHTALT"}, {"code", `"MetaLeft"`, "KEY_LEFTMETA"},
		{"code", `"OSRight"`, "KEY_RIGHTMETA"}, {"code", `"Enter"`, "KEY_ENTER"},
		{"code", `"Escape"`, "KEY_ESC"}, {"code", `"Backspace"`, "KEY_BACKSPACE"}, {"code", `"Tab"`, "KEY_TAB"},
		{"code", `"F1"`, "KEY_F1"}, {"code", `"F12"`, "KEY_F12"}, {"code", `"F24"`, "KEY_F24"},
		{"code", `"Numpad0"`, "KEY_KP0"}, {"code", `"Numpad9"`, "KEY_KP9"}, {"code", `"NumpadEnter"`, "KEY_KPENTER"},
		{"code", `"NumpadMultiply"`, "KEY_KPASTERISK"}, {"code", `"NumpadDecimal"`, "KEY_KPDOT"},
		{"code", `"Minus"`, "KEY_MINUS"}, {"code", `"Equal"`, "KEY_EQUAL"},
		{"code", `"BracketLeft"`, "KEY_LEFTBRACE"}, {"code", `"BracketRight"`, "KEY_RIGHTBRACE"},
		{"code", `"Semicolon"`, "KEY_SEMICOLON"}, {"code", `"Quote"`, "KEY_APOSTROPHE"},
		{"code", `"Backquote"`, "KEY_GRAVE"}, {"code", `"Backslash"`, "KEY_BACKSLASH"},
		{"code", `"Comma"`, "KEY_COMMA"}, {"code", `"Period"`, "KEY_DOT"}, {"code", `"Slash"`, "KEY_SLASH"},
		{"code", `"IntlBackslash"`, "KEY_102ND"}, {"code", `"PrintScreen"`, "KEY_SYSRQ"},
		{"code", `"ContextMenu"`, "KEY_COMPOSE"}, {"code", `"PageDown"`, "KEY_PAGEDOWN"},

		{"keyCode", "65", "KEY_A"}, {"keyCode", "90", "KEY_Z"}, {"keyCode", "48", "KEY_0"},
		{"keyCode", "57", "KEY_9"}, {"keyCode", "38", "KEY_UP"}, {"keyCode", "37", "KEY_LEFT"},
		{"keyCode", "32", "KEY_SPACE"}, {"keyCode", "13", "KEY_ENTER"}, {"keyCode", "27", "KEY_ESC"},
		{"keyCode", "16", "KEY_LEFTSHIFT"}, {"keyCode", "17", "KEY_LEFTCTRL"}, {"keyCode", "18", "KEY_LEFTALT"},
		{"keyCode", "112", "KEY_F1"}, {"keyCode", "123", "KEY_F12"}, {"keyCode", "96", "KEY_KP0"},
		{"keyCode", "105", "KEY_KP9"}, {"keyCode", "107", "KEY_KPPLUS"}, {"keyCode", "186", "KEY_SEMICOLON"},
		{"keyCode", "59", "KEY_SEMICOLON"}, {"keyCode", "189", "KEY_MINUS"}, {"keyCode", "219", "KEY_LEFTBRACE"},
		{"keyCode", "222", "KEY_APOSTROPHE"}, {"keyCode", "190", "KEY_DOT"},

		{"key", `"a"`, "KEY_A"}, {"key", `"Z"`, "KEY_Z"}, {"key", `"7"`, "KEY_7"}, {"key", `"&"`, "KEY_7"},
		{"key", `")"`, "KEY_0"}, {"key", `" "`, "KEY_SPACE"}, {"key", `"?"`, "KEY_SLASH"},
		{"key", `"_"`, "KEY_MINUS"}, {"key", `"{"`, "KEY_LEFTBRACE"}, {"key", `"\""`, "KEY_APOSTROPHE"},
		{"key", `"\\"`, "KEY_BACKSLASH"}, {"key", `"~"`, "KEY_GRAVE"}, {"key", `"ArrowLeft"`, "KEY_LEFT"},
		{"key", `"Enter"`, "KEY_ENTER"}, {"key", `"Escape"`, "KEY_ESC"}, {"key", `"F5"`, "KEY_F5"},
		{"key", `"Shift"`, "KEY_LEFTSHIFT"}, {"key", `"Control"`, "KEY_LEFTCTRL"},
		{"key", `"AltGraph"`, "KEY_RIGHTALT"},
	} {
		if e := keys("keydown", `"`+tc.field+`": `+tc.value); e.Code != tc.want || e.State != 1 || e.Event != InputKey {
			t.Errorf("keydown %s %s = %v, want %s", tc.field, tc.value, e, tc.want)
		}
	}

	known := make(map[string]bool)
	for _, name := range keyCodeNames {
		known[name] = true
	}
	check := func(table, from, name string) {
		if !known[name] {
			t.Errorf("%s[%s] = %s, not an evdev key name", table, from, name)
		}
	}
	for from, name := range browserCodeKeys {
		check("browserCodeKeys", from, name)
	}
	for from, name := range browserKeyCodeKeys {
		check("browserKeyCodeKeys", strconv.Itoa(from), name)
	}
	for from, name := range browserKeyChars {
		check("browserKeyChars", from, name)
	}
	for from, name := range browserKeyModifiers {
		check("browserKeyModifiers", from, name)
	}
	// Every letter, digit and function key of each table.
	if n := len(browserCodeKeys); n < 26+10+10+24 {
		t.Errorf("browserCodeKeys has %d keys", n)
	}
}

// The Standard Gamepad's 17 buttons and 4 axes are the controls the xpad
// driver reports for an Xbox pad, named alike and in the same ranges.
func TestBrowserGamepadMatchesXpad(t *testing.T) {
	want := []struct {
		code, event string
		on          int
	}{
		{"BTN_SOUTH", "Key", 1}, {"BTN_EAST", "Key", 1}, {"BTN_NORTH", "Key", 1}, {"BTN_WEST", "Key", 1},
		{"BTN_TL", "Key", 1}, {"BTN_TR", "Key", 1}, {"ABS_Z", "Absolute", 255}, {"ABS_RZ", "Absolute", 255},
		{"BTN_SELECT", "Key", 1}, {"BTN_START", "Key", 1}, {"BTN_THUMBL", "Key", 1}, {"BTN_THUMBR", "Key", 1},
		{"ABS_HAT0Y", "Absolute", -1}, {"ABS_HAT0Y", "Absolute", 1}, {"ABS_HAT0X", "Absolute", -1},
		{"ABS_HAT0X", "Absolute", 1}, {"BTN_MODE", "Key", 1},
	}
	browser := make(map[string]bool) // code/event of every standard control
	for i, w := range want {
		for _, pressed := range []bool{true, false} {
			msg := map[string]any{"type": "btn" + strconv.Itoa(i), "value": pressed}
			e, ok := browserInputEvent(msg, browserTestClock)
			state := 0
			if pressed {
				state = w.on
			}
			if wantEvent := (InputEvent{browserTestStamp, w.code, state, w.event}); !ok || e != wantEvent {
				t.Errorf("%v = %v, %v; want %v", msg, e, ok, wantEvent)
			}
			browser[e.Code+"/"+e.Event] = true
		}
	}
	for i, code := range []string{"ABS_X", "ABS_Y", "ABS_RX", "ABS_RY"} {
		for value, state := range map[float64]int{-1: -32768, 0: 0, 1: 32767} {
			msg := map[string]any{"type": "axis" + strconv.Itoa(i), "value": value}
			e, ok := browserInputEvent(msg, browserTestClock)
			if wantEvent := (InputEvent{browserTestStamp, code, state, "Absolute"}); !ok || e != wantEvent {
				t.Errorf("%v = %v, %v; want %v", msg, e, ok, wantEvent)
			}
			browser[e.Code+"/"+e.Event] = true
		}
	}

	// The codes of the xpad trace (see testdata/gamepad/gen_xpad360.py).
	f, err := os.Open("testdata/gamepad/xpad360.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xpad := make(map[string]bool)
	for s := bufio.NewScanner(f); s.Scan(); {
		var e InputEvent
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		xpad[e.Code+"/"+e.Event] = true
	}
	for c := range xpad {
		if !browser[c] {
			t.Errorf("xpad reports %s, which no browser control becomes", c)
		}
	}
	for c := range browser {
		if !xpad[c] {
			t.Errorf("a browser control becomes %s, which xpad does not report", c)
		}
	}
}

// The other things a program may run through BrowserInputEvent: events
// already, and values a connection never delivers.
func TestBrowserInputEventPassesEventsThrough(t *testing.T) {
	e := InputEvent{1553379212.684861, "ABS_X", -12567, "Absolute"}
	for _, msg := range []any{e, &e} {
		if got, ok := BrowserInputEvent(msg); !ok || got != e {
			t.Errorf("BrowserInputEvent(%T) = %v, %v; want %v, true", msg, got, ok, e)
		}
	}
	for _, msg := range []any{nil, (*InputEvent)(nil), 42, true, []any{"btn0", true}, map[string]string{"type": "btn0"},
		map[string]any{"type": "btn0", "value": struct{}{}}, map[string]any{"type": "keydown", "key": []byte("a")}} {
		if got, ok := BrowserInputEvent(msg); ok {
			t.Errorf("BrowserInputEvent(%#v) = %v, true; want false", msg, got)
		}
	}
	// Numbers of other Go types, from a program's own map.
	msg := map[string]any{"type": "axis0", "value": json.Number("-1"), "timestamp": int64(1764633600)}
	if got, ok := BrowserInputEvent(msg); !ok || got != (InputEvent{1764633600, "ABS_X", -32768, "Absolute"}) {
		t.Errorf("BrowserInputEvent(%v) = %v, %v", msg, got, ok)
	}
}

// BrowserInputEvent stamps a message without a timestamp with the time of
// the conversion, to the microsecond, as evdev stamps events.
func TestBrowserInputEventStampsNow(t *testing.T) {
	before := inputTimestamp(time.Now())
	e, ok := BrowserInputEvent(`{"type": "btn0", "value": true}`)
	after := inputTimestamp(time.Now())
	if !ok || e.Timestamp < before || e.Timestamp > after {
		t.Errorf("event %v, %v: want a timestamp from %v to %v", e, ok, before, after)
	}
}

// FuzzBrowserInputEvent converts arbitrary text, as JSON text and decoded
// as a connection decodes it: it must not panic, both must agree, and an
// event converted from a browser's shape must be one evdev could report,
// with a timestamp a peer can be sent.
func FuzzBrowserInputEvent(f *testing.F) {
	for _, tc := range browserInputCases {
		f.Add(tc.msg)
	}
	f.Add(`{"type": "btn0", "value": true, "type": "axis0"}`)
	f.Add(`{"type": "keydown", "code": "KeyA", "timestamp": -1e308}`)
	f.Add("{\"type\": \"keydown\", \"key\": \"\xff\"}")
	evdevNames := make(map[string]string) // name: event
	for _, name := range keyCodeNames {
		evdevNames[name] = InputKey
	}
	for _, name := range absCodeNames {
		evdevNames[name] = InputAbsolute
	}
	f.Fuzz(func(t *testing.T, text string) {
		msg := decodeText([]byte(text))
		e, ok := browserInputEvent(text, browserTestClock)
		e2, ok2 := browserInputEvent(msg, browserTestClock)
		if ok != ok2 || e.Code != e2.Code || e.State != e2.State || e.Event != e2.Event ||
			math.Float64bits(e.Timestamp) != math.Float64bits(e2.Timestamp) {
			t.Fatalf("%q: as text %v, %v; decoded %v, %v", text, e, ok, e2, ok2)
		}
		if _, own := InputEventFromMessage(msg); !ok || own {
			return
		}
		if evdevNames[e.Code] != e.Event {
			t.Fatalf("%q: %v is not an evdev key or absolute axis", text, e)
		}
		if e.State < -32768 || e.State > 32767 || (e.Event == InputKey && (e.State < 0 || e.State > 2)) {
			t.Fatalf("%q: %v: state out of range", text, e)
		}
		if _, err := e.MarshalJSON(); err != nil {
			t.Fatalf("%q: %v: %v", text, e, err)
		}
	})
}
