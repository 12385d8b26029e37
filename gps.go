package rtcbot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"
)

// GPSFix is what a GPS receiver reports for one moment (one epoch: the
// sentences it sends each second, or each tenth of a second), from its GGA
// and RMC sentences. Its JSON form has lower-case keys, ready to put into
// a data channel.
type GPSFix struct {
	// Time is the moment of the fix, UTC, from the receiver's clock. Its
	// date comes from RMC sentences: until one has arrived, it is January
	// 1 of year 0 (a receiver that sends no RMC gives only the time of
	// day).
	Time time.Time `json:"time"`
	// Valid reports whether the receiver has a fix: GGA's quality is not 0
	// and RMC's status is A (for the sentences the epoch had). Without a
	// fix the position, altitude, speed and course are 0.
	Valid bool `json:"valid"`
	// Latitude and Longitude are in degrees, south and west negative.
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// Altitude is in metres above mean sea level (GGA).
	Altitude float64 `json:"altitude"`
	// Quality is GGA's fix quality: 0 no fix, 1 GPS, 2 differential GPS,
	// 4 RTK fixed, 5 RTK float, 6 dead reckoning.
	Quality int `json:"quality"`
	// Satellites is the number of satellites used (GGA).
	Satellites int `json:"satellites"`
	// HDOP is the horizontal dilution of precision (GGA): lower is better,
	// under 2 is good.
	HDOP float64 `json:"hdop"`
	// Speed is the speed over ground in metres per second (RMC gives it in
	// knots).
	Speed float64 `json:"speed"`
	// Course is the direction of travel in degrees from true north (RMC).
	Course float64 `json:"course"`
}

// GPSSettings configures a GPS receiver on a serial port, with RTCBot's
// defaults.
type GPSSettings struct {
	// Port is the receiver's serial port; default /dev/ttyACM0 (a USB
	// receiver such as a u-blox). One on a Raspberry Pi's pins is
	// /dev/serial0.
	Port string
	// Baud is the bit rate, default 115200 as in RTCBot; many receivers
	// run at 9600.
	Baud int
	// Logger receives the receiver's diagnostics; default slog.Default().
	Logger *slog.Logger
}

// maxNMEALine bounds a sentence; NMEA's limit is 82 bytes, and longer lines
// are noise.
const maxNMEALine = 256

// GPS is a GPS receiver sending NMEA 0183 sentences, RTCBot's GPS: a
// producer of a GPSFix for each epoch. Its subscriptions are queues.
//
// Receivers send a burst of sentences each epoch (GGA, GSA, GSV, RMC, ...);
// GPS reads the GGA and RMC ones and publishes a fix once it has every one
// of the two the receiver sends (the first epoch may give two fixes, the
// second with both). A line that is not a sentence, fails its checksum, or
// holds fields out of range is skipped and counted (Stats), never fatal.
//
// If reading fails (the receiver was unplugged), the error fires the error
// event and the GPS closes; a reader that ends (io.EOF, a recording) closes
// it without an error.
type GPS struct {
	fixSource
	log    *slog.Logger
	src    io.Reader
	closer io.Closer // src's, if it has one

	sentences, fixes, bad atomic.Uint64
	latest                atomic.Pointer[GPSFix]

	closing   chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

// NewGPS opens the receiver's serial port and starts reading it. A port
// that does not exist is an error wrapping os.ErrNotExist.
func NewGPS(s GPSSettings) (*GPS, error) {
	if s.Port == "" {
		s.Port = DefaultSerialPort
	}
	if s.Baud == 0 {
		s.Baud = DefaultSerialBaud
	}
	if s.Baud < 0 {
		return nil, fmt.Errorf("%w: GPS: negative Baud", ErrInvalidSettings)
	}
	p, err := serial.Open(s.Port, &serial.Mode{BaudRate: s.Baud})
	if err != nil {
		return nil, fmt.Errorf("rtcbot: GPS serial port %s: %w", s.Port, err)
	}
	return NewGPSFromReader(p, s), nil
}

// NewGPSFromReader reads NMEA sentences from r: a serial port opened
// otherwise, a network stream, a recording. If r is an io.Closer, the GPS
// closes it when it closes, which also stops a read in progress; a reader
// that is not one must end by itself (io.EOF) for Close to return.
// Reading starts at once, and a fix published before a subscription
// exists is not queued for it: to replay a recording from its start,
// subscribe before the reader gives its first bytes.
func NewGPSFromReader(r io.Reader, s GPSSettings) *GPS {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	g := &GPS{
		fixSource: newFixSource(NewProducer[GPSFix](func() Subscription[GPSFix] {
			return NewQueue[GPSFix](DefaultMessageQueueCapacity)
		})),
		log:     s.Logger,
		src:     r,
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	g.closer, _ = r.(io.Closer)
	go g.run()
	return g
}

func (g *GPS) run() {
	defer close(g.done)
	defer g.prod.Close()
	defer g.closeSource()
	err := g.read()
	select {
	case <-g.closing:
	default:
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("rtcbot: GPS: %w", err)
			g.log.Warn("rtcbot: GPS lost", "err", err)
			g.prod.SetError(err)
		}
	}
}

func (g *GPS) read() error {
	br := bufio.NewReaderSize(g.src, maxNMEALine)
	var ep gpsEpoch
	long := false // inside a line too long for the buffer
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !long {
				g.bad.Add(1)
			}
			long = true
			continue
		}
		if len(line) > 0 && !long {
			g.handle(&ep, string(line))
		}
		long = false
		if err != nil {
			return err
		}
	}
}

// handle parses one line and publishes the fix it completes, if any.
func (g *GPS) handle(ep *gpsEpoch, line string) {
	s, err := parseNMEA(line)
	if err != nil {
		g.bad.Add(1)
		g.log.Debug("rtcbot: GPS: line skipped", "err", err)
		return
	}
	g.sentences.Add(1)
	fixes, err := ep.add(s)
	if err != nil {
		g.bad.Add(1)
		g.log.Debug("rtcbot: GPS: sentence skipped", "err", err)
		return
	}
	for _, f := range fixes {
		g.fixes.Add(1)
		g.latest.Store(&f)
		g.prod.Publish(f)
		g.prod.SetReady()
	}
}

func (g *GPS) closeSource() {
	if g.closer != nil {
		g.closer.Close()
	}
}

// Latest returns the last fix published, and false if there was none yet
// (RTCBot's gps.latitude, longitude and altitude).
func (g *GPS) Latest() (GPSFix, bool) {
	if f := g.latest.Load(); f != nil {
		return *f, true
	}
	return GPSFix{}, false
}

// GPSStats counts what a GPS read.
type GPSStats struct {
	// Sentences is the number of sentences with a good checksum, of every
	// kind.
	Sentences uint64
	// Fixes is the number of fixes published.
	Fixes uint64
	// Bad is the number of lines skipped: not a sentence, a bad checksum,
	// too long, or a GGA or RMC with fields out of range.
	Bad uint64
}

// Stats returns the GPS's counts.
func (g *GPS) Stats() GPSStats {
	return GPSStats{Sentences: g.sentences.Load(), Fixes: g.fixes.Load(), Bad: g.bad.Load()}
}

// Close stops reading, closes the port (or the reader, if it is an
// io.Closer) and every subscription (readers get what is queued, then
// ErrClosed). It waits for the reading goroutine and is idempotent.
func (g *GPS) Close() error {
	g.closeOnce.Do(func() {
		close(g.closing)
		g.closeSource()
	})
	<-g.done
	return nil
}

// The sentences gpsEpoch combines.
const (
	epochGGA = 1 << iota
	epochRMC
)

// gpsEpoch gathers one epoch's GGA and RMC into a fix.
type gpsEpoch struct {
	kinds    int // the sentences this receiver sends, as seen so far
	have     int // those the current epoch has
	emitted  bool
	tod      time.Duration // the epoch's time of day
	hasTime  bool
	fix      GPSFix
	ggaFix   bool // GGA's quality says fix
	rmcValid bool // RMC's status is A

	year      int // the date of the last RMC
	month     time.Month
	day       int
	knownDate bool
}

// add takes one sentence and returns the fixes it completes: none, the
// epoch it completes, or the epoch before it, left incomplete (a sentence
// lost), then this one's.
func (e *gpsEpoch) add(s nmeaSentence) ([]GPSFix, error) {
	var kind int
	var tod time.Duration
	var hasTime bool
	var gga nmeaGGA
	var rmc nmeaRMC
	var err error
	switch s.kind {
	case "GGA":
		if gga, err = parseGGA(s); err != nil {
			return nil, err
		}
		kind, tod, hasTime = epochGGA, gga.timeOfDay, gga.hasTime
	case "RMC":
		if rmc, err = parseRMC(s); err != nil {
			return nil, err
		}
		kind, tod, hasTime = epochRMC, rmc.timeOfDay, rmc.hasTime
	default:
		return nil, nil // GSA, GSV, VTG, ...: not used
	}
	var out []GPSFix
	if e.have != 0 && (e.have&kind != 0 || tod != e.tod || hasTime != e.hasTime) {
		// A new epoch: the last one missed a sentence.
		if !e.emitted {
			out = append(out, e.result())
		}
		e.have, e.emitted = 0, false
	}
	if e.have == 0 {
		e.fix, e.ggaFix, e.rmcValid = GPSFix{}, false, false
		e.tod, e.hasTime = tod, hasTime
	}
	e.have |= kind
	e.kinds |= kind
	if kind == epochGGA {
		e.ggaFix = gga.quality > 0
		e.fix.Quality, e.fix.Satellites, e.fix.HDOP = gga.quality, gga.sats, gga.hdop
		if gga.hasPosition {
			e.fix.Latitude, e.fix.Longitude = gga.lat, gga.lon
			e.fix.Altitude = gga.altitude
		}
	} else {
		e.rmcValid = rmc.valid
		if rmc.hasPosition {
			e.fix.Latitude, e.fix.Longitude = rmc.lat, rmc.lon
		}
		e.fix.Speed, e.fix.Course = rmc.speed, rmc.course
		if rmc.hasDate {
			e.year, e.month, e.day, e.knownDate = rmc.year, rmc.month, rmc.day, true
		}
	}
	if e.have&e.kinds == e.kinds {
		out = append(out, e.result())
		e.emitted = true
	}
	return out, nil
}

// result is the fix the current epoch makes.
func (e *gpsEpoch) result() GPSFix {
	f := e.fix
	f.Valid = (e.have&epochGGA == 0 || e.ggaFix) && (e.have&epochRMC == 0 || e.rmcValid)
	if !f.Valid {
		f.Latitude, f.Longitude, f.Altitude, f.Speed, f.Course = 0, 0, 0, 0, 0
	}
	if e.knownDate {
		f.Time = time.Date(e.year, e.month, e.day, 0, 0, 0, 0, time.UTC).Add(e.tod)
	} else {
		f.Time = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(e.tod)
	}
	return f
}
