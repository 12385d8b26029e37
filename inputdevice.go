package rtcbot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// inputWord is the size of a C long, the fields of struct timeval in a
// Linux struct input_event: 8 bytes on 64-bit platforms, 4 on 32-bit ones
// (a 32-bit Raspberry Pi OS).
const inputWord = strconv.IntSize / 8

// inputRecordSize is the size of a Linux struct input_event on this
// platform: struct timeval (two C longs: seconds, microseconds), then u16
// type, u16 code and s32 value; 24 bytes on 64-bit platforms.
const inputRecordSize = 2*inputWord + 8

// decodeInputRecord decodes one Linux struct input_event, laid out for a
// platform whose C long has word (8 or 4) bytes, in native byte order. The
// timestamp is the record's timeval; type and code become evdev names (see
// inputNames). A record of the wrong length is an error.
func decodeInputRecord(rec []byte, word int) (InputEvent, error) {
	if word != 4 && word != 8 {
		return InputEvent{}, fmt.Errorf("rtcbot: input event records have 4- or 8-byte words, not %d", word)
	}
	if size := 2*word + 8; len(rec) != size {
		return InputEvent{}, fmt.Errorf("rtcbot: input event record of %d bytes, want %d", len(rec), size)
	}
	var sec, usec int64
	if word == 8 {
		sec = int64(binary.NativeEndian.Uint64(rec[0:]))
		usec = int64(binary.NativeEndian.Uint64(rec[8:]))
	} else {
		sec = int64(int32(binary.NativeEndian.Uint32(rec[0:])))
		usec = int64(int32(binary.NativeEndian.Uint32(rec[4:])))
	}
	rest := rec[2*word:]
	typ := binary.NativeEndian.Uint16(rest[0:])
	code := binary.NativeEndian.Uint16(rest[2:])
	value := int32(binary.NativeEndian.Uint32(rest[4:]))
	event, name := inputNames(typ, code)
	return InputEvent{
		Timestamp: float64(sec) + float64(usec)/1e6,
		Code:      name,
		State:     int(value),
		Event:     event,
	}, nil
}

// inputRecordReader reads Linux input event records from any io.Reader (an
// evdev device, a pipe in tests) and decodes them.
type inputRecordReader struct {
	r    *bufio.Reader
	word int
	rec  []byte
}

// newInputRecordReader returns a reader of records laid out for a platform
// whose C long has word bytes (inputWord for this one).
func newInputRecordReader(r io.Reader, word int) *inputRecordReader {
	size := 2*word + 8
	return &inputRecordReader{r: bufio.NewReaderSize(r, 64*size), word: word, rec: make([]byte, size)}
}

// next returns the next event. At the end of the input it returns io.EOF
// when the input ended between records, and an error wrapping
// io.ErrUnexpectedEOF when it ended inside one.
func (rr *inputRecordReader) next() (InputEvent, error) {
	n, err := io.ReadFull(rr.r, rr.rec)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return InputEvent{}, fmt.Errorf("rtcbot: truncated input event record: %d of %d bytes: %w", n, len(rr.rec), err)
	}
	if err != nil {
		return InputEvent{}, err
	}
	return decodeInputRecord(rr.rec, rr.word)
}

// InputDeviceSettings configures an evdev input device (NewInputDevice,
// NewKeyboard, NewMouse).
type InputDeviceSettings struct {
	// Path is the device, such as /dev/input/event3 or a stable
	// /dev/input/by-id/...-event-kbd link. NewKeyboard and NewMouse pick the
	// first keyboard or mouse when it is empty; NewInputDevice requires it.
	Path string
	// Filter keeps the events it returns true for; nil means
	// DefaultInputFilter, which drops SYN_REPORT.
	Filter func(InputEvent) bool
}

// InputDevice is a Linux evdev input device (/dev/input/eventN) read as a
// producer of InputEvents in RTCBot's format, RTCBot's InputDevice: its
// subscriptions are queues, and every event the filter keeps reaches every
// subscription. Keyboard and Mouse are InputDevices that find their device
// themselves.
//
// If reading fails (the device was unplugged), the error is reported
// through Err and OnError and the device closes, so readers get ErrClosed.
// Close releases the device and stops its goroutine.
type InputDevice struct {
	inputSource
	name, path string

	src       io.ReadCloser
	closeSrc  sync.Once
	closeOnce sync.Once
	closing   chan struct{}
	done      chan struct{}
}

// NewInputDevice opens the evdev device at s.Path and starts reading it. A
// missing device is an error wrapping os.ErrNotExist; a file that is not an
// evdev device is an error too. Evdev is Linux's: elsewhere NewInputDevice
// returns an error wrapping errors.ErrUnsupported.
func NewInputDevice(s InputDeviceSettings) (*InputDevice, error) {
	if s.Path == "" {
		return nil, fmt.Errorf("rtcbot: input device: no path given: %w", os.ErrNotExist)
	}
	name, err := probeInputDevice(s.Path)
	if err != nil {
		return nil, err
	}
	return openInputDevice(s.Path, name, s.Filter)
}

// openInputDevice opens path for reading and starts an InputDevice on it.
func openInputDevice(path, name string, filter func(InputEvent) bool) (*InputDevice, error) {
	// A fresh file, never handed to evdev: evdev's ioctls call Fd, which
	// would make the file blocking, and Close could then no longer wake the
	// goroutine reading it.
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("rtcbot: input device: %w", err)
	}
	return newInputDevice(f, name, path, filter), nil
}

// newInputDevice starts an InputDevice reading records from src, which it
// closes when it closes.
func newInputDevice(src io.ReadCloser, name, path string, filter func(InputEvent) bool) *InputDevice {
	if filter == nil {
		filter = DefaultInputFilter
	}
	d := &InputDevice{
		inputSource: newInputSource(NewProducer[InputEvent](nil)),
		name:        name,
		path:        path,
		src:         src,
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
	}
	go d.run(filter)
	return d
}

func (d *InputDevice) run(filter func(InputEvent) bool) {
	defer close(d.done)
	defer d.prod.Close()
	defer d.closeSource()
	rr := newInputRecordReader(d.src, inputWord)
	d.prod.SetReady()
	for {
		e, err := rr.next()
		if err != nil {
			select {
			case <-d.closing: // Close closed the device under the reader
			default:
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("device ended: %w", err)
				}
				d.prod.SetError(fmt.Errorf("rtcbot: input device %s: %w", d.path, err))
			}
			return
		}
		if filter(e) {
			d.prod.Publish(e)
		}
	}
}

func (d *InputDevice) closeSource() { d.closeSrc.Do(func() { d.src.Close() }) }

// Name returns the device's name as the kernel reports it ("AT Translated
// Set 2 keyboard").
func (d *InputDevice) Name() string { return d.name }

// Path returns the device's path.
func (d *InputDevice) Path() string { return d.path }

// Close stops reading, releases the device and closes every subscription
// (readers get what is queued, then ErrClosed). It waits for the reading
// goroutine to end and is idempotent.
func (d *InputDevice) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
		d.closeSource()
	})
	<-d.done
	return nil
}

// openFoundInputDevice opens s.Path or, when it is empty, the first device
// of the kind ("keyboard" or "mouse") in /dev/input.
func openFoundInputDevice(s InputDeviceSettings, kind string) (*InputDevice, error) {
	if s.Path != "" {
		return NewInputDevice(s)
	}
	path, name, err := findInputDeviceKind(kind)
	if err != nil {
		return nil, err
	}
	return openInputDevice(path, name, s.Filter)
}
