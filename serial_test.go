//go:build unix

package rtcbot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rtcbot-go/rtcbot/internal/ptytest"
)

// The serial tests run SerialConnection (and GPS) on a real
// pseudo-terminal: the connection opens the terminal's device as its
// serial port, at 115200 baud, and the test is the Arduino on the other
// side, the pty's master.

// ptyDevice is the device's side of a pseudo-terminal.
type ptyDevice struct {
	t    testing.TB
	m    *os.File // the master: what the Arduino sends and receives
	path string   // the slave, for SerialSettings.Port
}

// newPTY opens a pseudo-terminal pair (ptytest.Open) for the test.
func newPTY(t testing.TB) *ptyDevice {
	t.Helper()
	m, path := ptytest.Open(t)
	return &ptyDevice{t: t, m: m, path: path}
}

// write sends b from the device.
func (d *ptyDevice) write(b []byte) {
	d.t.Helper()
	if _, err := d.m.Write(b); err != nil {
		d.t.Fatalf("pty write: %v", err)
	}
}

// read reads exactly n bytes the connection sent.
func (d *ptyDevice) read(n int) []byte {
	d.t.Helper()
	b := make([]byte, n)
	d.m.SetReadDeadline(time.Now().Add(waitTime))
	if _, err := io.ReadFull(d.m, b); err != nil {
		d.t.Fatalf("pty read of %d bytes: %v (got %x)", n, err, b)
	}
	return b
}

// quiet checks that the connection sent nothing for a while.
func (d *ptyDevice) quiet(within time.Duration) {
	d.t.Helper()
	b := make([]byte, 64)
	d.m.SetReadDeadline(time.Now().Add(within))
	if n, err := d.m.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		d.t.Fatalf("the connection sent %x (%v), want nothing", b[:n], err)
	}
}

// openSerial opens a connection to d with s.
func openSerial(t testing.TB, d *ptyDevice, s SerialSettings) *SerialConnection {
	t.Helper()
	s.Port = d.path
	c, err := NewSerialConnection(s)
	if err != nil {
		t.Fatalf("NewSerialConnection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// motorSettings are those of RTCBot's Arduino tutorial, with a start
// byte: sensor records in, motor records out.
var motorSettings = SerialSettings{
	ReadFormat:  "<BH",
	ReadKeys:    []string{"sensorID", "measurement"},
	WriteFormat: "<hh",
	WriteKeys:   []string{"left", "right"},
	StartByte:   0xA5,
	Baud:        115200,
}

func sensor(id, measurement int64) map[string]any {
	return map[string]any{"sensorID": id, "measurement": measurement}
}

// Records the device sends arrive decoded; records Put arrive packed, each
// after its start byte.
func TestSerialRecordsRoundTrip(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	closedWithin(t, c.Ready(), "ready")
	sub := c.Subscribe()

	d.write([]byte{0xA5, 12, 123, 0, 0xA5, 13, 0xff, 0xff})
	if got := mustGet(t, sub); !reflect.DeepEqual(got, sensor(12, 123)) {
		t.Fatalf("got %#v", got)
	}
	if got := mustGet(t, sub); !reflect.DeepEqual(got, sensor(13, 65535)) {
		t.Fatalf("got %#v", got)
	}

	c.Put(map[string]any{"left": -23, "right": 1003})
	c.Put(struct {
		Left  int `serial:"left"`
		Right int `serial:"right"`
	}{100, -100})
	want := []byte{0xA5, 0xe9, 0xff, 0xeb, 0x03, 0xA5, 100, 0, 0x9c, 0xff}
	if got := d.read(len(want)); !bytes.Equal(got, want) {
		t.Fatalf("device got %x, want %x", got, want)
	}
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if s := c.Stats(); s.RecordsSent != 2 || s.RecordsReceived != 2 || s.RecordsDropped != 0 || s.BytesSkipped != 0 {
		t.Fatalf("stats %+v", s)
	}
	if c.Err() != nil {
		t.Fatalf("Err() = %v", c.Err())
	}
}

// Noise, a record cut short, and a record cut by the next one's start byte
// do not lose the good records that follow; neither does a record whose
// fields hold the start byte, the last one sent.
func TestSerialResynchronises(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	sub := c.Subscribe()
	var in []byte
	in = append(in, "boot\r\n"...)       // the sketch's greeting
	in = append(in, 0xA5, 1, 1, 0)       // good
	in = append(in, 0xA5, 2)             // cut short: the sketch reset
	in = append(in, 0xA5, 3, 3, 0)       // good
	in = append(in, 0x00, 0xff, 0x00)    // noise
	in = append(in, 0xA5, 4, 4)          // cut short, 3 of 4 bytes
	in = append(in, 0xA5, 5, 5, 0)       // good
	in = append(in, 0xA5, 0xA5, 0xA5, 0) // good, the start byte in both fields
	d.write(in)
	for _, want := range []map[string]any{sensor(1, 1), sensor(3, 3), sensor(5, 5), sensor(0xA5, 0xA5)} {
		if got := mustGet(t, sub); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if s := c.Stats(); s.RecordsReceived != 4 || s.RecordsDropped != 2 {
		t.Fatalf("stats %+v, want 4 received and 2 dropped", s)
	}
}

// Without a ReadFormat the connection reads lines; without a WriteFormat
// it sends strings and bytes as they are (RTCBot's default).
func TestSerialLines(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, SerialSettings{MaxLineLength: 16})
	sub := c.Subscribe()
	d.write([]byte("I received: H\r\nI received: e\nthis line is far too long\nok\n"))
	for _, want := range []string{"I received: H", "I received: e", "ok"} {
		if got := mustGet(t, sub); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if s := c.Stats(); s.RecordsDropped != 1 {
		t.Fatalf("stats %+v, want the long line dropped", s)
	}
	c.Put("Hello world!")
	c.Put([]byte{0, 1, 2})
	if got := d.read(15); string(got) != "Hello world!\x00\x01\x02" {
		t.Fatalf("device got %q", got)
	}
}

// Tuples in and out, with no start byte: records are every Size bytes.
func TestSerialTuplesWithoutStartByte(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, SerialSettings{ReadFormat: "<hB", WriteFormat: ">H?"})
	sub := c.Subscribe()
	d.write([]byte{0xe9, 0xff, 0x65, 1, 0})
	d.write([]byte{2})
	if got := mustGet(t, sub); !reflect.DeepEqual(got, tuple(-23, 101)) {
		t.Fatalf("got %#v", got)
	}
	if got := mustGet(t, sub); !reflect.DeepEqual(got, tuple(1, 2)) {
		t.Fatalf("got %#v", got)
	}
	c.Put([]any{258, true})
	if got := d.read(3); !bytes.Equal(got, []byte{1, 2, 1}) {
		t.Fatalf("device got %x", got)
	}
}

// A record that does not fit the format is not sent: the error event says
// why, and the records after it go.
func TestSerialBadRecordIsNotSent(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	failed := make(chan error, 1)
	c.OnError(func(err error) { failed <- err })
	c.Put(map[string]any{"left": 1})                  // no "right"
	c.Put(map[string]any{"left": 40000, "right": 0})  // out of range for h
	c.Put("a string")                                 // not a record
	c.Put(map[string]any{"left": 1.0, "right": -1.0}) // JSON numbers: fine
	if err := recv(t, failed); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), `missing key "right"`) {
		t.Fatalf("error %v, want ErrInvalidRecord naming the missing key", err)
	}
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	want := []byte{0xA5, 1, 0, 0xff, 0xff}
	if got := d.read(len(want)); !bytes.Equal(got, want) {
		t.Fatalf("device got %x, want only the good record %x", got, want)
	}
	d.quiet(50 * time.Millisecond)
	if s := c.Stats(); s.RecordsNotSent != 3 || s.RecordsSent != 1 {
		t.Fatalf("stats %+v, want 3 not sent, 1 sent", s)
	}
	notClosed(t, c.Done(), "connection after a bad record")
}

// PutSubscription sends what a source produces, as in RTCBot's tutorials.
func TestSerialPutSubscription(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	commands := NewQueue[any](4)
	c.PutSubscription(commands)
	commands.Put(map[string]any{"left": 1, "right": 2})
	if got := d.read(5); !bytes.Equal(got, []byte{0xA5, 1, 0, 2, 0}) {
		t.Fatalf("device got %x", got)
	}
	if c.Subscription() != Getter[any](commands) {
		t.Fatal("Subscription() is not the queue")
	}
}

// A port that goes away (the USB cable pulled out) closes the connection
// with an error; readers learn that the stream ended.
func TestSerialPortVanishes(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	sub := c.Subscribe()
	d.write([]byte{0xA5, 1, 2, 0})
	mustGet(t, sub)
	d.m.Close()
	closedWithin(t, c.Done(), "connection after its port vanished")
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), d.path) {
		t.Fatalf("Err() = %v, want the port's error", err)
	}
	wantClosed(t, sub)
	if err := c.Wait(testCtx(t)); err == nil {
		t.Fatal("Wait returned no error")
	}
	c.Put(map[string]any{"left": 1, "right": 1}) // after close: dropped
	if err := c.Close(); err != nil {
		t.Logf("Close after the port vanished: %v", err)
	}
}

// Close is idempotent, ends subscriptions, and leaves no goroutine
// (TestMain checks).
func TestSerialClose(t *testing.T) {
	d := newPTY(t)
	c := openSerial(t, d, motorSettings)
	sub := c.Subscribe()
	closed := make(chan struct{})
	c.OnClose(func() { close(closed) })
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	closedWithin(t, closed, "OnClose")
	wantClosed(t, sub)
	if c.Err() != nil {
		t.Fatalf("Err() after Close = %v, want nil", c.Err())
	}
	if _, err := c.Get(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	c.Put("dropped")
	if err := c.Flush(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v, want ErrClosed", err)
	}
}

// Flush waits for every record Put: here a hundred, which take 43 ms at
// 115200 baud, written while the device reads them.
func TestSerialFlush(t *testing.T) {
	d := newPTY(t)
	s := motorSettings
	s.QueueCapacity = 200
	c := openSerial(t, d, s)
	for i := range 100 {
		c.Put([]any{i, -i})
	}
	got := make(chan []byte, 1)
	go func() { got <- d.read(500) }()
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if st := c.Stats(); st.RecordsSent != 100 {
		t.Fatalf("after Flush, %d records sent, want 100", st.RecordsSent)
	}
	b := recv(t, got)
	if !bytes.Equal(b[495:], []byte{0xA5, 99, 0, 0x9d, 0xff}) {
		t.Fatalf("the last record is %x", b[495:])
	}
	// With nothing queued it returns at once; stopped by its context
	// while records wait for the write delay.
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	d2 := newPTY(t)
	slow := openSerial(t, d2, SerialSettings{WriteDelay: time.Hour})
	slow.Put("later")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := slow.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush of a record held back: %v", err)
	}
}

// WriteDelay holds records back until the sketch has started; the
// connection is ready when it ends.
func TestSerialWriteDelay(t *testing.T) {
	d := newPTY(t)
	start := time.Now()
	c := openSerial(t, d, SerialSettings{WriteDelay: 300 * time.Millisecond})
	c.Put("hi")
	if c.IsReady() {
		t.Fatal("ready before the write delay ended")
	}
	closedWithin(t, c.Ready(), "ready after the write delay")
	if got := d.read(2); string(got) != "hi" {
		t.Fatalf("device got %q", got)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Fatalf("sent after %v, before the write delay", elapsed)
	}
}

func TestSerialSettingsErrors(t *testing.T) {
	d := newPTY(t)
	for _, s := range []SerialSettings{
		{Baud: -1},
		{MaxLineLength: -1},
		{QueueCapacity: -1},
		{WriteDelay: -time.Second},
		{ReadKeys: []string{"a"}},
		{WriteKeys: []string{"a"}},
		{StartByte: 0xA5},
		{ReadFormat: "<hz"},
		{WriteFormat: "<h", WriteKeys: []string{"a", "b"}},
		{ReadFormat: "<0s"},
	} {
		s.Port = d.path
		if c, err := NewSerialConnection(s); !errors.Is(err, ErrInvalidSettings) {
			if c != nil {
				c.Close()
			}
			t.Errorf("NewSerialConnection(%+v) = %v, want ErrInvalidSettings", s, err)
		}
	}
	if _, err := NewSerialConnection(SerialSettings{Port: "/dev/rtcbot-no-such-port"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing port: %v, want os.ErrNotExist", err)
	}
	c := openSerial(t, d, SerialSettings{})
	if s := c.Settings(); s.Baud != 115200 || s.MaxLineLength != DefaultMaxLineLength || s.QueueCapacity != DefaultMessageQueueCapacity || s.Logger == nil {
		t.Fatalf("defaults: %+v", s)
	}
	if (SerialSettings{}).withDefaults().Port != "/dev/ttyACM0" {
		t.Fatal("default port")
	}
}
