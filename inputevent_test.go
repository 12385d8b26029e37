package rtcbot

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// The robot's output in RTCBot's offloading tutorial: Python printing the
// events a Python Gamepad sent.
var tutorialOutput = []struct {
	event InputEvent
	print string
}{
	{InputEvent{1553379212.684861, "BTN_SOUTH", 1, "Key"},
		"{'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}"},
	{InputEvent{1553379212.684861, "ABS_Y", -1, "Absolute"},
		"{'timestamp': 1553379212.684861, 'code': 'ABS_Y', 'state': -1, 'event': 'Absolute'}"},
	{InputEvent{1553379214.14487, "BTN_SOUTH", 1, "Key"},
		"{'timestamp': 1553379214.14487, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}"},
	{InputEvent{1553379216.872889, "ABS_X", -11, "Absolute"},
		"{'timestamp': 1553379216.872889, 'code': 'ABS_X', 'state': -11, 'event': 'Absolute'}"},
	{InputEvent{1553379217.004892, "ABS_X", -12567, "Absolute"},
		"{'timestamp': 1553379217.004892, 'code': 'ABS_X', 'state': -12567, 'event': 'Absolute'}"},
}

func TestInputEventStringMatchesPythonPrint(t *testing.T) {
	for _, tc := range tutorialOutput {
		if got := tc.event.String(); got != tc.print {
			t.Errorf("String() =\n %s\nwant\n %s", got, tc.print)
		}
	}
	// The robot example prints it after a label, as Python's print does.
	line := "Control message: " + tutorialOutput[0].event.String()
	if want := "Control message: {'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}"; line != want {
		t.Errorf("line = %q, want %q", line, want)
	}
}

func TestInputEventStringEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		e    InputEvent
		want string
	}{
		{"whole-second timestamp", InputEvent{1553379212, "KEY_A", 2, "Key"},
			"{'timestamp': 1553379212.0, 'code': 'KEY_A', 'state': 2, 'event': 'Key'}"},
		{"zero value", InputEvent{},
			"{'timestamp': 0.0, 'code': '', 'state': 0, 'event': ''}"},
		{"single quote in code", InputEvent{1.5, "it's", 0, "Key"},
			`{'timestamp': 1.5, 'code': "it's", 'state': 0, 'event': 'Key'}`},
		{"both quotes and a backslash", InputEvent{1.5, `'"\`, 0, "Key"},
			`{'timestamp': 1.5, 'code': '\'"\\', 'state': 0, 'event': 'Key'}`},
		{"control character", InputEvent{1.5, "a\nb\x01", 0, "Key"},
			`{'timestamp': 1.5, 'code': 'a\nb\x01', 'state': 0, 'event': 'Key'}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.String(); got != tc.want {
				t.Errorf("String() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInputPythonFloat(t *testing.T) {
	// Each want is Python 3's repr of the float.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2, "-2.0"},
		{0.1, "0.1"},
		{1553379212.684861, "1553379212.684861"},
		{1553379214.14487, "1553379214.14487"},
		{1553379212, "1553379212.0"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{0.000015, "1.5e-05"},
		{9999999999999998, "9999999999999998.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{123456789012345678, "1.2345678901234568e+17"},
		{1e100, "1e+100"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	}
	for _, tc := range tests {
		if got := pythonFloat(tc.f); got != tc.want {
			t.Errorf("pythonFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestInputEventJSON(t *testing.T) {
	// Python: json.dumps({'timestamp': ..., 'code': ..., 'state': ..., 'event': ...}).
	tests := []struct {
		e      InputEvent
		python string
	}{
		{InputEvent{1553379212.684861, "BTN_SOUTH", 1, "Key"},
			`{"timestamp": 1553379212.684861, "code": "BTN_SOUTH", "state": 1, "event": "Key"}`},
		{InputEvent{1553379216.984889, "ABS_X", -7944, "Absolute"},
			`{"timestamp": 1553379216.984889, "code": "ABS_X", "state": -7944, "event": "Absolute"}`},
		{InputEvent{1553379212, "REL_X", -3, "Relative"},
			`{"timestamp": 1553379212.0, "code": "REL_X", "state": -3, "event": "Relative"}`},
		{InputEvent{1.5, `KEY_"Q"`, 0, "Key"},
			`{"timestamp": 1.5, "code": "KEY_\"Q\"", "state": 0, "event": "Key"}`},
	}
	for _, tc := range tests {
		// Python's json.dumps separates with ", " and ": "; rtcbot sends the
		// compact form, which is the same JSON byte for byte once Python's is
		// compacted (Python's own separators=(",", ":") output).
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(tc.python)); err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(tc.e)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tc.e, err)
		}
		if !bytes.Equal(got, compact.Bytes()) {
			t.Errorf("Marshal =\n %s\nwant\n %s", got, compact.Bytes())
		}
		// What a connection puts on the data channel.
		msg, binary, err := encodeMessage(tc.e)
		if err != nil || binary || !bytes.Equal(msg, compact.Bytes()) {
			t.Errorf("encodeMessage = %s, %v, %v; want %s as text", msg, binary, err, compact.Bytes())
		}
		// And it decodes back, from Go's form and from Python's.
		for _, data := range []string{string(got), tc.python} {
			var back InputEvent
			if err := json.Unmarshal([]byte(data), &back); err != nil || back != tc.e {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", data, back, err, tc.e)
			}
		}
	}
}

func TestInputEventJSONNonFinite(t *testing.T) {
	for _, ts := range []float64{math.NaN(), math.Inf(1)} {
		if b, err := json.Marshal(InputEvent{Timestamp: ts, Code: "KEY_A", Event: "Key"}); err == nil {
			t.Errorf("Marshal with timestamp %v = %s, want an error", ts, b)
		}
	}
}

func TestInputEventFromMessage(t *testing.T) {
	ev := InputEvent{1553379212.684861, "BTN_SOUTH", 1, "Key"}
	decoded := decodeText([]byte(`{"timestamp": 1553379212.684861, "code": "BTN_SOUTH", "state": 1, "event": "Key"}`))
	tests := []struct {
		name string
		msg  any
		want InputEvent
		ok   bool
	}{
		{"decoded Python event", decoded, ev, true},
		{"InputEvent", ev, ev, true},
		{"*InputEvent", &ev, ev, true},
		{"nil *InputEvent", (*InputEvent)(nil), InputEvent{}, false},
		{"browser gamepad message", decodeText([]byte(`{"type": "btn0", "value": true}`)), InputEvent{}, false},
		{"extra key ignored", map[string]any{"timestamp": 1.0, "code": "KEY_A", "state": 1.0, "event": "Key", "x": 1.0},
			InputEvent{1, "KEY_A", 1, "Key"}, true},
		{"missing key", map[string]any{"timestamp": 1.0, "code": "KEY_A", "event": "Key"}, InputEvent{}, false},
		{"fractional state", map[string]any{"timestamp": 1.0, "code": "KEY_A", "state": 0.5, "event": "Key"}, InputEvent{}, false},
		{"code not a string", map[string]any{"timestamp": 1.0, "code": 3.0, "state": 1.0, "event": "Key"}, InputEvent{}, false},
		{"json.Number", map[string]any{"timestamp": json.Number("2.5"), "code": "KEY_A", "state": json.Number("2"), "event": "Key"},
			InputEvent{2.5, "KEY_A", 2, "Key"}, true},
		{"string", "hello", InputEvent{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := InputEventFromMessage(tc.msg)
			if ok != tc.ok || got != tc.want {
				t.Errorf("InputEventFromMessage = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestDefaultInputFilter(t *testing.T) {
	tests := []struct {
		code string
		keep bool
	}{
		{"SYN_REPORT", false},
		{"SYN_DROPPED", true},
		{"KEY_A", true},
		{"ABS_X", true},
		{"MSC_SCAN", true},
	}
	for _, tc := range tests {
		if got := DefaultInputFilter(InputEvent{Code: tc.code}); got != tc.keep {
			t.Errorf("DefaultInputFilter(%s) = %v, want %v", tc.code, got, tc.keep)
		}
	}
}

func TestInputTimestamp(t *testing.T) {
	tm := time.Unix(1553379212, 684861789)
	if got, want := inputTimestamp(tm), 1553379212.684861; got != want {
		t.Errorf("inputTimestamp = %v, want %v (microseconds, truncated)", got, want)
	}
	if s := (InputEvent{Timestamp: inputTimestamp(time.Unix(1553379212, 0))}).String(); !strings.Contains(s, "1553379212.0,") {
		t.Errorf("whole-second timestamp printed as %s", s)
	}
}

// FuzzInputEventFromMessage converts what a data channel delivers for
// arbitrary text into an event: it must not panic, and an accepted event
// must survive the trip back to a peer: its JSON decodes into the same
// event, bit for bit. The one exception is a timestamp that is not finite
// (Python's NaN or Infinity), which is accepted but cannot be sent: encoding
// it must fail rather than send something else.
func FuzzInputEventFromMessage(f *testing.F) {
	for _, seed := range []string{
		`{"timestamp": 1553379212.684861, "code": "BTN_SOUTH", "state": 1, "event": "Key"}`,
		`{"timestamp":1553379212.0,"code":"ABS_X","state":-12567,"event":"Absolute"}`,
		`{"timestamp": NaN, "code": "KEY_A", "state": 1, "event": "Key"}`,
		`{"timestamp": -Infinity, "code": "KEY_A", "state": 1, "event": "Key"}`,
		`{"timestamp": -0.0, "code": "", "state": -0, "event": ""}`,
		`{"timestamp": 1e308, "code": "KEY_A", "state": 9007199254740992, "event": "Key"}`,
		`{"timestamp": 1, "code": "KEY_A", "state": 9007199254740994, "event": "Key"}`,
		`{"timestamp": 1, "code": "KEY_A", "state": 1e400, "event": "Key"}`,
		`{"timestamp": 1, "code": "KEY_A", "state": 0.5, "event": "Key"}`,
		`{"timestamp": 1, "code": "KEY_\u0000\ud800<&>", "state": 2, "event": "\u2028", "extra": [1, {"x": null}]}`,
		"{\"timestamp\": 1, \"code\": \"\xff\xfe\", \"state\": 1, \"event\": \"Key\"}",
		`{"timestamp": 1, "timestamp": "late", "code": "KEY_A", "state": 1, "event": "Key"}`,
		`{"type": "btn0", "value": true}`,
		`[1553379212.684861, "BTN_SOUTH", 1, "Key"]`,
		`"BTN_SOUTH"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		e, ok := InputEventFromMessage(decodeText(text))
		if !ok {
			return
		}
		data, err := e.MarshalJSON()
		if math.IsNaN(e.Timestamp) || math.IsInf(e.Timestamp, 0) {
			if err == nil {
				t.Fatalf("event %v from %q encoded as %s, want an error", e, text, data)
			}
			return
		}
		if err != nil {
			t.Fatalf("event %v from %q: MarshalJSON: %v", e, text, err)
		}
		back, ok := InputEventFromMessage(decodeText(data))
		if !ok || math.Float64bits(back.Timestamp) != math.Float64bits(e.Timestamp) ||
			back.Code != e.Code || back.State != e.State || back.Event != e.Event {
			t.Fatalf("event %v from %q encoded as %s, which decodes to %v, %v", e, text, data, back, ok)
		}
	})
}
