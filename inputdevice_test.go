package rtcbot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Linux evdev event types and codes used by the tests.
const (
	evSyn, evKey, evRel, evAbs, evMsc   = 0x00, 0x01, 0x02, 0x03, 0x04
	codeKeyA, codeBtnLeft, codeBtnSouth = 30, 0x110, 0x130
	codeAbsX, codeAbsHat0X              = 0x00, 0x10
	codeRelX, codeRelY, codeRelWheel    = 0x00, 0x01, 0x08
	codeMscScan                         = 0x04
)

// inputRecord returns a Linux struct input_event for a platform whose C long
// has word bytes, in native byte order.
func inputRecord(word int, sec, usec int64, typ, code uint16, value int32) []byte {
	b := make([]byte, 0, 2*word+8)
	if word == 8 {
		b = binary.NativeEndian.AppendUint64(b, uint64(sec))
		b = binary.NativeEndian.AppendUint64(b, uint64(usec))
	} else {
		b = binary.NativeEndian.AppendUint32(b, uint32(sec))
		b = binary.NativeEndian.AppendUint32(b, uint32(usec))
	}
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, code)
	return binary.NativeEndian.AppendUint32(b, uint32(value))
}

// rec returns a record for this platform, stamped 1553379212.684861.
func rec(typ, code uint16, value int32) []byte {
	return inputRecord(inputWord, 1553379212, 684861, typ, code, value)
}

func TestInputRecordSize(t *testing.T) {
	// A C long is as wide as a Go int on every Linux port.
	if want := map[int]int{64: 24, 32: 16}[strconv.IntSize]; inputRecordSize != want {
		t.Errorf("inputRecordSize = %d, want %d on this platform", inputRecordSize, want)
	}
}

func TestDecodeInputRecord(t *testing.T) {
	tests := []struct {
		name            string
		typ, code       uint16
		value           int32
		event, wantCode string
		wantState       int
	}{
		{"key press", evKey, codeKeyA, 1, "Key", "KEY_A", 1},
		{"key release", evKey, codeKeyA, 0, "Key", "KEY_A", 0},
		{"key repeat", evKey, codeKeyA, 2, "Key", "KEY_A", 2},
		{"gamepad button", evKey, codeBtnSouth, 1, "Key", "BTN_SOUTH", 1},
		{"mouse button", evKey, codeBtnLeft, 1, "Key", "BTN_LEFT", 1},
		{"stick", evAbs, codeAbsX, -32768, "Absolute", "ABS_X", -32768},
		{"hat", evAbs, codeAbsHat0X, 1, "Absolute", "ABS_HAT0X", 1},
		{"mouse motion", evRel, codeRelX, -3, "Relative", "REL_X", -3},
		{"wheel", evRel, codeRelWheel, -1, "Relative", "REL_WHEEL", -1},
		{"sync", evSyn, 0, 0, "Sync", "SYN_REPORT", 0},
		{"scan code", evMsc, codeMscScan, 0x70004, "Misc", "MSC_SCAN", 0x70004},
		{"largest value", evAbs, codeAbsX, 1<<31 - 1, "Absolute", "ABS_X", 1<<31 - 1},
		{"unknown key", evKey, 0x2ff, 1, "Key", "KEY_UNKNOWN_0x2ff", 1},
		{"unknown axis", evAbs, 0x3e, 7, "Absolute", "ABS_UNKNOWN_0x3e", 7},
		{"unknown type", 0x1e, 5, 9, "Unknown", "UNKNOWN_0x1e_0x5", 9},
	}
	for _, tc := range tests {
		for _, word := range []int{8, 4} {
			e, err := decodeInputRecord(inputRecord(word, 1553379212, 684861, tc.typ, tc.code, tc.value), word)
			if err != nil {
				t.Fatalf("%s (word %d): %v", tc.name, word, err)
			}
			want := InputEvent{Timestamp: 1553379212.684861, Code: tc.wantCode, State: tc.wantState, Event: tc.event}
			if e != want {
				t.Errorf("%s (word %d) = %v, want %v", tc.name, word, e, want)
			}
		}
	}
}

func TestDecodeInputRecordTimestamp(t *testing.T) {
	e, err := decodeInputRecord(inputRecord(8, 1553379214, 144870, evKey, codeBtnSouth, 1), 8)
	if err != nil {
		t.Fatal(err)
	}
	// As Python's inputs package computes it: tv_sec + tv_usec / 1000000.
	if want := "{'timestamp': 1553379214.14487, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}"; e.String() != want {
		t.Errorf("String() = %s, want %s", e, want)
	}
}

func TestDecodeInputRecordWrongLength(t *testing.T) {
	for _, n := range []int{0, 1, 15, 23, 25, 48} {
		if e, err := decodeInputRecord(make([]byte, n), 8); err == nil {
			t.Errorf("decode of %d bytes = %v, want an error", n, e)
		}
	}
	if _, err := decodeInputRecord(make([]byte, 24), 3); err == nil {
		t.Error("decode with 3-byte words: want an error")
	}
}

func TestInputNames(t *testing.T) {
	tests := []struct {
		typ, code   uint16
		event, name string
	}{
		{0x00, 0x0, "Sync", "SYN_REPORT"},
		{0x00, 0x3, "Sync", "SYN_DROPPED"},
		{0x01, 0x100, "Key", "BTN_0"},
		{0x01, 0x110, "Key", "BTN_LEFT"},
		{0x01, 0x120, "Key", "BTN_TRIGGER"},
		{0x01, 0x130, "Key", "BTN_SOUTH"},
		{0x01, 0x133, "Key", "BTN_NORTH"},
		{0x01, 0x134, "Key", "BTN_WEST"},
		{0x01, 0x13e, "Key", "BTN_THUMBR"},
		{0x01, 0x2c0, "Key", "BTN_TRIGGER_HAPPY1"},
		{0x01, 57, "Key", "KEY_SPACE"},
		{0x01, 240, "Key", "KEY_UNKNOWN"}, // a real key's name
		{0x01, 0x2ff, "Key", "KEY_UNKNOWN_0x2ff"},
		{0x02, 0x08, "Relative", "REL_WHEEL"},
		{0x03, 0x05, "Absolute", "ABS_RZ"},
		{0x03, 0x11, "Absolute", "ABS_HAT0Y"},
		{0x03, 0x3f, "Absolute", "ABS_UNKNOWN_0x3f"},
		{0x04, 0x04, "Misc", "MSC_SCAN"},
		{0x05, 0x00, "Switch", "SW_LID"},
		{0x11, 0x01, "LED", "LED_CAPSL"},
		{0x14, 0x00, "Repeat", "REP_DELAY"},
		{0x15, 0x50, "ForceFeedback", "FF_UNKNOWN_0x50"},
		{0x1e, 0x05, "Unknown", "UNKNOWN_0x1e_0x5"},
	}
	for _, tc := range tests {
		event, name := inputNames(tc.typ, tc.code)
		if event != tc.event || name != tc.name {
			t.Errorf("inputNames(%#x, %#x) = %s, %s; want %s, %s", tc.typ, tc.code, event, name, tc.event, tc.name)
		}
	}
}

// pipeDevice returns an InputDevice reading the read end of a pipe, and the
// write end.
func pipeDevice(t *testing.T, filter func(InputEvent) bool) (*InputDevice, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d := newInputDevice(r, "test pipe", "pipe", filter)
	t.Cleanup(func() {
		w.Close()
		d.Close()
	})
	return d, w
}

// writeRecords writes records to w in one write.
func writeRecords(t *testing.T, w io.Writer, records ...[]byte) {
	t.Helper()
	if _, err := w.Write(bytes.Join(records, nil)); err != nil {
		t.Fatal(err)
	}
}

// readEvents reads n events from g.
func readEvents(t *testing.T, g Getter[InputEvent], n int) []InputEvent {
	t.Helper()
	events := make([]InputEvent, n)
	for i := range events {
		events[i] = mustGet(t, g)
	}
	return events
}

// codes returns "CODE=state" for each event, for comparisons.
func codes(events []InputEvent) string {
	var parts []string
	for _, e := range events {
		parts = append(parts, e.Event+":"+e.Code+"="+strconv.Itoa(e.State))
	}
	return strings.Join(parts, " ")
}

func TestInputDeviceReadsRecordsFromPipe(t *testing.T) {
	tests := []struct {
		name    string
		filter  func(InputEvent) bool
		records [][]byte
		want    string
	}{
		{
			name: "default filter drops SYN_REPORT",
			records: [][]byte{
				rec(evMsc, codeMscScan, 0x70004), rec(evKey, codeKeyA, 1), rec(evSyn, 0, 0),
				rec(evKey, codeKeyA, 2), rec(evSyn, 0, 0),
				rec(evKey, codeKeyA, 0), rec(evSyn, 0, 0),
				rec(evAbs, codeAbsX, -1240), rec(evRel, codeRelX, 5), rec(evSyn, 0, 0),
				rec(evKey, 0x2ff, 1),
			},
			want: "Misc:MSC_SCAN=458756 Key:KEY_A=1 Key:KEY_A=2 Key:KEY_A=0 Absolute:ABS_X=-1240 Relative:REL_X=5 Key:KEY_UNKNOWN_0x2ff=1",
		},
		{
			name:    "a custom filter keeps SYN_REPORT",
			filter:  func(InputEvent) bool { return true },
			records: [][]byte{rec(evKey, codeKeyA, 1), rec(evSyn, 0, 0), rec(evKey, codeKeyA, 0), rec(evSyn, 0, 0)},
			want:    "Key:KEY_A=1 Sync:SYN_REPORT=0 Key:KEY_A=0 Sync:SYN_REPORT=0",
		},
		{
			name:    "a custom filter keeps only keys",
			filter:  func(e InputEvent) bool { return e.Event == InputKey },
			records: [][]byte{rec(evMsc, codeMscScan, 4), rec(evKey, codeKeyA, 1), rec(evSyn, 0, 0), rec(evRel, codeRelX, 1), rec(evKey, codeKeyA, 0)},
			want:    "Key:KEY_A=1 Key:KEY_A=0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, w := pipeDevice(t, tc.filter)
			sub := d.Subscribe()
			writeRecords(t, w, tc.records...)
			w.Close() // the device ends after the records: nothing more arrives
			var got []InputEvent
			for {
				e, err := sub.Get(testCtx(t))
				if errors.Is(err, ErrClosed) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if e.Timestamp != 1553379212.684861 {
					t.Errorf("timestamp %v, want the record's 1553379212.684861", e.Timestamp)
				}
				got = append(got, e)
			}
			if codes(got) != tc.want {
				t.Errorf("events:\n got %s\nwant %s", codes(got), tc.want)
			}
		})
	}
}

func TestInputDeviceTruncatedRecordIsAnError(t *testing.T) {
	d, w := pipeDevice(t, nil)
	sub := d.Subscribe()
	full := rec(evKey, codeKeyA, 1)
	writeRecords(t, w, full, full[:10])
	w.Close()
	if e := mustGet(t, sub); e.Code != "KEY_A" || e.State != 1 {
		t.Errorf("first event = %v, want KEY_A pressed", e)
	}
	wantClosed(t, sub)
	closedWithin(t, d.Done(), "device")
	err := d.Err()
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Err() = %v, want a truncated-record error wrapping io.ErrUnexpectedEOF", err)
	}
}

func TestInputDeviceEndIsAnError(t *testing.T) {
	d, w := pipeDevice(t, nil)
	sub := d.Subscribe()
	var reported error
	got := make(chan struct{})
	d.OnError(func(err error) { reported = err; close(got) })
	w.Close() // as if unplugged
	wantClosed(t, sub)
	recv(t, got)
	if !errors.Is(reported, io.EOF) || !errors.Is(d.Err(), io.EOF) {
		t.Errorf("reported %v, Err() %v; want errors wrapping io.EOF", reported, d.Err())
	}
}

func TestInputDeviceCloseWhileReading(t *testing.T) {
	d, w := pipeDevice(t, nil)
	sub := d.Subscribe()
	readyOrFail(t, d)
	d.Close() // the reader is blocked in Read: Close must wake it
	wantClosed(t, sub)
	if err := d.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := w.Write(rec(evKey, codeKeyA, 1)); err == nil {
		t.Error("write after Close succeeded: the device's end of the pipe is still open")
	}
	if d.Name() != "test pipe" || d.Path() != "pipe" {
		t.Errorf("Name, Path = %q, %q", d.Name(), d.Path())
	}
}

// readyOrFail waits for e's ready event.
func readyOrFail(t *testing.T, e interface{ Ready() <-chan struct{} }) {
	t.Helper()
	closedWithin(t, e.Ready(), "ready")
}

// FuzzDecodeRecord checks that decoding never panics, that exactly the
// records of the right size decode, and that a stream of bytes decodes into
// one event per whole record and ends with io.EOF or a truncation error.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(inputRecord(8, 1553379212, 684861, evKey, codeKeyA, 1))
	f.Add(inputRecord(4, 1553379212, 684861, evAbs, codeAbsX, -32768))
	f.Add(inputRecord(8, -1, -1, 0xffff, 0xffff, -1))
	f.Add(append(inputRecord(8, 0, 0, evSyn, 0, 0), 1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, word := range []int{8, 4} {
			size := 2*word + 8
			e, err := decodeInputRecord(data, word)
			if (err == nil) != (len(data) == size) {
				t.Fatalf("word %d, %d bytes: err = %v", word, len(data), err)
			}
			if err == nil {
				value := int32(binary.NativeEndian.Uint32(data[size-4:]))
				if e.State != int(value) || e.Code == "" || e.Event == "" {
					t.Fatalf("decoded %v from %x", e, data)
				}
			}
			rr := newInputRecordReader(bytes.NewReader(data), word)
			n := 0
			for {
				_, err := rr.next()
				if err != nil {
					if len(data)%size == 0 && err != io.EOF {
						t.Fatalf("stream of %d bytes ended with %v, want io.EOF", len(data), err)
					}
					if len(data)%size != 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("stream of %d bytes ended with %v, want a truncation", len(data), err)
					}
					break
				}
				n++
			}
			if n != len(data)/size {
				t.Fatalf("stream of %d bytes gave %d events, want %d", len(data), n, len(data)/size)
			}
		}
	})
}
