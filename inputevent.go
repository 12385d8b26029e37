package rtcbot

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// InputEvent is one event of an input device (Gamepad, Keyboard, Mouse,
// SimulatedGamepad), in the format of Python RTCBot's input devices, so a Go
// gamepad can drive a Python robot and the other way round. Its JSON form is
// exactly RTCBot's dict, keys in the same order:
//
//	{"timestamp":1553379212.684861,"code":"BTN_SOUTH","state":1,"event":"Key"}
//
// Code is the Linux evdev name of the key, button or axis ("KEY_A",
// "BTN_SOUTH", "ABS_X", "REL_X", "SYN_REPORT"); Event is the kind of event
// (InputKey, InputAbsolute, InputRelative, InputSync, or "Misc", "LED", ...
// for the rarer evdev types). State is the value: 1 pressed, 0 released and
// 2 auto-repeat for keys and buttons, the device's raw position for absolute
// axes, the motion for relative axes.
type InputEvent struct {
	// Timestamp is when the event happened, in seconds since the Unix epoch,
	// to the microsecond.
	Timestamp float64 `json:"timestamp"`
	// Code is the evdev name of the key, button or axis.
	Code string `json:"code"`
	// State is the key's state or the axis's value.
	State int `json:"state"`
	// Event is the event type's name.
	Event string `json:"event"`
}

// The event types of InputEvent.Event that gamepads, keyboards and mice
// report (the names Python RTCBot uses).
const (
	// InputKey is a key or button: State 1 pressed, 0 released, 2 repeated.
	InputKey = "Key"
	// InputAbsolute is an absolute axis (a stick, trigger or hat): State is
	// its position.
	InputAbsolute = "Absolute"
	// InputRelative is a relative axis (mouse motion, wheel): State is the
	// motion.
	InputRelative = "Relative"
	// InputSync separates groups of events (SYN_REPORT); the default filter
	// drops it.
	InputSync = "Sync"
)

// DefaultInputFilter is the event filter of every input device unless told
// otherwise, RTCBot's default: it keeps every event except SYN_REPORT.
func DefaultInputFilter(e InputEvent) bool { return e.Code != "SYN_REPORT" }

// String formats the event the way Python prints RTCBot's event dict, as in
// the offloading tutorial's robot output:
//
//	{'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
func (e InputEvent) String() string {
	var b strings.Builder
	b.WriteString("{'timestamp': ")
	b.WriteString(pythonFloat(e.Timestamp))
	b.WriteString(", 'code': ")
	b.WriteString(pythonString(e.Code))
	b.WriteString(", 'state': ")
	b.WriteString(strconv.Itoa(e.State))
	b.WriteString(", 'event': ")
	b.WriteString(pythonString(e.Event))
	b.WriteString("}")
	return b.String()
}

// MarshalJSON encodes the event as Python's json.dumps does, keys in
// RTCBot's order and the timestamp always written as a float (1553379212.0,
// not 1553379212), so a Python peer decodes the same types it sends. A
// timestamp that is NaN or infinite is an error.
func (e InputEvent) MarshalJSON() ([]byte, error) {
	if math.IsNaN(e.Timestamp) || math.IsInf(e.Timestamp, 0) {
		return nil, fmt.Errorf("rtcbot: input event timestamp %v is not a finite number", e.Timestamp)
	}
	code, err := json.Marshal(e.Code)
	if err != nil {
		return nil, err
	}
	event, err := json.Marshal(e.Event)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(code)+len(event))
	b = append(b, `{"timestamp":`...)
	b = append(b, pythonFloat(e.Timestamp)...)
	b = append(b, `,"code":`...)
	b = append(b, code...)
	b = append(b, `,"state":`...)
	b = strconv.AppendInt(b, int64(e.State), 10)
	b = append(b, `,"event":`...)
	b = append(b, event...)
	b = append(b, '}')
	return b, nil
}

// InputEventFromMessage converts a message received from a connection back
// into an InputEvent: an InputEvent or *InputEvent as it is, or a JSON object
// decoded into a map[string]any (how a connection delivers a Python or Go
// peer's event) with the four keys of the event format, a whole-number
// state and any further keys ignored. It reports false for anything else,
// such as a browser's keyboard and gamepad messages, which have another
// shape: BrowserInputEvent converts those, and these too.
func InputEventFromMessage(msg any) (InputEvent, bool) {
	switch m := msg.(type) {
	case InputEvent:
		return m, true
	case *InputEvent:
		if m == nil {
			return InputEvent{}, false
		}
		return *m, true
	case map[string]any:
		ts, ok1 := messageNumber(m["timestamp"])
		state, ok2 := messageNumber(m["state"])
		code, ok3 := m["code"].(string)
		event, ok4 := m["event"].(string)
		if !ok1 || !ok2 || !ok3 || !ok4 || state != math.Trunc(state) || math.Abs(state) > 1<<53 {
			return InputEvent{}, false
		}
		return InputEvent{Timestamp: ts, Code: code, State: int(state), Event: event}, true
	}
	return InputEvent{}, false
}

// messageNumber returns the value of a number decoded from JSON.
func messageNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// inputTimestamp returns t as an input event timestamp: seconds since the
// Unix epoch to the microsecond, computed as the inputs package computes
// evdev's (seconds + microseconds / 1e6).
func inputTimestamp(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond()/1000)/1e6
}

// pythonFloat formats f as Python's repr(float) does: the shortest digits
// that read back as f, in positional notation with at least one decimal
// (1553379212.0) when the decimal exponent is between -4 and 16, in
// scientific notation otherwise (1e+16, 1e-05).
func pythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX, shortest digits
	exp, err := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if err != nil || exp < -4 || exp >= 16 {
		return sci // Go writes the exponent as Python does: sign, at least two digits
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// pythonString formats s as Python's repr(str) does for the strings input
// events hold: single quotes unless s contains a single quote and no double
// quote, with backslashes, the quote and control characters escaped.
func pythonString(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
