package rtcbot

// A small NMEA 0183 parser for GPS: the sentences a receiver sends, the
// checksum, and the fields of GGA and RMC. It is rtcbot's own because the
// module proxy this project builds from does not serve
// github.com/adrianmo/go-nmea, the maintained Go library for it; GPS needs
// only these two sentences. FuzzParseNMEA checks it.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errNMEA is wrapped by every reason a line is not a usable sentence.
var errNMEA = errors.New("rtcbot: bad NMEA sentence")

// nmeaSentence is one checked sentence: "$GPGGA,..." has talker "GP",
// kind "GGA" and the fields after the address.
type nmeaSentence struct {
	talker, kind string
	fields       []string
}

// parseNMEA checks one line (with or without its "\r\n"): printable ASCII,
// "$", the address, fields separated by commas, and "*" with the
// two-digit hexadecimal XOR of every byte between "$" and "*". A sentence
// without a checksum is refused: a receiver sends one with every sentence
// GPS reads.
func parseNMEA(line string) (nmeaSentence, error) {
	line = strings.TrimRight(line, "\r\n")
	bad := func(why string) (nmeaSentence, error) {
		return nmeaSentence{}, fmt.Errorf("%w: %s", errNMEA, why)
	}
	if len(line) < 1 || line[0] != '$' {
		return bad("no $")
	}
	star := strings.LastIndexByte(line, '*')
	if star < 0 || star != len(line)-3 {
		return bad("no checksum")
	}
	want, err := strconv.ParseUint(line[star+1:], 16, 8)
	if err != nil {
		return bad("malformed checksum")
	}
	body := line[1:star]
	var sum byte
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c < 0x20 || c > 0x7e || c == '$' || c == '*' {
			return bad("not printable ASCII")
		}
		sum ^= c
	}
	if sum != byte(want) {
		return bad(fmt.Sprintf("checksum %02X, want %02X", sum, want))
	}
	fields := strings.Split(body, ",")
	addr := fields[0]
	if len(addr) != 5 {
		// Proprietary sentences ($PUBX,...) and others: checked, not used.
		return nmeaSentence{kind: addr, fields: fields[1:]}, nil
	}
	return nmeaSentence{talker: addr[:2], kind: addr[2:], fields: fields[1:]}, nil
}

// field returns field i, "" past the end (receivers leave off empty
// trailing fields).
func (s nmeaSentence) field(i int) string {
	if i < len(s.fields) {
		return s.fields[i]
	}
	return ""
}

// nmeaGGA is a GGA sentence: the fix's time, position and quality.
type nmeaGGA struct {
	timeOfDay      time.Duration
	hasTime        bool
	lat, lon       float64
	hasPosition    bool
	quality, sats  int
	hdop, altitude float64
}

func parseGGA(s nmeaSentence) (nmeaGGA, error) {
	var g nmeaGGA
	var err error
	if len(s.fields) < 9 {
		return g, fmt.Errorf("%w: GGA with %d fields", errNMEA, len(s.fields))
	}
	if g.timeOfDay, g.hasTime, err = nmeaTime(s.field(0)); err != nil {
		return g, err
	}
	if g.lat, g.lon, g.hasPosition, err = nmeaPosition(s.field(1), s.field(2), s.field(3), s.field(4)); err != nil {
		return g, err
	}
	if g.quality, err = nmeaInt(s.field(5), 9); err != nil {
		return g, err
	}
	if g.sats, err = nmeaInt(s.field(6), 999); err != nil {
		return g, err
	}
	if g.hdop, err = nmeaDecimal(s.field(7), false); err != nil {
		return g, err
	}
	if g.altitude, err = nmeaDecimal(s.field(8), true); err != nil {
		return g, err
	}
	return g, nil
}

// nmeaRMC is an RMC sentence: the fix's date and time, position, speed
// and course.
type nmeaRMC struct {
	timeOfDay     time.Duration
	hasTime       bool
	valid         bool // status A
	lat, lon      float64
	hasPosition   bool
	speed, course float64 // m/s, degrees
	year          int
	month         time.Month
	day           int
	hasDate       bool
}

// knot is a knot in metres per second.
const knot = 1852.0 / 3600

func parseRMC(s nmeaSentence) (nmeaRMC, error) {
	var r nmeaRMC
	var err error
	if len(s.fields) < 9 {
		return r, fmt.Errorf("%w: RMC with %d fields", errNMEA, len(s.fields))
	}
	if r.timeOfDay, r.hasTime, err = nmeaTime(s.field(0)); err != nil {
		return r, err
	}
	switch s.field(1) {
	case "A":
		r.valid = true
	case "V", "":
	default:
		return r, fmt.Errorf("%w: RMC status %q", errNMEA, s.field(1))
	}
	if r.lat, r.lon, r.hasPosition, err = nmeaPosition(s.field(2), s.field(3), s.field(4), s.field(5)); err != nil {
		return r, err
	}
	if r.speed, err = nmeaDecimal(s.field(6), false); err != nil {
		return r, err
	}
	r.speed *= knot
	if r.course, err = nmeaDecimal(s.field(7), false); err != nil {
		return r, err
	}
	if r.course > 360 {
		return r, fmt.Errorf("%w: course %v", errNMEA, r.course)
	}
	if d := s.field(8); d != "" {
		if len(d) != 6 || !allDigits(d) {
			return r, fmt.Errorf("%w: date %q", errNMEA, d)
		}
		day, _ := strconv.Atoi(d[0:2])
		month, _ := strconv.Atoi(d[2:4])
		year, _ := strconv.Atoi(d[4:6])
		if day < 1 || day > 31 || month < 1 || month > 12 {
			return r, fmt.Errorf("%w: date %q", errNMEA, d)
		}
		// Two digits of year: GPS began in 1980.
		if year < 80 {
			year += 2000
		} else {
			year += 1900
		}
		r.year, r.month, r.day, r.hasDate = year, time.Month(month), day, true
	}
	return r, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nmeaTime parses hhmmss or hhmmss.sss, UTC; "" is no time.
func nmeaTime(s string) (time.Duration, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) != 6 || !allDigits(whole) || !allDigits(frac) || len(frac) > 9 {
		return 0, false, fmt.Errorf("%w: time %q", errNMEA, s)
	}
	h, _ := strconv.Atoi(whole[0:2])
	m, _ := strconv.Atoi(whole[2:4])
	sec, _ := strconv.Atoi(whole[4:6])
	if h > 23 || m > 59 || sec > 60 { // 60: a leap second
		return 0, false, fmt.Errorf("%w: time %q", errNMEA, s)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if frac != "" {
		ns, _ := strconv.Atoi((frac + "000000000")[:9])
		d += time.Duration(ns)
	}
	return d, true, nil
}

// nmeaPosition parses a latitude (ddmm.mmmm, N or S) and a longitude
// (dddmm.mmmm, E or W) into degrees, south and west negative. All four
// empty is no position (no fix yet).
func nmeaPosition(lat, ns, lon, ew string) (float64, float64, bool, error) {
	if lat == "" && ns == "" && lon == "" && ew == "" {
		return 0, 0, false, nil
	}
	la, err := nmeaDegrees(lat, 2, 90)
	if err != nil {
		return 0, 0, false, err
	}
	lo, err := nmeaDegrees(lon, 3, 180)
	if err != nil {
		return 0, 0, false, err
	}
	switch ns {
	case "N":
	case "S":
		la = -la
	default:
		return 0, 0, false, fmt.Errorf("%w: hemisphere %q", errNMEA, ns)
	}
	switch ew {
	case "E":
	case "W":
		lo = -lo
	default:
		return 0, 0, false, fmt.Errorf("%w: hemisphere %q", errNMEA, ew)
	}
	return la, lo, true, nil
}

// nmeaDegrees parses degrees (degDigits of them) and minutes: "4807.038"
// is 48 degrees 7.038 minutes.
func nmeaDegrees(s string, degDigits int, limit float64) (float64, error) {
	whole, _, _ := strings.Cut(s, ".")
	if len(whole) != degDigits+2 {
		return 0, fmt.Errorf("%w: coordinate %q", errNMEA, s)
	}
	deg, err := nmeaDecimal(whole[:degDigits], false)
	if err != nil {
		return 0, err
	}
	minutes, err := nmeaDecimal(s[degDigits:], false)
	if err != nil {
		return 0, err
	}
	v := deg + minutes/60
	if minutes >= 60 || v > limit {
		return 0, fmt.Errorf("%w: coordinate %q", errNMEA, s)
	}
	return v, nil
}

// nmeaDecimal parses digits with an optional fraction ("12.5"), and a
// leading "-" if signed; "" is 0.
func nmeaDecimal(s string, signed bool) (float64, error) {
	if s == "" {
		return 0, nil
	}
	digits := s
	if signed && strings.HasPrefix(digits, "-") {
		digits = digits[1:]
	}
	whole, frac, _ := strings.Cut(digits, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) || len(s) > 20 {
		return 0, fmt.Errorf("%w: number %q", errNMEA, s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: number %q", errNMEA, s)
	}
	return v, nil
}

// nmeaInt parses a small non-negative integer; "" is 0.
func nmeaInt(s string, limit int) (int, error) {
	if s == "" {
		return 0, nil
	}
	if !allDigits(s) || len(s) > 4 {
		return 0, fmt.Errorf("%w: integer %q", errNMEA, s)
	}
	n, _ := strconv.Atoi(s)
	if n > limit {
		return 0, fmt.Errorf("%w: integer %q", errNMEA, s)
	}
	return n, nil
}
