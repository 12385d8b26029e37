// Command threads is RTCBot's threads tutorial in Go: it wraps a sensor
// with a blocking API so that it produces into subscriptions, and an output
// with a blocking API so that it consumes from them.
//
//	go run ./examples/threads                               # until Ctrl-C
//	go run ./examples/threads -interval 200ms -read 100ms -duration 5s
//
// The sensor stands in for a driver whose Read blocks for a while (-read)
// and cannot be interrupted, RTCBot's get_sensor_data. RTCBot needs a
// ThreadedSubscriptionProducer to keep such a call from freezing its event
// loop; in Go a goroutine of its own does the same: it reads the sensor every
// -interval and publishes each reading into an rtcbot.Producer, which fans it
// out to every subscription without blocking. Stopping asks the goroutine to
// stop and waits for the read in progress, then closes the producer, so every
// reader learns that the stream ended.
//
// On the other side, a slow output (RTCBot's set_output_value, in a
// ThreadedSubscriptionConsumer) is an rtcbot.Consumer: its handler runs on a
// goroutine of its own, so it may block as long as it likes. Here it prints
// each reading. A second subscription keeps statistics, printed at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

func main() {
	interval := flag.Duration("interval", time.Second, "how often the sensor is read")
	read := flag.Duration("read", 500*time.Millisecond, "how long one sensor read blocks")
	write := flag.Duration("write", 100*time.Millisecond, "how long the output takes to show one reading")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()
	if *interval <= 0 {
		log.Fatal("-interval must be positive")
	}
	if err := run(*interval, *read, *write, *duration); err != nil {
		log.Fatal(err)
	}
}

func run(interval, read, write, duration time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}

	sensor := newThreadedSensor(&slowSensor{readTime: read}, interval)
	defer sensor.Close()
	sensor.OnReady(func() { fmt.Println("Sensor ready.") })

	// The slow output: a consumer reading the sensor in the background
	// (RTCBot: myoutput.putSubscription(mysensor)).
	output := rtcbot.NewConsumer(func(r reading) {
		time.Sleep(write) // a blocking write to some device
		fmt.Printf("Reading %d: %.3f (read in %v)\n", r.Seq, r.Value, r.ReadTime.Round(time.Millisecond))
	}, nil)
	defer output.Close()
	output.PutSubscription(sensor)

	// A second subscription, a function called with every reading.
	var stats statistics
	summary := sensor.SubscribeFunc(stats.add)

	select {
	case <-ctx.Done():
	case <-sensor.Done(): // the sensor failed
	}
	fmt.Println("Stopping the sensor...")
	sensor.Close() // waits for the read in progress
	<-summary.Done()
	output.Close()
	if err := sensor.Err(); err != nil {
		fmt.Println("Sensor failed:", err)
	}
	fmt.Println("Sensor stopped:", stats.String())
	return nil
}

// reading is one sensor reading.
type reading struct {
	Seq      int
	Value    float64
	Time     time.Time     // when the read ended
	ReadTime time.Duration // how long the read blocked
}

// slowSensor stands in for a sensor driver with a blocking API: Read takes
// readTime and cannot be interrupted, like many hardware libraries' calls.
type slowSensor struct {
	readTime time.Duration
	start    time.Time
}

// Read blocks until the next measurement is ready and returns it: a distance
// in centimetres, slowly going up and down.
func (s *slowSensor) Read() (float64, error) {
	if s.start.IsZero() {
		s.start = time.Now()
	}
	time.Sleep(s.readTime)
	t := time.Since(s.start).Seconds()
	return 50 + 30*math.Sin(t/2), nil
}

// threadedSensor reads a slowSensor on a goroutine of its own and publishes
// every reading: RTCBot's ThreadedSubscriptionProducer. It is a producer, so
// consumers subscribe to it like to any rtcbot source.
type threadedSensor struct {
	*rtcbot.Producer[reading]
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func newThreadedSensor(s *slowSensor, interval time.Duration) *threadedSensor {
	t := &threadedSensor{
		// Readings are small and each one matters: queue them (nil means a
		// bounded queue per subscription).
		Producer: rtcbot.NewProducer[reading](nil),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go t.run(s, interval)
	return t
}

// run is the sensor's goroutine: read, publish, wait for the next tick,
// until asked to stop.
func (t *threadedSensor) run(s *slowSensor, interval time.Duration) {
	defer close(t.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for seq := 1; ; seq++ {
		start := time.Now()
		v, err := s.Read() // blocks; nothing else waits for it
		if err != nil {
			t.SetError(err)
			go t.Close() // Close waits for this goroutine
			return
		}
		now := time.Now()
		t.Publish(reading{Seq: seq, Value: v, Time: now, ReadTime: now.Sub(start)})
		t.SetReady()
		select {
		case <-t.stop:
			return
		case <-ticker.C:
		}
	}
}

// Close stops the sensor: it waits for the read in progress to end, then
// closes the producer, so every subscription ends after the readings it
// holds.
func (t *threadedSensor) Close() error {
	t.stopOnce.Do(func() { close(t.stop) })
	<-t.done
	return t.Producer.Close()
}

// statistics summarises the readings.
type statistics struct {
	mu       sync.Mutex
	n        int
	sum      float64
	min, max float64
}

func (s *statistics) add(r reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 || r.Value < s.min {
		s.min = r.Value
	}
	if s.n == 0 || r.Value > s.max {
		s.max = r.Value
	}
	s.n++
	s.sum += r.Value
}

func (s *statistics) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return "no readings"
	}
	return fmt.Sprintf("%d readings, mean %.3f, min %.3f, max %.3f", s.n, s.sum/float64(s.n), s.min, s.max)
}
