package rtcbot_test

import (
	"context"
	"fmt"

	"github.com/rtcbot-go/rtcbot"
)

// counter is a source of its own, as a robot program writes for a sensor:
// it holds its Producer in an unexported field, so its users see the verbs
// it forwards (here those of rtcbot.Source, and Close) but not Publish.
type counter struct {
	p *rtcbot.Producer[int]
}

func newCounter() *counter { return &counter{p: rtcbot.NewProducer[int](nil)} }

// count publishes 1 to n from a goroutine of its own, then ends the stream.
func (c *counter) count(n int) {
	go func() {
		for i := 1; i <= n; i++ {
			c.p.Publish(i)
			c.p.SetReady()
		}
		c.p.Close()
	}()
}

func (c *counter) Subscribe() rtcbot.Subscription[int] { return c.p.Subscribe() }
func (c *counter) SubscribeWith(s rtcbot.Subscription[int]) rtcbot.Subscription[int] {
	return c.p.SubscribeWith(s)
}
func (c *counter) Unsubscribe(s rtcbot.Subscription[int]) bool { return c.p.Unsubscribe(s) }
func (c *counter) Get(ctx context.Context) (int, error)        { return c.p.Get(ctx) }
func (c *counter) Close() error                                { return c.p.Close() }

// A source of your own works wherever rtcbot's devices do: a Consumer (or a
// connection) subscribes to it with PutSubscription.
func Example_sourceOfYourOwn() {
	c := newCounter()
	var src rtcbot.Source[int] = c
	done := make(chan struct{})
	sum := 0
	sink := rtcbot.NewConsumer(func(v int) {
		sum += v
		fmt.Println("got", v)
		if v == 3 {
			close(done)
		}
	}, nil)
	sink.PutSubscription(src) // subscribes now: sees every number
	c.count(3)
	<-done
	sink.Close()
	fmt.Println("sum", sum)
	// Output:
	// got 1
	// got 2
	// got 3
	// sum 6
}
