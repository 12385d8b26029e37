package rtcbot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gpsCapture is a synthetic u-blox 6 capture (see testdata/gps/README.md):
// 3 seconds cold, 2 with the time but no fix, 15 with a fix.
const gpsCapture = "testdata/gps/ublox6.nmea"

// gpsEpochLines is one second of a fix from the capture.
const gpsEpochLines = "$GPRMC,103020.00,A,4656.88383,N,00726.84727,E,2.333,45.00,170526,,,A*5D\r\n" +
	"$GPVTG,45.00,T,,M,2.333,N,4.320,K,A*08\r\n" +
	"$GPGGA,103020.00,4656.88383,N,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,*5E\r\n" +
	"$GPGSA,A,3,05,13,15,20,29,02,07,30,,,,,2.10,0.98,1.80*05\r\n"

// heldReader holds reads of r until open is closed, so that a test can
// subscribe before a GPS reads a recording that would otherwise be over
// before the subscription existed. It closes r if r is an io.Closer.
type heldReader struct {
	r    io.Reader
	open chan struct{}
}

func (g *heldReader) Read(p []byte) (int, error) {
	<-g.open
	return g.r.Read(p)
}

func (g *heldReader) Close() error {
	if c, ok := g.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// readFixes reads every fix a GPS publishes from r, until r ends.
func readFixes(t *testing.T, r io.Reader) ([]GPSFix, *GPS) {
	t.Helper()
	gate := &heldReader{r: r, open: make(chan struct{})}
	g := NewGPSFromReader(gate, GPSSettings{})
	t.Cleanup(func() { g.Close() })
	sub := g.SubscribeWith(NewQueue[GPSFix](1000))
	close(gate.open)
	closedWithin(t, g.Done(), "GPS at the end of its input")
	var fixes []GPSFix
	for {
		f, err := sub.Get(testCtx(t))
		if errors.Is(err, ErrClosed) {
			return fixes, g
		}
		if err != nil {
			t.Fatal(err)
		}
		fixes = append(fixes, f)
	}
}

func near(a, b, tolerance float64) bool { return math.Abs(a-b) <= tolerance }

// nmeaLine makes a sentence of body, with its checksum.
func nmeaLine(body string) string {
	var sum byte
	for i := range len(body) {
		sum ^= body[i]
	}
	return fmt.Sprintf("$%s*%02X\r\n", body, sum)
}

// checkCapture checks the fixes of the capture: 21 (the first second
// gives two, RMC's then RMC's and GGA's), the last 15 with a fix.
func checkCapture(t *testing.T, fixes []GPSFix, lostGGA int) {
	t.Helper()
	if len(fixes) != 21 {
		t.Fatalf("%d fixes, want 21", len(fixes))
	}
	for i, f := range fixes[:6] {
		if f.Valid || f.Latitude != 0 || f.Quality != 0 {
			t.Fatalf("fix %d before the receiver had one: %+v", i, f)
		}
	}
	if fixes[0].Time.Year() != 0 || fixes[4].Satellites != 3 || fixes[4].HDOP != 7.12 {
		t.Fatalf("no-fix fixes: %+v, %+v", fixes[0], fixes[4])
	}
	first := fixes[6]
	want := GPSFix{
		Time: time.Date(2026, 5, 17, 10, 30, 17, 0, time.UTC), Valid: true,
		Latitude: 46.948041, Longitude: 7.447421, Altitude: 541.3,
		Quality: 1, Satellites: 7, HDOP: 1.43, Speed: 0, Course: 0,
	}
	if !first.Time.Equal(want.Time) || !near(first.Latitude, want.Latitude, 1e-6) || !near(first.Longitude, want.Longitude, 1e-6) ||
		first.Altitude != want.Altitude || first.Quality != 1 || first.Satellites != 7 || first.HDOP != 1.43 || !first.Valid {
		t.Fatalf("first fix %+v, want %+v", first, want)
	}
	for i, f := range fixes[6:] {
		if !f.Valid {
			t.Fatalf("fix %d is not valid: %+v", 6+i, f)
		}
		if wantTime := want.Time.Add(time.Duration(i) * time.Second); !f.Time.Equal(wantTime) {
			t.Fatalf("fix %d at %v, want %v", 6+i, f.Time, wantTime)
		}
		if i == 0 {
			continue
		}
		if !near(f.Speed, 1.2, 1e-3) || f.Course != 45 {
			t.Fatalf("fix %d: speed %v m/s, course %v; want 1.2 m/s at 45", 6+i, f.Speed, f.Course)
		}
		// It moves 1.2 m a second, north-east.
		prev := fixes[5+i]
		north := (f.Latitude - prev.Latitude) * 111132
		east := (f.Longitude - prev.Longitude) * 111320 * math.Cos(f.Latitude*math.Pi/180)
		if !near(north, 0.85, 0.05) || !near(east, 0.85, 0.05) {
			t.Fatalf("fix %d moved %.2f m north, %.2f m east; want 0.85 each", 6+i, north, east)
		}
		if 6+i == lostGGA {
			if f.Satellites != 0 || f.Altitude != 0 {
				t.Fatalf("fix %d, whose GGA was lost, has GGA's fields: %+v", 6+i, f)
			}
		} else if f.Satellites != 8 && i >= 3 || f.Altitude < 541 {
			t.Fatalf("fix %d: %+v", 6+i, f)
		}
	}
}

// The capture as a receiver sends it.
func TestGPSCapture(t *testing.T) {
	file, err := os.Open(gpsCapture)
	if err != nil {
		t.Fatal(err)
	}
	fixes, g := readFixes(t, file) // closes file
	checkCapture(t, fixes, -1)
	if s := g.Stats(); s.Sentences != 152 || s.Bad != 0 || s.Fixes != 21 {
		t.Fatalf("stats %+v, want 152 sentences, 21 fixes, none bad", s)
	}
	if g.Err() != nil {
		t.Fatalf("Err() = %v after the end of a recording", g.Err())
	}
	last, ok := g.Latest()
	if !ok || last != fixes[20] {
		t.Fatalf("Latest() = %+v, %v; want the last fix", last, ok)
	}
	if _, err := file.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("the GPS did not close its reader: %v", err)
	}
}

// gpsRecording is a real receiver's output (see testdata/gps/README.md):
// three seconds of a HAB Supplies HAB-GPSPI board (a Raspberry Pi GPS
// hat, GPS and GLONASS, so its talker is GN), standing still.
const gpsRecording = "testdata/gps/hab-gpspi.nmea"

// A recording from a real receiver gives its fixes: the first second twice
// (RMC's alone, then with GGA's), then one a second.
func TestGPSRecording(t *testing.T) {
	file, err := os.Open(gpsRecording)
	if err != nil {
		t.Fatal(err)
	}
	fixes, g := readFixes(t, file)
	if s := g.Stats(); s.Sentences != 39 || s.Bad != 0 || s.Fixes != 4 || len(fixes) != 4 {
		t.Fatalf("stats %+v and %d fixes, want 39 sentences, 4 fixes, none bad", s, len(fixes))
	}
	const knots = 1852.0 / 3600
	for i, want := range []GPSFix{
		{Time: time.Date(2015, 6, 21, 9, 28, 35, 0, time.UTC), Valid: true, Latitude: 48 + 4.14539/60, Longitude: 16 + 21.54005/60, Speed: 0.250 * knots},
		{Time: time.Date(2015, 6, 21, 9, 28, 35, 0, time.UTC), Valid: true, Latitude: 48 + 4.14539/60, Longitude: 16 + 21.54005/60,
			Altitude: 205.3, Quality: 1, Satellites: 10, HDOP: 0.96, Speed: 0.250 * knots},
		{Time: time.Date(2015, 6, 21, 9, 28, 36, 0, time.UTC), Valid: true, Latitude: 48 + 4.14496/60, Longitude: 16 + 21.53984/60,
			Altitude: 205.2, Quality: 1, Satellites: 10, HDOP: 0.96, Speed: 0.130 * knots},
		{Time: time.Date(2015, 6, 21, 9, 28, 37, 0, time.UTC), Valid: true, Latitude: 48 + 4.14430/60, Longitude: 16 + 21.53949/60,
			Altitude: 204.8, Quality: 1, Satellites: 10, HDOP: 0.96, Speed: 0.320 * knots},
	} {
		f := fixes[i]
		if !f.Time.Equal(want.Time) || f.Valid != want.Valid || !near(f.Latitude, want.Latitude, 1e-9) || !near(f.Longitude, want.Longitude, 1e-9) ||
			f.Altitude != want.Altitude || f.Quality != want.Quality || f.Satellites != want.Satellites || f.HDOP != want.HDOP ||
			!near(f.Speed, want.Speed, 1e-9) || f.Course != 0 {
			t.Errorf("fix %d: %+v, want %+v", i, f, want)
		}
	}
}

// Noise between the sentences is skipped and counted; a lost GGA leaves
// its second with RMC's fields only, published when the next second
// starts.
func TestGPSSkipsNoise(t *testing.T) {
	data, err := os.ReadFile(gpsCapture)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	const lost = 5 // the GGA of the sixth second with a fix is lost
	var noisy strings.Builder
	bad := 0
	ggas := 0
	for i, line := range lines {
		switch i % 7 {
		case 1:
			noisy.WriteString("garbage, not a sentence\r\n")
			bad++
		case 3:
			noisy.WriteString("\x00\xb5\x62\x01\x07\x5c\x00\xff\xfe\r\n") // a UBX binary message
			bad++
		case 5:
			noisy.WriteString("$GPGGA,103020.00,4656.88383,N,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,*5F\r\n") // bad checksum
			bad++
		}
		if i == 40 {
			noisy.WriteString(strings.Repeat("$GPGSV", 100) + "\r\n")                                            // too long
			noisy.WriteString(nmeaLine("GPGGA,999999.00,4656.88383,N,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,")) // no such time
			noisy.WriteString(nmeaLine("GPGGA,103020.00,9656.88383,N,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,")) // 96 degrees north
			noisy.WriteString("$GPGGA,103020\r\n")                                                               // cut short
			bad += 4
		}
		if strings.HasPrefix(line, "$GPGGA") {
			ggas++
			if ggas == 5+lost+1 { // after the 5 GGAs before the fix
				line = strings.Replace(line, ",1,08,", ",1,09,", 1) // now its checksum is wrong
				bad++
			}
		}
		noisy.WriteString(line)
	}
	fixes, g := readFixes(t, strings.NewReader(noisy.String()))
	checkCapture(t, fixes, 6+lost)
	// The good sentences: the capture's but the GGA lost, and the 2 with a
	// good checksum but fields out of range.
	if s := g.Stats(); s.Bad != uint64(bad) || s.Sentences != 152-1+2 {
		t.Fatalf("stats %+v, want %d bad and 153 good sentences", s, bad)
	}
}

// A receiver that sends only RMC gives a fix per RMC; one that sends only
// GGA, a fix per GGA (the date unknown).
func TestGPSOneSentenceKind(t *testing.T) {
	data, _ := os.ReadFile(gpsCapture)
	for _, kind := range []string{"$GPRMC", "$GPGGA"} {
		var only bytes.Buffer
		for line := range strings.Lines(string(data)) {
			if strings.HasPrefix(line, kind) {
				only.WriteString(line)
			}
		}
		fixes, _ := readFixes(t, &only)
		if len(fixes) != 20 {
			t.Fatalf("%s only: %d fixes, want 20", kind, len(fixes))
		}
		last := fixes[19]
		if !last.Valid || !near(last.Latitude, 46.9481, 1e-3) {
			t.Fatalf("%s only: last fix %+v", kind, last)
		}
		if kind == "$GPGGA" && (last.Time.Year() != 0 || last.Time.Hour() != 10) {
			t.Fatalf("GGA only: time %v, want 10:30 on no date", last.Time)
		}
	}
}

// Close stops a read in progress (the reader is an io.Closer).
func TestGPSClose(t *testing.T) {
	r, w := io.Pipe()
	g := NewGPSFromReader(r, GPSSettings{})
	sub := g.Subscribe()
	w.Write([]byte(gpsEpochLines))
	mustGet(t, sub)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g.Close()
	if g.Err() != nil {
		t.Fatalf("Err() = %v after Close", g.Err())
	}
	mustGet(t, sub) // the second fix of the first second, queued
	wantClosed(t, sub)
	if _, err := w.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after Close: %v", err)
	}
}

// A reader that fails closes the GPS with its error.
func TestGPSReadError(t *testing.T) {
	r, w := io.Pipe()
	g := NewGPSFromReader(r, GPSSettings{})
	defer g.Close()
	boom := errors.New("unplugged")
	w.CloseWithError(boom)
	closedWithin(t, g.Done(), "GPS after a read error")
	if !errors.Is(g.Err(), boom) {
		t.Fatalf("Err() = %v, want %v", g.Err(), boom)
	}
}

func TestParseNMEA(t *testing.T) {
	s, err := parseNMEA("$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76\r\n")
	if err != nil {
		t.Fatal(err)
	}
	g, err := parseGGA(s)
	if err != nil || s.talker != "GP" || !near(g.lat, 53.361337, 1e-6) || !near(g.lon, -6.50562, 1e-6) || g.altitude != 61.7 || g.sats != 8 {
		t.Fatalf("GGA %+v %+v, %v", s, g, err)
	}
	s, _ = parseNMEA(nmeaLine("GNRMC,235959.999,A,3351.0000,S,15112.0000,E,10.0,359.9,311299,,,A"))
	r, err := parseRMC(s)
	if err != nil || r.year != 1999 || r.day != 31 || !near(r.lat, -33.85, 1e-9) || !near(r.speed, 5.144, 1e-3) ||
		r.timeOfDay != 24*time.Hour-time.Millisecond {
		t.Fatalf("RMC %+v, %v", r, err)
	}
	for _, line := range []string{
		"",
		"GPGGA,1*00",
		"$GPGGA,092750.000",    // no checksum
		"$GPGGA,092750.000*4",  // short checksum
		"$GPGGA,092750.000*ZZ", // not hex
		"$GPGGA,092750.000*00", // wrong
		nmeaLine("GP\x01GA,1"), // not printable
		nmeaLine("GPGGA,$1"),   // a $ inside
	} {
		if _, err := parseNMEA(line); !errors.Is(err, errNMEA) {
			t.Errorf("parseNMEA(%q) = %v, want errNMEA", line, err)
		}
	}
	for _, fields := range []string{
		"GPGGA,246000.00,,,,,0,00,99.99,,,,,,",                              // hour 24
		"GPGGA,103020.00,4660.0,N,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,", // 60 minutes
		"GPGGA,103020.00,4656.8,X,00726.84727,E,1,08,0.98,541.3,M,48.0,M,,", // hemisphere
		"GPGGA,103020.00,4656.8,N,00726.84727,E,1,08,0.98,1e3,M,48.0,M,,",   // exponent
		"GPGGA,103020.00,4656.8,N,18100.0,E,1,08,0.98,1,M,48.0,M,,",         // 181 degrees
		"GPGGA,103020.00,4656.8,N,00726.8,E,11,08,0.98,1,M,48.0,M,,",        // quality 11
		"GPGGA,103020.00,4656.8,N",                                          // too few fields
		"GPRMC,103020.00,X,4656.8,N,00726.8,E,0,0,170526,,,A",               // status
		"GPRMC,103020.00,A,4656.8,N,00726.8,E,0,0,320526,,,A",               // day 32
		"GPRMC,103020.00,A,4656.8,N,00726.8,E,0,361,170526,,,A",             // course
		"GPRMC,103020.00,A,4656.8,N,00726.8,E,-1,0,170526,,,A",              // negative speed
	} {
		line := nmeaLine(fields)
		s, err := parseNMEA(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if _, err := (&gpsEpoch{}).add(s); !errors.Is(err, errNMEA) {
			t.Errorf("%q: %v, want errNMEA", line, err)
		}
	}
}

// FuzzParseNMEA checks that no line crashes the parser, that a line it
// takes has a good checksum, and that GGA and RMC values it takes are in
// range, also as fixes.
func FuzzParseNMEA(f *testing.F) {
	data, err := os.ReadFile(gpsCapture)
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		f.Add(line)
	}
	f.Add("$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76")
	check := func(t *testing.T, line string) {
		s, err := parseNMEA(line)
		if err != nil {
			if !errors.Is(err, errNMEA) {
				t.Fatalf("error %v does not wrap errNMEA", err)
			}
			return
		}
		body, sum, _ := strings.Cut(strings.TrimRight(line, "\r\n")[1:], "*")
		var x byte
		for i := range len(body) {
			x ^= body[i]
		}
		if want, _ := strconv.ParseUint(sum, 16, 8); byte(want) != x {
			t.Fatalf("%q taken with a bad checksum", line)
		}
		var e gpsEpoch
		fixes, err := e.add(s)
		if err != nil {
			return
		}
		for _, fx := range fixes {
			if math.Abs(fx.Latitude) > 90 || math.Abs(fx.Longitude) > 180 || fx.Speed < 0 || fx.Course < 0 || fx.Course > 360 ||
				math.IsNaN(fx.Altitude) || math.IsInf(fx.Altitude, 0) || fx.Time.Hour() > 23 {
				t.Fatalf("%q gave %+v", line, fx)
			}
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		check(t, line)
		// The same fields with a good checksum, so that the fields'
		// parsers see what random bytes would rarely reach.
		body := strings.TrimPrefix(strings.TrimRight(line, "\r\n"), "$")
		if i := strings.LastIndexByte(body, '*'); i >= 0 {
			body = body[:i]
		}
		check(t, nmeaLine(body))
	})
}
