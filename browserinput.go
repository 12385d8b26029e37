package rtcbot

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// BrowserInputEvent converts a control message from a browser page into the
// InputEvent the robot's own Keyboard or Gamepad would report for the same
// key, button or axis, so one robot program can be driven by a Linux
// gamepad or keyboard, a Go or Python desktop, or a browser:
//
//	conn.SubscribeFunc(func(msg any) {
//		if e, ok := rtcbot.BrowserInputEvent(msg); ok {
//			drive(e) // e.Code "KEY_W", "BTN_SOUTH", "ABS_Y", ...
//		}
//	})
//
// msg is what a connection delivers (a map[string]any), or the same object
// as JSON text (a string or []byte). It is one of the messages of RTCBot's
// JavaScript Keyboard and Gamepad (RTCBot's own send no "code" and no
// "timestamp"):
//
//	{"type": "keydown", "altKey": false, "shiftKey": false, "keyCode": 65, "key": "a", "code": "KeyA", "timestamp": 1764633600.123}
//	{"type": "btn0", "value": true}
//	{"type": "axis1", "value": -0.53}
//
// A keydown is State 1 (2 when it has "repeat": true, as evdev reports an
// auto-repeat), a keyup 0, with Event "Key" and the evdev name of the key
// on a US keyboard: from "code" (KeyboardEvent.code: "KeyA" is KEY_A,
// "ShiftLeft" KEY_LEFTSHIFT), else from "keyCode" (65 is KEY_A; 16, either
// Shift, is KEY_LEFTSHIFT), else from "key" ("a" or "A" is KEY_A). altKey and
// shiftKey are ignored: the browser sends the modifier keys' own keydown and
// keyup, as evdev does.
//
// Gamepad buttons and axes are numbered as in the W3C Standard Gamepad and
// reported as the Linux xpad driver reports an Xbox pad's:
//
//	btn0, btn1, btn2, btn3  A, B, X, Y          BTN_SOUTH, BTN_EAST, BTN_NORTH, BTN_WEST
//	btn4, btn5              LB, RB              BTN_TL, BTN_TR
//	btn6, btn7              LT, RT              ABS_Z, ABS_RZ: 0..255
//	btn8, btn9, btn16       Back, Start, Guide  BTN_SELECT, BTN_START, BTN_MODE
//	btn10, btn11            stick presses       BTN_THUMBL, BTN_THUMBR
//	btn12, btn13            d-pad up, down      ABS_HAT0Y: -1, 1
//	btn14, btn15            d-pad left, right   ABS_HAT0X: -1, 1
//	btn17 to btn56          extra buttons       BTN_TRIGGER_HAPPY1 to BTN_TRIGGER_HAPPY40
//	axis0, axis1            left stick          ABS_X, ABS_Y: -32768..32767
//	axis2, axis3            right stick         ABS_RX, ABS_RY: -32768..32767
//
// A button's value is true or false (RTCBot's Gamepad) or a number from 0
// to 1 (GamepadButton.value), pressed from 0.5. A button is State 1 when
// pressed and 0 when released, a d-pad button its hat's -1 or 1 and then 0,
// and a trigger 255 and then 0, or its number times 255. Extra buttons are
// named as Linux names a gamepad's buttons past its standard ones. An
// axis's value, -1 to 1, is scaled to the xpad's range and clamped, keeping
// its sign: up is negative in both. Axes past axis3 have no standard
// meaning and are not converted.
//
// The event's Timestamp is the message's "timestamp" (seconds since the
// Unix epoch) when it has a finite one, else the time of the conversion.
//
// An InputEvent, a *InputEvent or a message in InputEvent's own shape (what
// a Go or Python Gamepad sends; see InputEventFromMessage) is returned as it
// is, so every message can be run through BrowserInputEvent. ok is false
// for anything else: other messages, a value of the wrong type or not a
// finite number, an unknown button or axis, and a key with no evdev name
// (as evdev reports no key event for a key it has no code for).
func BrowserInputEvent(msg any) (e InputEvent, ok bool) {
	return browserInputEvent(msg, time.Now)
}

// browserInputEvent is BrowserInputEvent, with now the time of a message
// without a timestamp.
func browserInputEvent(msg any, now func() time.Time) (InputEvent, bool) {
	switch m := msg.(type) {
	case string:
		msg = decodeText([]byte(m))
	case []byte:
		msg = decodeText(m)
	}
	if e, ok := InputEventFromMessage(msg); ok {
		return e, true
	}
	m, ok := msg.(map[string]any)
	if !ok {
		return InputEvent{}, false
	}
	e, ok := browserControl(m)
	if !ok {
		return InputEvent{}, false
	}
	if ts, ok := finiteNumber(m["timestamp"]); ok {
		e.Timestamp = ts
	} else {
		e.Timestamp = inputTimestamp(now())
	}
	return e, true
}

// browserControl converts a browser message by its type, leaving out the
// timestamp.
func browserControl(m map[string]any) (InputEvent, bool) {
	typ, _ := m["type"].(string)
	if typ == "keydown" || typ == "keyup" {
		return browserKey(typ, m)
	}
	if i, ok := controlIndex(typ, "btn"); ok {
		return browserButton(i, m["value"])
	}
	if i, ok := controlIndex(typ, "axis"); ok {
		return browserAxis(i, m["value"])
	}
	return InputEvent{}, false
}

// controlIndex returns N of a message type "<prefix>N", N a decimal number.
func controlIndex(typ, prefix string) (int, bool) {
	digits, ok := strings.CutPrefix(typ, prefix)
	if !ok || digits == "" || digits[0] < '0' || digits[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// browserKey converts a keydown or keyup.
func browserKey(typ string, m map[string]any) (InputEvent, bool) {
	code, ok := browserKeyName(m)
	if !ok {
		return InputEvent{}, false
	}
	state := 0
	if typ == "keydown" {
		state = 1
		if m["repeat"] == true {
			state = 2
		}
	}
	return InputEvent{Code: code, State: state, Event: InputKey}, true
}

// browserKeyName returns the evdev name of a keyboard message's key: from
// its code, else its keyCode, else its key.
func browserKeyName(m map[string]any) (string, bool) {
	if s, ok := m["code"].(string); ok {
		if name, ok := browserCodeKeys[s]; ok {
			return name, true
		}
	}
	if n, ok := messageNumber(m["keyCode"]); ok && n == math.Trunc(n) && n >= 0 && n < 1<<16 {
		if name, ok := browserKeyCodeKeys[int(n)]; ok {
			return name, true
		}
	}
	if s, ok := m["key"].(string); ok {
		return browserKeyValueName(s)
	}
	return "", false
}

// browserKeyValueName returns the evdev name of a KeyboardEvent.key value:
// a character of a US keyboard, shifted or not, or a named key.
func browserKeyValueName(key string) (string, bool) {
	if name, ok := browserKeyChars[key]; ok {
		return name, true
	}
	if name, ok := browserKeyModifiers[key]; ok {
		return name, true
	}
	// Most named keys' values are their KeyboardEvent.code ("Enter",
	// "ArrowUp", "F1").
	name, ok := browserCodeKeys[key]
	return name, ok
}

// gamepadButton is what the xpad driver reports for a Standard Gamepad
// button: an event with code and event type, state on when pressed and 0
// when released.
type gamepadButton struct {
	code, event string
	on          int
	// analog is set for the triggers, which xpad reports as axes: how
	// far the button is pressed, 0 to 1, is scaled to 0..on.
	analog bool
}

// standardGamepadButtons are the Standard Gamepad's buttons, by index, as
// an Xbox pad reports them through xpad.
var standardGamepadButtons = []gamepadButton{
	{"BTN_SOUTH", InputKey, 1, false},       // 0: A
	{"BTN_EAST", InputKey, 1, false},        // 1: B
	{"BTN_NORTH", InputKey, 1, false},       // 2: X (BTN_X is BTN_NORTH)
	{"BTN_WEST", InputKey, 1, false},        // 3: Y (BTN_Y is BTN_WEST)
	{"BTN_TL", InputKey, 1, false},          // 4: left bumper
	{"BTN_TR", InputKey, 1, false},          // 5: right bumper
	{"ABS_Z", InputAbsolute, 255, true},     // 6: left trigger
	{"ABS_RZ", InputAbsolute, 255, true},    // 7: right trigger
	{"BTN_SELECT", InputKey, 1, false},      // 8: back
	{"BTN_START", InputKey, 1, false},       // 9: start
	{"BTN_THUMBL", InputKey, 1, false},      // 10: left stick pressed
	{"BTN_THUMBR", InputKey, 1, false},      // 11: right stick pressed
	{"ABS_HAT0Y", InputAbsolute, -1, false}, // 12: d-pad up
	{"ABS_HAT0Y", InputAbsolute, 1, false},  // 13: d-pad down
	{"ABS_HAT0X", InputAbsolute, -1, false}, // 14: d-pad left
	{"ABS_HAT0X", InputAbsolute, 1, false},  // 15: d-pad right
	{"BTN_MODE", InputKey, 1, false},        // 16: guide
}

// extraGamepadButtons is how many buttons past the standard ones have a
// name: BTN_TRIGGER_HAPPY1 to BTN_TRIGGER_HAPPY40.
const extraGamepadButtons = 40

// browserButton converts a change of button i to value, a bool or a number
// from 0 to 1.
func browserButton(i int, value any) (InputEvent, bool) {
	b, ok := gamepadButtonAt(i)
	level, ok2 := buttonLevel(value)
	if !ok || !ok2 {
		return InputEvent{}, false
	}
	state := 0
	switch {
	case b.analog:
		state = int(math.Round(min(max(level, 0), 1) * float64(b.on)))
	case level >= 0.5:
		state = b.on
	}
	return InputEvent{Code: b.code, State: state, Event: b.event}, true
}

// buttonLevel returns how far a button is pressed, from 0 to 1: a bool's 0
// or 1, or a finite number as it is.
func buttonLevel(value any) (float64, bool) {
	if pressed, ok := value.(bool); ok {
		if pressed {
			return 1, true
		}
		return 0, true
	}
	return finiteNumber(value)
}

// gamepadButtonAt returns button i: a standard one, or an extra one.
func gamepadButtonAt(i int) (gamepadButton, bool) {
	if i >= 0 && i < len(standardGamepadButtons) {
		return standardGamepadButtons[i], true
	}
	extra := i - len(standardGamepadButtons) + 1
	if extra < 1 || extra > extraGamepadButtons {
		return gamepadButton{}, false
	}
	return gamepadButton{"BTN_TRIGGER_HAPPY" + strconv.Itoa(extra), InputKey, 1, false}, true
}

// standardGamepadAxes are the Standard Gamepad's axes, by index, as an Xbox
// pad reports them through xpad.
var standardGamepadAxes = []string{"ABS_X", "ABS_Y", "ABS_RX", "ABS_RY"}

// browserAxis converts a change of axis i to value, from -1 to 1.
func browserAxis(i int, value any) (InputEvent, bool) {
	v, ok := finiteNumber(value)
	if i < 0 || i >= len(standardGamepadAxes) || !ok {
		return InputEvent{}, false
	}
	return InputEvent{Code: standardGamepadAxes[i], State: stickState(v), Event: InputAbsolute}, true
}

// stickState scales a browser's axis value, -1 to 1, to the xpad's stick
// range, -32768 to 32767, clamped.
func stickState(v float64) int {
	v = min(max(v, -1), 1)
	if v < 0 {
		return int(math.Round(v * 32768))
	}
	return int(math.Round(v * 32767))
}

// finiteNumber returns the value of a number decoded from JSON that is
// neither NaN nor infinite.
func finiteNumber(v any) (float64, bool) {
	f, ok := messageNumber(v)
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}
