package rtcbot

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// recordCases are formats, values and the bytes Python's struct.pack makes
// of them (python3 -c 'import struct; print(struct.pack(fmt, *values).hex())'),
// with the values Decode gives back.
var recordCases = []struct {
	format string
	values []any
	hex    string
	back   []any // nil: the same as values
}{
	{"<b", []any{-128}, "80", []any{int64(-128)}},
	{"<b", []any{127}, "7f", []any{int64(127)}},
	{"<B", []any{255}, "ff", []any{int64(255)}},
	{"<?", []any{true}, "01", nil},
	{"<?", []any{false}, "00", nil},
	{"<h", []any{-32768}, "0080", []any{int64(-32768)}},
	{">h", []any{-2}, "fffe", []any{int64(-2)}},
	{"<H", []any{65535}, "ffff", []any{int64(65535)}},
	{"!H", []any{0x1234}, "1234", []any{int64(0x1234)}},
	{"<i", []any{int64(math.MinInt32)}, "00000080", nil},
	{">i", []any{-123456789}, "f8a432eb", []any{int64(-123456789)}},
	{"<I", []any{uint32(math.MaxUint32)}, "ffffffff", []any{int64(math.MaxUint32)}},
	{">I", []any{0xdeadbeef}, "deadbeef", []any{int64(0xdeadbeef)}},
	{"<l", []any{-5}, "fbffffff", []any{int64(-5)}},
	{">L", []any{7}, "00000007", []any{int64(7)}},
	{"<q", []any{int64(math.MinInt64)}, "0000000000000080", nil},
	{">q", []any{1}, "0000000000000001", []any{int64(1)}},
	{"<Q", []any{uint64(math.MaxUint64)}, "ffffffffffffffff", nil},
	{">Q", []any{uint64(0x0102030405060708)}, "0102030405060708", nil},
	{"<f", []any{1.5}, "0000c03f", nil},
	{">f", []any{-0.1}, "bdcccccd", []any{float64(float32(-0.1))}},
	{"<d", []any{math.Pi}, "182d4454fb210940", nil},
	{">d", []any{-2.5e-300}, "81bac9a7b3b7302f", nil},
	{"<c", []any{"A"}, "41", []any{[]byte("A")}},
	{"<5s", []any{"abc"}, "6162630000", []any{[]byte("abc\x00\x00")}},
	{"<0s", []any{[]byte{}}, "", nil},
	{"<3h", []any{1, -2, 3}, "0100feff0300", []any{int64(1), int64(-2), int64(3)}},
	{"<hxB", []any{-1, 2}, "ffff0002", []any{int64(-1), int64(2)}},
	{"<2x?", []any{true}, "000001", nil},
	{"=Bh", []any{1, -1}, "01ffff", []any{int64(1), int64(-1)}},
	// @ and no prefix are little-endian without padding here (Python
	// would pad "@Bh" to 4 bytes): an Arduino's packed struct.
	{"@Bh", []any{1, -1}, "01ffff", []any{int64(1), int64(-1)}},
	{"Bh", []any{1, -1}, "01ffff", []any{int64(1), int64(-1)}},
	{">BHIq?fd3s", []any{1, 2, 3, -4, true, 0.25, -0.5, "xyz"},
		"01000200000003fffffffffffffffc013e800000bfe000000000000078797a",
		[]any{int64(1), int64(2), int64(3), int64(-4), true, 0.25, -0.5, []byte("xyz")}},
	{"> h B ?", []any{-300, 200, false}, "fed4c800", []any{int64(-300), int64(200), false}},
	// The formats of RTCBot's Arduino tutorial.
	{"<hB", []any{-23, 101}, "e9ff65", []any{int64(-23), int64(101)}},
	{"<HB", []any{1003, 2}, "eb0302", []any{int64(1003), int64(2)}},
	{"<BH", []any{12, 123}, "0c7b00", []any{int64(12), int64(123)}},
}

func TestRecordFormatBytes(t *testing.T) {
	for _, c := range recordCases {
		f, err := ParseRecordFormat(c.format)
		if err != nil {
			t.Fatalf("%q: %v", c.format, err)
		}
		got, err := f.Encode(c.values)
		if err != nil {
			t.Fatalf("%q: Encode(%v): %v", c.format, c.values, err)
		}
		if hex.EncodeToString(got) != c.hex || f.Size() != len(got) {
			t.Errorf("%q: Encode(%v) = %x (size %d), want %s", c.format, c.values, got, f.Size(), c.hex)
		}
		back, err := f.Decode(got)
		if err != nil {
			t.Fatalf("%q: Decode(%x): %v", c.format, got, err)
		}
		want := c.back
		if want == nil {
			want = c.values
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%q: Decode(%x) = %#v, want %#v", c.format, got, back, want)
		}
	}
}

// Every format character, in both byte orders, with random values, packs
// to the bytes Python's struct module makes.
func TestRecordFormatMatchesPython(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type pyCase struct {
		Format string `json:"format"`
		Values []any  `json:"values"` // bytes as {"hex": ...}
		Got    string `json:"got"`
	}
	var cases []pyCase
	for _, order := range []string{"<", ">", "!", "="} {
		for range 20 {
			format := order
			values, pyValues := []any{}, []any{}
			for range 1 + rng.IntN(6) {
				count := 1 + rng.IntN(3)
				code := "xcbB?hHiIlLqQfds"[rng.IntN(16)]
				if code == 's' {
					format += fmt.Sprintf("%ds", count)
					b := make([]byte, rng.IntN(count+1))
					for i := range b {
						b[i] = byte(rng.IntN(256))
					}
					values, pyValues = append(values, b), append(pyValues, map[string]string{"hex": hex.EncodeToString(b)})
					continue
				}
				format += fmt.Sprintf("%d%c", count, code)
				for range count {
					var v, py any
					switch code {
					case 'x':
						continue
					case 'c':
						b := []byte{byte(rng.IntN(256))}
						v, py = b, map[string]string{"hex": hex.EncodeToString(b)}
					case '?':
						v = rng.IntN(2) == 1
					case 'f':
						v = float64(float32(rng.NormFloat64() * 1000))
					case 'd':
						v = rng.NormFloat64() * 1e6
					default:
						bits := map[byte]int{'b': 8, 'B': 8, 'h': 16, 'H': 16, 'i': 32, 'I': 32, 'l': 32, 'L': 32, 'q': 64, 'Q': 64}[code]
						u := rng.Uint64() >> (64 - bits)
						if code >= 'a' { // signed
							v = int64(u<<(64-bits)) >> (64 - bits)
						} else if bits == 64 {
							v = u
						} else {
							v = int64(u)
						}
					}
					if py == nil {
						py = v
					}
					values, pyValues = append(values, v), append(pyValues, py)
				}
			}
			f, err := ParseRecordFormat(format)
			if err != nil {
				t.Fatalf("%q: %v", format, err)
			}
			got, err := f.Encode(values)
			if err != nil {
				t.Fatalf("%q: Encode(%v): %v", format, values, err)
			}
			cases = append(cases, pyCase{Format: format, Values: pyValues, Got: hex.EncodeToString(got)})
		}
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import json, struct, sys
for c in json.load(sys.stdin):
    values = [bytes.fromhex(v["hex"]) if isinstance(v, dict) else v for v in c["values"]]
    want = struct.pack(c["format"], *values).hex()
    if want != c["got"]:
        print("%s %r: Go %s, Python %s" % (c["format"], values, c["got"], want))
`
	cmd := exec.Command(interopPython, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v (install python3)\n%s", interopPython, err, out)
	}
	if len(out) > 0 {
		t.Fatalf("Go and Python pack differently:\n%s", out)
	}
	t.Logf("%d formats agree with Python", len(cases))
}

func TestRecordFormatParseErrors(t *testing.T) {
	for _, c := range []struct {
		format string
		keys   []string
		want   string
	}{
		{"<hz", nil, "unsupported format character 'z'"},
		{"h<", nil, "must come first"},
		{"<3", nil, "without a format character"},
		{"<3 h", nil, "whitespace between a repeat count"},
		{"<99999999999999999999h", nil, "too large"},
		{"<70000x", nil, "at most 65535 bytes"},
		{"<40000h", nil, "at most 65535 bytes"},
		{"<70000s", nil, "at most 65535 bytes"},
		{"<e", nil, "unsupported"},
		{"<hB", []string{"a"}, "1 keys for 2 values"},
		{"<hB", []string{"a", "a"}, "repeated"},
		{"<hB", []string{"a", ""}, "empty"},
	} {
		_, err := ParseRecordFormat(c.format, c.keys...)
		if !errors.Is(err, ErrInvalidSettings) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRecordFormat(%q, %q) = %v, want ErrInvalidSettings saying %q", c.format, c.keys, err, c.want)
		}
	}
	if f, err := ParseRecordFormat("<2x3s", "name"); err != nil || f.Size() != 5 || !reflect.DeepEqual(f.Keys(), []string{"name"}) || f.String() != "<2x3s" {
		t.Fatalf("ParseRecordFormat(<2x3s) = %v, %v", f, err)
	}
}

func TestRecordFormatEncodeErrors(t *testing.T) {
	keyed, err := ParseRecordFormat("<hBc3sf?", "speed", "light", "cmd", "name", "gain", "on")
	if err != nil {
		t.Fatal(err)
	}
	good := func() map[string]any {
		return map[string]any{"speed": -23, "light": 101, "cmd": "F", "name": "ab", "gain": 0.5, "on": true}
	}
	if _, err := keyed.Encode(good()); err != nil {
		t.Fatalf("good record: %v", err)
	}
	for _, c := range []struct {
		key   string
		value any
		want  string
	}{
		{"light", 300, `field "light" (B): 300 is out of range 0..255`},
		{"light", -1, `field "light" (B): -1 is out of range 0..255`},
		{"speed", 32768, `field "speed" (h): 32768 is out of range -32768..32767`},
		{"speed", 1.5, `field "speed" (h): 1.5 is not an integer`},
		{"speed", math.NaN(), `not an integer`},
		{"speed", "fast", `field "speed" (h): want an integer, not string`},
		{"speed", nil, `field "speed" (h): no value`},
		{"cmd", "FB", `field "cmd" (c): want one byte, not 2`},
		{"cmd", 70, `field "cmd" (c): want a string or []byte, not int`},
		{"name", "abcd", `field "name" (s): 4 bytes do not fit in 3`},
		{"gain", 1e39, `field "gain" (f): 1e+39 is out of range for a float32`},
		{"gain", "x", `want a number`},
		{"on", "yes", `field "on" (?): want a bool, not string`},
		{"speed", json.Number("1e9"), `out of range`},
	} {
		m := good()
		m[c.key] = c.value
		b, err := keyed.Encode(m)
		if !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), c.want) || b != nil {
			t.Errorf("%s = %v: Encode = %x, %v; want ErrInvalidRecord saying %q", c.key, c.value, b, err, c.want)
		}
	}
	m := good()
	delete(m, "gain")
	if _, err := keyed.Encode(m); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), `missing key "gain"`) {
		t.Errorf("missing key: %v", err)
	}
	for _, v := range []any{nil, 5, "text", []any{1, 2}, map[int]any{1: 2}} {
		if _, err := keyed.Encode(v); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("Encode(%#v) = %v, want ErrInvalidRecord", v, err)
		}
	}
	tuple, _ := ParseRecordFormat("<hB")
	if _, err := tuple.Encode(map[string]any{"a": 1}); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "needs the format's keys") {
		t.Errorf("map without keys: %v", err)
	}
	if _, err := tuple.Encode([]int{1, 2, 3}); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "3 values for 2 fields") {
		t.Errorf("long tuple: %v", err)
	}
	if _, err := tuple.Decode([]byte{1, 2}); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("short data: %v", err)
	}
	dst := []byte{0xA5}
	if out, err := tuple.AppendEncode(dst, []any{1, 256}); err == nil || len(out) != 1 {
		t.Errorf("AppendEncode of a bad record = %x, %v; want dst unchanged and an error", out, err)
	}
}

// Records come as RTCBot's dicts from a data channel: JSON numbers are
// float64, or json.Number; integers of any Go type, bools and pointers
// work too.
func TestRecordFormatValueTypes(t *testing.T) {
	f, err := ParseRecordFormat("<hBQ", "left", "right", "big")
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]any
	json.Unmarshal([]byte(`{"left": -23, "right": 101, "big": 18446744073709551615, "other": "ignored"}`), &fromJSON)
	// float64(math.MaxUint64) is 2^64, out of range: JSON numbers that
	// big need json.Number.
	if _, err := f.Encode(fromJSON); err == nil {
		t.Fatal("2^64 as a float64 encoded into Q")
	}
	fromJSON["big"] = 7.0
	want := "e9ff650700000000000000"
	for _, v := range []any{
		fromJSON,
		map[string]any{"left": json.Number("-23"), "right": json.Number("101"), "big": json.Number("7")},
		map[string]int{"left": -23, "right": 101, "big": 7},
		&map[string]any{"left": int8(-23), "right": uint8(101), "big": uint64(7)},
		[]any{-23.0, uint16(101), 7}, // keys do not stop a tuple
	} {
		got, err := f.Encode(v)
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("Encode(%v) = %x, %v; want %s", v, got, err, want)
		}
	}
	if got, _ := f.Encode([]any{0, true, json.Number("18446744073709551615")}); hex.EncodeToString(got) != "000001ffffffffffffffff" {
		t.Errorf("bool and big json.Number: %x", got)
	}
}

// Structs: fields by tag or name with keys, in order without.
func TestRecordFormatStructs(t *testing.T) {
	type motors struct {
		Left     int16  `serial:"left"`
		Right    int    // matched by name, case-insensitively
		Debug    string `serial:"-"`
		internal int
	}
	keyed, _ := ParseRecordFormat("<hh", "left", "right")
	got, err := keyed.Encode(motors{Left: -1, Right: 2, Debug: "x"})
	if err != nil || hex.EncodeToString(got) != "ffff0200" {
		t.Fatalf("keyed struct: %x, %v", got, err)
	}
	if got, err := keyed.Encode(&motors{Left: 1, Right: 1}); err != nil || hex.EncodeToString(got) != "01000100" {
		t.Fatalf("pointer to struct: %x, %v", got, err)
	}
	type wrong struct{ Left int }
	if _, err := keyed.Encode(wrong{}); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), `no field for key "right"`) {
		t.Fatalf("struct without a key's field: %v", err)
	}
	tuple, _ := ParseRecordFormat("<hh")
	if got, err := tuple.Encode(motors{Left: 3, Right: -3, internal: 9}); err != nil || hex.EncodeToString(got) != "0300fdff" {
		t.Fatalf("struct in order: %x, %v", got, err)
	}
	if _, err := tuple.Encode(struct{ A, B, C int }{}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("struct of 3 fields for 2 values: %v", err)
	}
	// Decoded records turn into structs with DecodeMessage.
	rec, _ := keyed.Decode([]byte{0xff, 0xff, 2, 0})
	m, err := DecodeMessage[motors](rec)
	if err != nil || m.Left != -1 || m.Right != 2 {
		t.Fatalf("DecodeMessage(%v) = %+v, %v", rec, m, err)
	}
}

// FuzzRecordFormat checks that parsing any format and decoding any bytes
// never panics, that exactly the data of the format's size decodes, and
// that a decoded record encodes back to bytes that decode to the same
// record (pad bytes become zeros, true bools ones).
func FuzzRecordFormat(f *testing.F) {
	f.Add("<hB", []byte{0xe9, 0xff, 0x65})
	f.Add(">BHIq?fd3s", bytes.Repeat([]byte{0xff}, 31))
	f.Add("<2x?c0s", []byte{1, 2, 3, 4})
	f.Add("= 3h 2f", make([]byte, 14))
	f.Add("!Qd", []byte("0123456789abcdef"))
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		rf, err := ParseRecordFormat(format)
		if err != nil {
			if !errors.Is(err, ErrInvalidSettings) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidSettings", format, err)
			}
			return
		}
		rec, err := rf.Decode(data)
		if (err == nil) != (len(data) == rf.Size()) {
			t.Fatalf("%q (%d bytes), %d bytes of data: err = %v", format, rf.Size(), len(data), err)
		}
		if err != nil {
			if len(data) < rf.Size() {
				return
			}
			data = data[:rf.Size()]
			if rec, err = rf.Decode(data); err != nil {
				t.Fatal(err)
			}
		}
		again, err := rf.Encode(rec)
		if err != nil {
			t.Fatalf("%q: decoded %v from %x, which does not encode: %v", format, rec, data, err)
		}
		rec2, err := rf.Decode(again)
		if err != nil {
			t.Fatal(err)
		}
		third, err := rf.Encode(rec2)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("%q: %x decodes to %v, encodes to %x, then %x (%v)", format, data, rec, again, third, err)
		}
	})
}
