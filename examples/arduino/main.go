// Command arduino is RTCBot's Arduino tutorial in Go: the robot drives two
// motors through an Arduino on a serial port, with controls from a browser,
// and forwards the Arduino's sensor readings to the browser.
//
//	go run ./examples/arduino -port /dev/ttyACM0   # then open the URL it prints
//
// Upload arduino.ino (beside this file) to the Arduino first. The robot and
// the sketch exchange fixed-size binary records, laid out like the sketch's
// packed C structs and described on the Go side by Python struct format
// strings, as in RTCBot (rtcbot.SerialConnection, rtcbot.RecordFormat):
//
//	to the Arduino:   0xA5, int16 left, int16 right    WriteFormat "<hh", WriteKeys left, right
//	from the Arduino: 0xA5, uint8 sensorID, uint16 measurement
//	                                                   ReadFormat "<BH", ReadKeys sensorID, measurement
//
// The start byte 0xA5 before every record lets either side find its place
// again after noise on the line or a reset. Opening the port resets most
// Arduinos, so the robot waits -write-delay (2 s) for the sketch to start
// before it sends anything. Without an Arduino at -port the robot says so
// and exits.
//
// The page (index.html, embedded) sends the browser's keyboard and gamepad
// like the remotecontrol example's: W/S or the up and down arrows drive, A/D
// or left and right turn, a gamepad's left stick does both. The robot turns
// them into motor speeds (-255..255 for each side), sends a control record
// when they change and again every 200 ms (the sketch stops its motors when
// commands stop for half a second), prints them, and stops the motors when
// the connection closes. One driver at a time, with the robot's token (see
// the remotecontrol example). Each sensor record is printed and sent to the
// page as the JSON object {"measurement": 512, "sensorID": 0}. If the
// Arduino goes away (its cable pulled out), the robot stops with an error.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
	"github.com/rtcbot-go/rtcbot/examples/internal/exampleutil"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", ":8080", "address to serve the page and /connect on")
	port := flag.String("port", rtcbot.DefaultSerialPort, "the Arduino's serial port")
	baud := flag.Int("baud", rtcbot.DefaultSerialBaud, "the serial port's bit rate (the sketch's Serial.begin)")
	writeDelay := flag.Duration("write-delay", 2*time.Second, "how long the sketch takes to start after the port opens (it resets the Arduino)")
	loopback := flag.Bool("loopback", false, "use only 127.0.0.1 for connections (a Go client or a browser on this machine, tests)")
	token := flag.String("token", "", "the token a driver needs (default $RTCBOT_TOKEN, else a random one)")
	flag.Parse()
	if *token == "" {
		*token = os.Getenv("RTCBOT_TOKEN")
	}
	if *token == "" {
		*token = rtcbot.RandomToken()
		fmt.Println("No -token or RTCBOT_TOKEN: using a random token, a new one at every start.")
	}
	arduino, err := rtcbot.NewSerialConnection(rtcbot.SerialSettings{
		Port:        *port,
		Baud:        *baud,
		WriteFormat: "<hh",
		WriteKeys:   []string{"left", "right"},
		ReadFormat:  "<BH",
		ReadKeys:    []string{"sensorID", "measurement"},
		StartByte:   0xA5,
		WriteDelay:  *writeDelay,
	})
	if errors.Is(err, os.ErrNotExist) {
		log.Fatalf("No Arduino at %s: connect one and upload arduino.ino, or give its port with -port.", *port)
	}
	if err != nil {
		log.Fatal(err)
	}
	err = run(*addr, *token, arduino, rtcbot.ConnectionSettings{LoopbackOnly: *loopback})
	// Send the command that stopped the motors before closing the port.
	flush, cancel := context.WithTimeout(context.Background(), time.Second)
	arduino.Flush(flush)
	cancel()
	arduino.Close()
	if err != nil {
		log.Fatal(err)
	}
}

func run(addr, token string, arduino *rtcbot.SerialConnection, settings rtcbot.ConnectionSettings) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var conns rtcbot.ConnectionSet
	motors := &motors{arduino: arduino}
	motors.start()
	defer motors.close()

	// Every sensor record: printed, and sent to the page.
	arduino.SubscribeFunc(func(rec any) {
		m := rec.(map[string]any)
		fmt.Printf("Sensor %d: %d\n", m["sensorID"], m["measurement"])
		conns.Put(rec)
	})
	arduino.OnError(func(err error) { fmt.Println("Arduino:", err) })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.Handle("GET /rtcbot.js", rtcbot.JavaScriptHandler())
	mux.Handle("GET /rtcbot.mjs", rtcbot.JavaScriptHandler())
	access := rtcbot.HandlerSettings{Token: token, MaxConnections: 1, ReplaceOnReconnect: true}
	var drivers sync.WaitGroup
	mux.Handle("/connect", rtcbot.NewHandler(access, func(r *http.Request) (*rtcbot.Connection, error) {
		conn, err := rtcbot.NewConnection(settings)
		if err != nil {
			return nil, err
		}
		d := &driver{motors: motors, keys: make(map[string]bool)}
		cb := conn.SubscribeFunc(d.handle)
		if err := conns.Add(conn); err != nil {
			return nil, err
		}
		drivers.Go(func() {
			<-cb.Done()
			motors.set(0, 0, fmt.Sprintf("connection from %s closed", r.RemoteAddr))
		})
		fmt.Printf("New connection from %s.\n", r.RemoteAddr)
		return conn, nil
	}))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := exampleutil.NewServer(mux)
	fmt.Printf("======== Running on http://%s ========\n", ln.Addr())
	fmt.Printf("Open %s in a browser. (Press CTRL+C to quit)\n", exampleutil.PageURL(ln.Addr(), token))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-served:
	case <-arduino.Done(): // unplugged: the robot cannot drive without it
		err = fmt.Errorf("the Arduino went away: %w", arduino.Err())
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	conns.Close()
	drivers.Wait()
	return err
}

// motors holds the motor command and sends it to the Arduino: when it
// changes, and every resend interval, as the sketch stops the motors when
// commands stop.
type motors struct {
	arduino     *rtcbot.SerialConnection
	mu          sync.Mutex
	left, right int
	stop        chan struct{}
	done        chan struct{}
}

const resend = 200 * time.Millisecond

func (m *motors) start() {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		tick := time.NewTicker(resend)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				m.mu.Lock()
				m.send()
				m.mu.Unlock()
			case <-m.stop:
				return
			}
		}
	}()
}

// set changes the command, printing it (and why, if why is not empty).
func (m *motors) set(left, right int, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if left == m.left && right == m.right {
		return
	}
	m.left, m.right = left, right
	if why != "" {
		why = " (" + why + ")"
	}
	fmt.Printf("Motors: left %+d, right %+d%s\n", left, right, why)
	m.send()
}

// send puts the command into the serial connection. m.mu is held.
func (m *motors) send() {
	m.arduino.Put(map[string]any{"left": m.left, "right": m.right})
}

// close stops the motors and the resending.
func (m *motors) close() {
	m.set(0, 0, "the robot is stopping")
	close(m.stop)
	<-m.done
}

// The keys that drive, by their evdev names (rtcbot.BrowserInputEvent).
var (
	forwardKeys, backKeys = []string{"KEY_W", "KEY_UP"}, []string{"KEY_S", "KEY_DOWN"}
	leftKeys, rightKeys   = []string{"KEY_A", "KEY_LEFT"}, []string{"KEY_D", "KEY_RIGHT"}
)

const (
	stickRange = 32768 // ABS_X and ABS_Y, as rtcbot.BrowserInputEvent scales them
	deadZone   = 0.1
)

// driver turns one connection's controls into motor commands.
type driver struct {
	motors         *motors
	keys           map[string]bool
	stickX, stickY float64
}

// handle is called with each message from the page, in order, on the
// connection's callback goroutine.
func (d *driver) handle(msg any) {
	e, ok := rtcbot.BrowserInputEvent(msg)
	if !ok {
		return
	}
	switch {
	case e.Event == rtcbot.InputKey:
		d.keys[e.Code] = e.State != 0
	case e.Event == rtcbot.InputAbsolute && e.Code == "ABS_X":
		d.stickX = max(float64(e.State)/stickRange, -1)
	case e.Event == rtcbot.InputAbsolute && e.Code == "ABS_Y":
		d.stickY = max(float64(e.State)/stickRange, -1)
	default:
		return
	}
	held := func(codes []string) float64 {
		for _, c := range codes {
			if d.keys[c] {
				return 1
			}
		}
		return 0
	}
	forward := held(forwardKeys) - held(backKeys)
	turn := held(rightKeys) - held(leftKeys)
	if math.Abs(d.stickY) > deadZone {
		forward = -d.stickY // a stick pushed forward reads negative
	}
	if math.Abs(d.stickX) > deadZone {
		turn = d.stickX
	}
	// Mix: turning right speeds up the left side and slows the right.
	speed := func(v float64) int { return int(math.Round(255 * max(-1, min(1, v)))) }
	d.motors.set(speed(forward+turn), speed(forward-turn), "")
}
