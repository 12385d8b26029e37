package rtcbot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"
)

// SerialSettings configures a SerialConnection, with RTCBot's defaults. The
// zero value reads and writes lines on /dev/ttyACM0 at 115200 baud.
type SerialSettings struct {
	// Port is the serial port (RTCBot's url); default /dev/ttyACM0, an
	// Arduino Uno or Leonardo on USB. Boards with a USB serial chip (FTDI,
	// CH340) appear as /dev/ttyUSB0, a Raspberry Pi's own pins as
	// /dev/serial0; /dev/serial/by-id/... names stay the same from one
	// boot to the next.
	Port string
	// Baud is the bit rate (RTCBot's baudrate), default 115200; the
	// sketch's Serial.begin must use the same.
	Baud int

	// ReadFormat, if set, is the format of the records the device sends
	// (RTCBot's readFormat), a Python struct format string such as "<hB"
	// (see RecordFormat). Each record is published as a map[string]any
	// keyed by ReadKeys, or as a []any tuple without them. Without
	// ReadFormat the device sends lines: each is published as a string,
	// without its "\n" (and without a "\r" before it).
	ReadFormat string
	ReadKeys   []string
	// WriteFormat, if set, is the format of the records Put sends (RTCBot's
	// writeFormat): Put takes a map keyed by WriteKeys, a struct, or a
	// tuple (see RecordFormat.Encode). Without it Put takes strings and
	// []byte, sent as they are: end them with "\n" if the sketch reads
	// lines.
	WriteFormat string
	WriteKeys   []string

	// StartByte, if not 0, begins every record, both ways: on the wire a
	// record is StartByte followed by the format's fields, so that a
	// reader that lost its place (a sketch that restarted, a byte lost on
	// the line) finds the next record. Choose a value that fields rarely
	// hold, such as 0xA5. The reader scans for it and drops what does not
	// fit (see Stats); without it records are every ReadFormat-sized run
	// of bytes from the moment the port opened, and a single lost byte
	// shifts every later record. It frames records only: lines are framed
	// by their newlines. 0 means none (zeros are the commonest field bytes,
	// so 0x00 would be a poor start byte). RTCBot's startByte differs: it
	// is sent once, when the sketch starts.
	StartByte byte

	// MaxLineLength bounds the lines read without a ReadFormat; a longer
	// line is dropped (and counted in Stats). Default 4096 bytes.
	MaxLineLength int
	// WriteDelay holds back what is Put for this long after the port opens
	// (RTCBot's delayWriteStart): opening the port resets most Arduinos,
	// whose bootloader then runs for a second or two and loses what it
	// receives. The connection becomes ready when it ends. Default 0.
	WriteDelay time.Duration
	// QueueCapacity bounds each subscription to received records and the
	// queue of records Put waits in; a full queue drops its oldest record.
	// Default DefaultMessageQueueCapacity (64).
	QueueCapacity int
	// Logger receives the connection's diagnostics; default slog.Default().
	Logger *slog.Logger
}

// Defaults for SerialSettings.
const (
	DefaultSerialPort    = "/dev/ttyACM0"
	DefaultSerialBaud    = 115200
	DefaultMaxLineLength = 4096
)

// serialIdle is how long the port must stay quiet before an ambiguous
// record (one whose fields hold the start byte, see recordFramer) is taken
// as whole: longer than the gaps inside a record that USB serial adapters
// cause (an FTDI chip holds bytes for up to 16 ms).
const serialIdle = 30 * time.Millisecond

func (s SerialSettings) withDefaults() SerialSettings {
	if s.Port == "" {
		s.Port = DefaultSerialPort
	}
	if s.Baud == 0 {
		s.Baud = DefaultSerialBaud
	}
	if s.MaxLineLength == 0 {
		s.MaxLineLength = DefaultMaxLineLength
	}
	if s.QueueCapacity == 0 {
		s.QueueCapacity = DefaultMessageQueueCapacity
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s
}

// formats checks s and parses its record formats (nil for lines and for
// raw writes).
func (s SerialSettings) formats() (read, write *RecordFormat, err error) {
	bad := func(msg string) (*RecordFormat, *RecordFormat, error) {
		return nil, nil, fmt.Errorf("%w: serial connection: %s", ErrInvalidSettings, msg)
	}
	switch {
	case s.Baud < 0:
		return bad("negative Baud")
	case s.MaxLineLength < 0:
		return bad("negative MaxLineLength")
	case s.QueueCapacity < 0:
		return bad("negative QueueCapacity")
	case s.WriteDelay < 0:
		return bad("negative WriteDelay")
	case len(s.ReadKeys) > 0 && s.ReadFormat == "":
		return bad("ReadKeys without a ReadFormat")
	case len(s.WriteKeys) > 0 && s.WriteFormat == "":
		return bad("WriteKeys without a WriteFormat")
	case s.StartByte != 0 && s.ReadFormat == "" && s.WriteFormat == "":
		return bad("a StartByte frames records: it needs a ReadFormat or a WriteFormat")
	}
	parse := func(format string, keys []string) (*RecordFormat, error) {
		if format == "" {
			return nil, nil
		}
		f, err := ParseRecordFormat(format, keys...)
		if err == nil && f.Size() == 0 {
			err = fmt.Errorf("%w: record format %q has no bytes", ErrInvalidSettings, format)
		}
		return f, err
	}
	if read, err = parse(s.ReadFormat, s.ReadKeys); err != nil {
		return nil, nil, err
	}
	if write, err = parse(s.WriteFormat, s.WriteKeys); err != nil {
		return nil, nil, err
	}
	return read, write, nil
}

// serialPort is what SerialConnection needs of a port: a go.bug.st/serial
// Port.
type serialPort interface {
	io.ReadWriteCloser
	SetReadTimeout(time.Duration) error
}

// SerialConnection is a link to a microcontroller (an Arduino) on a serial
// port, RTCBot's SerialConnection: a producer of what the device sends and
// a consumer of what to send it.
//
// Without formats it carries text: each line the device sends is published
// as a string, and Put sends strings and []byte as they are. With a
// ReadFormat and a WriteFormat it carries fixed-size binary records, laid
// out like the sketch's packed C structs (see RecordFormat): received
// records are published as maps keyed by ReadKeys (RTCBot's dicts) or as
// []any tuples, and Put takes maps keyed by WriteKeys, structs or tuples.
// With a StartByte every record is preceded by it, both ways, so that
// either side finds its place again after noise, a lost byte or a reset
// (see SerialSettings.StartByte); records are dropped and counted
// (Stats), never delivered out of step.
//
// A record Put that does not fit WriteFormat (a missing key, 300 for a B)
// is not sent: its error fires the error event and is logged once. Put
// never blocks; records wait in a bounded queue (SerialSettings.QueueCapacity).
// Subscriptions are queues of the same capacity.
//
// The connection is ready once the port is open (and WriteDelay has passed).
// If the port fails (a USB cable pulled out), its error fires the error
// event and the connection closes: subscriptions end with ErrClosed. Close
// stops it, closes the port and waits for its goroutines.
type SerialConnection struct {
	recordLink
	events   *Events
	settings SerialSettings
	port     serialPort
	dec      serialDecoder
	write    *RecordFormat

	counts           serialCounts
	nSent, nNotSent  atomic.Uint64
	outQueue         atomic.Pointer[Queue[any]]
	puts, putsDone   atomic.Uint64 // records Put, and those send is done with
	fromPut          bool          // the item send has came from Put's queue (the consumer's goroutine)
	progress         chan struct{} // signalled when putsDone grows
	failures         warnOnce
	wbuf             []byte // the writer's buffer
	writable         chan struct{}
	delay            *time.Timer
	closing          chan struct{}
	stopOnce         sync.Once
	portErr          error
	done             chan struct{}
	readTimeoutIsSet bool
}

// NewSerialConnection opens the serial port of s (defaults filled in) and
// starts reading it. Settings out of range, or formats that do not parse,
// are errors wrapping ErrInvalidSettings; a port that does not exist is an
// error wrapping os.ErrNotExist.
func NewSerialConnection(s SerialSettings) (*SerialConnection, error) {
	s = s.withDefaults()
	if _, _, err := s.formats(); err != nil {
		return nil, err
	}
	p, err := serial.Open(s.Port, &serial.Mode{BaudRate: s.Baud})
	if err != nil {
		return nil, fmt.Errorf("rtcbot: serial port %s: %w", s.Port, err)
	}
	// Bytes that came before the port was opened are stale.
	p.ResetInputBuffer()
	return newSerialConnection(p, s)
}

// newSerialConnection starts a connection on an open port, which it closes
// when it closes.
func newSerialConnection(p serialPort, s SerialSettings) (*SerialConnection, error) {
	s = s.withDefaults()
	read, write, err := s.formats()
	if err != nil {
		p.Close()
		return nil, err
	}
	c := &SerialConnection{
		events:   NewEvents(),
		settings: s,
		port:     p,
		write:    write,
		writable: make(chan struct{}),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		progress: make(chan struct{}, 1),
	}
	switch {
	case read == nil:
		c.dec = &lineSplitter{max: s.MaxLineLength, counts: &c.counts}
	case s.StartByte != 0:
		c.dec = newRecordFramer(read, s.StartByte, &c.counts)
	default:
		c.dec = &recordSplitter{format: read, counts: &c.counts}
	}
	prod := NewProducer(func() Subscription[any] { return NewQueue[any](s.QueueCapacity) })
	cons := NewConsumer(c.send, func() Subscription[any] {
		q := NewQueue[any](s.QueueCapacity)
		c.outQueue.Store(q)
		return putQueue{q, c}
	})
	cons.OnError(c.events.SetError) // an input that failed
	c.recordLink = newRecordLink(c.events, prod, cons)
	if s.WriteDelay > 0 {
		c.delay = time.AfterFunc(s.WriteDelay, c.setWritable)
	} else {
		c.setWritable()
	}
	go c.run()
	return c, nil
}

func (c *SerialConnection) setWritable() {
	close(c.writable)
	c.events.SetReady()
}

// Settings returns the connection's settings, defaults filled in.
func (c *SerialConnection) Settings() SerialSettings { return c.settings }

// run is the reading goroutine: it decodes and publishes what the port
// delivers until the port fails or the connection is closed, then closes
// the connection.
func (c *SerialConnection) run() {
	defer close(c.done)
	err := c.read()
	select {
	case <-c.closing: // Close closed the port under the reader
	default:
		err = fmt.Errorf("rtcbot: serial port %s: %w", c.settings.Port, err)
		c.settings.Logger.Warn("rtcbot: serial connection lost", "port", c.settings.Port, "err", err)
		c.events.SetError(err)
	}
	c.stop()
	c.prod.Close()
	c.events.SetClosed()
}

func (c *SerialConnection) read() error {
	buf := make([]byte, 4096)
	emit := c.prod.Publish
	for {
		if wait := c.dec.waiting(); wait != c.readTimeoutIsSet {
			timeout := serial.NoTimeout
			if wait {
				timeout = serialIdle
			}
			if err := c.port.SetReadTimeout(timeout); err != nil {
				return err
			}
			c.readTimeoutIsSet = wait
		}
		n, err := c.port.Read(buf)
		if err != nil {
			return err
		}
		if n == 0 {
			c.dec.idle(emit) // the read timed out: the port was quiet
			continue
		}
		c.dec.feed(buf[:n], emit)
	}
}

// putQueue is the queue of the records Put: it tells send which records
// came from it, for Flush.
type putQueue struct {
	*Queue[any]
	c *SerialConnection
}

// Get is called on the consumer's goroutine, which hands the item to send
// next.
func (q putQueue) Get(ctx context.Context) (any, error) {
	item, err := q.Queue.Get(ctx)
	q.c.fromPut = err == nil
	return item, err
}

// Put sends item without blocking (RTCBot's put_nowait): a record for
// WriteFormat (a map keyed by WriteKeys, a struct or a tuple), or without
// one a string or []byte. It waits in a bounded queue (QueueCapacity: a
// full queue drops its oldest record) until the port takes it. Like
// RTCBot's put_nowait, it stops an active PutSubscription. A record that
// does not fit WriteFormat is not sent: the error event fires (see
// RecordFormat.Encode).
func (c *SerialConnection) Put(item any) {
	c.puts.Add(1)
	c.cons.Put(item)
}

// Flush waits until every record Put so far has been written to the port
// (or dropped: it did not fit, or the queue was full), or ctx ends, or the
// connection closes (ErrClosed). A program that must not lose its last
// records, such as the command that stops the motors, calls Flush before
// Close, which drops what is still queued. Records a PutSubscription source
// yields are not waited for; nor, until Put is called again, are records
// Put before a PutSubscription replaced them.
func (c *SerialConnection) Flush(ctx context.Context) error {
	target := c.puts.Load()
	for {
		done := c.putsDone.Load()
		if q := c.outQueue.Load(); q != nil {
			done += q.Dropped()
		}
		if done >= target {
			return nil
		}
		select {
		case <-c.progress:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.events.Done():
			return ErrClosed
		}
	}
}

// send is the consumer's handler: it encodes one item and writes it.
func (c *SerialConnection) send(item any) {
	if c.fromPut {
		c.fromPut = false
		defer func() {
			c.putsDone.Add(1)
			select {
			case c.progress <- struct{}{}:
			default:
			}
		}()
	}
	select {
	case <-c.writable:
	case <-c.closing:
		return
	}
	data, err := c.encode(item)
	if err != nil {
		c.fail(err)
		return
	}
	for len(data) > 0 {
		n, err := c.port.Write(data)
		if err == nil && n == 0 {
			err = io.ErrShortWrite
		}
		if err != nil {
			select {
			case <-c.closing:
			default:
				c.fail(fmt.Errorf("rtcbot: serial port %s: %w", c.settings.Port, err))
			}
			return
		}
		data = data[n:]
	}
	c.nSent.Add(1)
}

// encode makes the bytes that send writes for item.
func (c *SerialConnection) encode(item any) ([]byte, error) {
	if c.write == nil {
		switch v := item.(type) {
		case string:
			c.wbuf = append(c.wbuf[:0], v...)
			return c.wbuf, nil
		case []byte:
			return v, nil
		}
		return nil, fmt.Errorf("%w: serial connection without a WriteFormat: want a string or []byte, not %T", ErrInvalidRecord, item)
	}
	b := c.wbuf[:0]
	if c.settings.StartByte != 0 {
		b = append(b, c.settings.StartByte)
	}
	b, err := c.write.AppendEncode(b, item)
	if err != nil {
		return nil, err
	}
	c.wbuf = b
	return b, nil
}

// fail reports an item that could not be sent: counted, the error event,
// and a warning in the log the first time.
func (c *SerialConnection) fail(err error) {
	c.nNotSent.Add(1)
	c.failures.log(c.settings.Logger, "rtcbot: serial record not sent", "port", c.settings.Port, "err", err)
	c.events.SetError(err)
}

// SerialStats counts what a SerialConnection received and sent. In line
// mode the records are lines.
type SerialStats struct {
	// RecordsReceived is the number of records (or lines) published.
	RecordsReceived uint64
	// RecordsDropped is the number of incoming records that did not fit
	// (cut short: another start byte inside), and of lines over
	// MaxLineLength.
	RecordsDropped uint64
	// BytesSkipped is the number of bytes skipped looking for a start
	// byte: noise, and the rest of records cut short.
	BytesSkipped uint64
	// RecordsSent is the number of records (or strings) written.
	RecordsSent uint64
	// RecordsNotSent is the number of records Put that were not sent: they
	// did not fit WriteFormat, the port refused them, or they were dropped
	// from a full queue.
	RecordsNotSent uint64
}

// Stats returns the connection's counts.
func (c *SerialConnection) Stats() SerialStats {
	notSent := c.nNotSent.Load()
	if q := c.outQueue.Load(); q != nil {
		notSent += q.Dropped()
	}
	return SerialStats{
		RecordsReceived: c.counts.received.Load(),
		RecordsDropped:  c.counts.dropped.Load(),
		BytesSkipped:    c.counts.skipped.Load(),
		RecordsSent:     c.nSent.Load(),
		RecordsNotSent:  notSent,
	}
}

// stop stops writing and closes the port, once; the reader then ends.
func (c *SerialConnection) stop() {
	c.stopOnce.Do(func() {
		close(c.closing)
		if c.delay != nil {
			c.delay.Stop()
		}
		c.cons.Close() // waits for a write in progress
		c.portErr = c.port.Close()
	})
}

// Close stops the connection: what waits to be sent is dropped, the port
// is closed, subscriptions end with ErrClosed (once they are read empty)
// and the close event fires. It waits for the connection's goroutines and
// a write in progress, returns the port's Close error, and is idempotent.
func (c *SerialConnection) Close() error {
	c.stop()
	<-c.done
	return c.portErr
}
