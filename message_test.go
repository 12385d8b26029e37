package rtcbot

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestDecodeText(t *testing.T) {
	tests := []struct {
		text string
		want any
	}{
		{`{"code": "BTN_SOUTH", "state": 1}`, map[string]any{"code": "BTN_SOUTH", "state": 1.0}},
		{`"a string"`, "a string"},
		{`[1, 2.5, null, true]`, []any{1.0, 2.5, nil, true}},
		{`not json`, "not json"},
		{``, ""},
		{`{"truncated": `, `{"truncated": `},
		{`"NaN"`, "NaN"}, // a string, not the number
		{`{"s": "x NaN Infinity"}`, map[string]any{"s": "x NaN Infinity"}}, // tokens inside strings stay
		{`NaNa`, "NaNa"}, // not a token: delivered raw
	}
	for _, tt := range tests {
		if got := decodeText([]byte(tt.text)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeText(%q) = %#v, want %#v", tt.text, got, tt.want)
		}
	}
	got := decodeText([]byte(`{"a": NaN, "b": [Infinity, -Infinity], "c": "\"NaN\\"}`)).(map[string]any)
	b := got["b"].([]any)
	if !math.IsNaN(got["a"].(float64)) || !math.IsInf(b[0].(float64), 1) || !math.IsInf(b[1].(float64), -1) || got["c"] != `"NaN\` {
		t.Errorf("Python's non-finite numbers: got %#v", got)
	}
}

func TestEncodeMessage(t *testing.T) {
	if data, binary, err := encodeMessage([]byte{1, 2}); err != nil || !binary || string(data) != "\x01\x02" {
		t.Errorf("[]byte: %q %v %v", data, binary, err)
	}
	if data, binary, err := encodeMessage("hi"); err != nil || binary || string(data) != `"hi"` {
		t.Errorf("string: %q %v %v", data, binary, err)
	}
	if _, _, err := encodeMessage(make([]byte, MaxMessageSize+1)); err == nil {
		t.Error("an oversized message: no error")
	}
	if _, _, err := encodeMessage(math.NaN()); err == nil {
		t.Error("NaN is not JSON: no error")
	}
}

// FuzzDecodeText checks that no received text makes decoding panic, and
// that text Go's JSON decoder accepts decodes to the same value.
func FuzzDecodeText(f *testing.F) {
	for _, seed := range []string{`{"x": NaN}`, `[Infinity, -Infinity]`, `"\"NaN"`, `not json`, `{"a": [1, {"b": null}]}`, `-Inf`, `"\\`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		got := decodeText(text)
		var strict any
		if json.Unmarshal(text, &strict) == nil && !reflect.DeepEqual(got, strict) {
			t.Fatalf("decodeText(%q) = %#v, want %#v", text, got, strict)
		}
	})
}
