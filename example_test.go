package rtcbot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// Every subscription to a producer sees every item, in order; closing the
// producer ends each subscription after what it still holds.
func ExampleProducer() {
	ctx := context.Background()
	p := rtcbot.NewProducer[string](nil)
	display := p.Subscribe()
	recorder := p.Subscribe()

	p.Publish("frame 1")
	p.Publish("frame 2")
	p.Close()

	for _, sub := range []rtcbot.Subscription[string]{display, recorder} {
		for {
			item, err := sub.Get(ctx)
			if errors.Is(err, rtcbot.ErrClosed) {
				fmt.Println("end of stream")
				break
			}
			fmt.Println(item)
		}
	}
	// Output:
	// frame 1
	// frame 2
	// end of stream
	// frame 1
	// frame 2
	// end of stream
}

// A Queue is bounded: when full it drops the oldest item and counts it.
func ExampleQueue() {
	ctx := context.Background()
	q := rtcbot.NewQueue[int](3)
	for i := 1; i <= 5; i++ {
		q.Put(i)
	}
	q.Close()
	fmt.Println("dropped:", q.Dropped())
	for item := range q.C() {
		fmt.Println(item)
	}
	_, err := q.Get(ctx)
	fmt.Println(err)
	// Output:
	// dropped: 2
	// 3
	// 4
	// 5
	// rtcbot: closed
}

// A Latest keeps only the newest item: a slow reader skips frames instead
// of falling behind.
func ExampleLatest() {
	ctx := context.Background()
	frames := rtcbot.NewLatest[string]()
	frames.Put("frame 1")
	frames.Put("frame 2")
	frames.Put("frame 3")
	frame, _ := frames.Get(ctx)
	fmt.Println(frame, "skipped:", frames.Skipped())
	frames.Close()
	// Output:
	// frame 3 skipped: 2
}

// A consumer reads a producer in the background (RTCBot's
// display.putSubscription(camera)); a second PutSubscription would replace
// the first without stopping the consumer.
func ExampleConsumer() {
	done := make(chan struct{})
	var got []string
	display := rtcbot.NewConsumer(func(frame string) {
		got = append(got, frame)
		if len(got) == 3 {
			close(done)
		}
	}, nil)
	defer display.Close()

	camera := rtcbot.NewProducer[string](nil)
	defer camera.Close()
	display.PutSubscription(camera) // subscribes for us
	fmt.Println("subscribers:", camera.Subscribers())

	for i := 1; i <= 3; i++ {
		camera.Publish(fmt.Sprint("frame ", i))
	}
	<-done
	fmt.Println(strings.Join(got, ", "))

	display.StopSubscription()
	fmt.Println("subscribers:", camera.Subscribers())
	// Output:
	// subscribers: 1
	// frame 1, frame 2, frame 3
	// subscribers: 0
}

// Map adapts a producer of one type for a consumer of another, such as
// gamepad events into messages for a connection.
func ExampleMap() {
	type axis struct {
		name  string
		value float64
	}
	gamepad := rtcbot.NewProducer[axis](nil)
	messages := rtcbot.Map(gamepad, func(a axis) string {
		return fmt.Sprintf(`{"%s": %.1f}`, a.name, a.value)
	})
	sub := messages.Subscribe()
	gamepad.Publish(axis{"x", 0.5})
	gamepad.Publish(axis{"y", -1})
	gamepad.Close()

	ctx := context.Background()
	for {
		msg, err := sub.Get(ctx)
		if err != nil {
			break
		}
		fmt.Println(msg)
	}
	// Output:
	// {"x": 0.5}
	// {"y": -1.0}
}

// Rebatch re-cuts a microphone's 1024-frame chunks into the 960-frame
// chunks (20 ms at 48 kHz) an Opus encoder wants.
func ExampleRebatch() {
	ctx := context.Background()
	r := rtcbot.NewRebatch(960, 0)
	for range 15 {
		r.Put(rtcbot.AudioChunk{Samples: make([]float32, 1024*2), Channels: 2, SampleRate: 48000})
	}
	r.Close() // readers still get the whole chunks held, then ErrClosed
	n := 0
	for {
		chunk, err := r.Get(ctx)
		if err != nil {
			break
		}
		if chunk.Frames() != 960 {
			fmt.Println("wrong size:", chunk.Frames())
		}
		n++
	}
	fmt.Println(15*1024, "frames in,", n, "chunks of 960 out")
	// Output:
	// 15360 frames in, 16 chunks of 960 out
}

// thermometer is a sensor whose reads block, like a serial or I2C device.
type thermometer struct{ reading float64 }

func (s *thermometer) Read() float64 {
	time.Sleep(time.Millisecond) // the device takes a while to answer
	s.reading += 0.5
	return s.reading
}

// A blocking sensor becomes a producer by reading it on a goroutine of its
// own and publishing each reading, as in RTCBot's "threads" tutorial. Closing
// the producer stops the goroutine.
func ExampleNewProducer() {
	sensor := &thermometer{reading: 20}
	temps := rtcbot.NewProducer[float64](nil)
	sub := temps.Subscribe() // before the first reading, so none is missed

	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			reading := sensor.Read()
			select {
			case <-temps.Done():
				return
			default:
			}
			temps.Publish(reading)
			temps.SetReady()
		}
	})

	ctx := context.Background()
	for range 3 {
		t, _ := sub.Get(ctx)
		fmt.Printf("%.1f °C\n", t)
	}
	temps.Close()
	wg.Wait()
	fmt.Println("ready:", temps.IsReady(), "closed:", temps.IsClosed())
	// Output:
	// 20.5 °C
	// 21.0 °C
	// 21.5 °C
	// ready: true closed: true
}
