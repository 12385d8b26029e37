//go:build unix

package rtcbot

import (
	"errors"
	"os"
	"testing"
)

// A GPS receiver on a serial port: sentences in, fixes out; unplugged, it
// closes with an error.
func TestGPSOnSerialPort(t *testing.T) {
	d := newPTY(t)
	g, err := NewGPS(GPSSettings{Port: d.path, Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	sub := g.Subscribe()
	d.write([]byte(gpsEpochLines))
	mustGet(t, sub) // the first second gives RMC's fix, then RMC's and GGA's
	f := mustGet(t, sub)
	if !f.Valid || f.Satellites != 8 {
		t.Fatalf("fix %+v", f)
	}
	closedWithin(t, g.Ready(), "GPS ready")
	d.m.Close()
	closedWithin(t, g.Done(), "GPS after its port vanished")
	if g.Err() == nil {
		t.Fatal("no error after the port vanished")
	}
	if _, err := NewGPS(GPSSettings{Port: "/dev/rtcbot-no-such-port"}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing port: %v", err)
	}
}
