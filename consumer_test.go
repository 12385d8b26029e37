package rtcbot

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// newRecorder returns a consumer whose handler sends every item to the
// returned channel (buffered generously so the handler never blocks).
func newRecorder[T any](t *testing.T) (*Consumer[T], chan T) {
	got := make(chan T, 10000)
	c := NewConsumer(func(v T) { got <- v }, nil)
	t.Cleanup(func() { c.Close() })
	return c, got
}

func TestConsumerPutSubscription(t *testing.T) {
	c, got := newRecorder[int](t)
	q := NewQueue[int](100)
	for i := range 100 {
		q.Put(i)
	}
	c.PutSubscription(q)
	if c.Subscription() != Getter[int](q) {
		t.Fatal("Subscription() is not the queue handed in")
	}
	for i := range 100 {
		if v := recv(t, got); v != i {
			t.Fatalf("handled %d, want %d", v, i)
		}
	}
	c.Close()
	// A subscription handed in (not made by the consumer) is not closed.
	q.Put(1)
	if v := mustGet[int](t, q); v != 1 {
		t.Fatal("consumer closed a subscription it did not make")
	}
	q.Close()
}

func TestConsumerPutSubscriptionProducer(t *testing.T) {
	c, got := newRecorder[string](t)
	p1 := NewProducer[string](nil)
	p2 := NewProducer[string](nil)
	defer p1.Close()
	defer p2.Close()
	other := p1.Subscribe() // someone else's subscription, untouched throughout
	defer other.Close()

	c.PutSubscription(p1)
	if n := p1.Subscribers(); n != 2 {
		t.Fatalf("p1 Subscribers = %d, want 2 (other + the consumer's)", n)
	}
	p1.Publish("old-1")
	if v := recv(t, got); v != "old-1" {
		t.Fatalf("handled %q, want old-1", v)
	}

	// Replace mid-stream: the owned subscription to p1 is closed at once.
	c.PutSubscription(p2)
	if n := p1.Subscribers(); n != 1 {
		t.Fatalf("p1 Subscribers after replace = %d, want 1", n)
	}
	if n := p2.Subscribers(); n != 1 {
		t.Fatalf("p2 Subscribers = %d, want 1", n)
	}
	p1.Publish("old-2") // nobody of the consumer's is listening to p1 now
	p2.Publish("new-1")
	if v := recv(t, got); v != "new-1" {
		t.Fatalf("handled %q after the switch, want new-1", v)
	}
	for i := range 50 {
		p1.Publish("old-late")
		p2.Publish("new-" + string(rune('a'+i%26)))
	}
	for range 50 {
		if v := recv(t, got); v == "old-late" || v == "old-2" {
			t.Fatalf("handled %q from the old source after the switch was observed", v)
		}
	}
	if v := mustGet(t, other); v != "old-1" {
		t.Fatalf("other subscriber lost items: %q", v)
	}

	c.Close()
	if n := p2.Subscribers(); n != 0 {
		t.Fatalf("p2 Subscribers after consumer Close = %d, want 0", n)
	}
	if n := p1.Subscribers(); n != 1 {
		t.Fatalf("p1 Subscribers after consumer Close = %d, want 1", n)
	}
}

// Replacing many times while items flow never leaks a subscription and
// never runs the handler concurrently.
func TestConsumerReplaceChurn(t *testing.T) {
	var inHandler, overlap atomic.Int32
	c := NewConsumer(func(int) {
		if inHandler.Add(1) > 1 {
			overlap.Add(1)
		}
		inHandler.Add(-1)
	}, nil)
	defer c.Close()
	ps := []*Producer[int]{NewProducer[int](nil), NewProducer[int](nil)}
	for i := range 500 {
		p := ps[i%2]
		c.PutSubscription(p)
		p.Publish(i)
		if i%7 == 0 {
			c.Put(i)
		}
	}
	c.StopSubscription()
	for _, p := range ps {
		if n := p.Subscribers(); n != 0 {
			t.Fatalf("Subscribers = %d after StopSubscription, want 0", n)
		}
		p.Close()
	}
	if overlap.Load() != 0 {
		t.Fatal("handler ran concurrently with itself")
	}
}

func TestConsumerPutStopsSubscription(t *testing.T) {
	c, got := newRecorder[int](t)
	p := NewProducer[int](nil)
	defer p.Close()
	c.PutSubscription(p)
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	c.Put(1)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers after Put = %d, want 0 (Put stops the subscription)", n)
	}
	p.Publish(99)
	c.Put(2)
	c.Put(3)
	for _, want := range []int{1, 2, 3} {
		if v := recv(t, got); v != want {
			t.Fatalf("handled %d, want %d", v, want)
		}
	}
	// A subscription after Put takes over again.
	c.PutSubscription(p)
	p.Publish(4)
	if v := recv(t, got); v != 4 {
		t.Fatalf("handled %d, want 4", v)
	}
}

func TestConsumerStopSubscription(t *testing.T) {
	c, got := newRecorder[int](t)
	p := NewProducer[int](nil)
	defer p.Close()
	c.PutSubscription(p)
	c.StopSubscription()
	if c.Subscription() != nil {
		t.Fatal("Subscription() not nil after StopSubscription")
	}
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
	c.PutSubscription(nil) // the same as StopSubscription
	if c.IsClosed() {
		t.Fatal("StopSubscription closed the consumer")
	}
	c.Put(5)
	if v := recv(t, got); v != 5 {
		t.Fatalf("handled %d, want 5", v)
	}
}

func TestConsumerInputClosedThenNew(t *testing.T) {
	c, got := newRecorder[int](t)
	p := NewProducer[int](nil)
	c.PutSubscription(p)
	p.Publish(1)
	p.Close()
	if v := recv(t, got); v != 1 {
		t.Fatalf("handled %d, want 1", v)
	}
	// No event tells that the consumer went idle: poll.
	eventually(t, "consumer idle after its input closed", func() bool { return c.Subscription() == nil })
	if c.IsClosed() {
		t.Fatal("consumer closed because its input did")
	}
	if c.Err() != nil {
		t.Fatalf("ErrClosed input reported as error %v", c.Err())
	}
	p2 := NewProducer[int](nil)
	defer p2.Close()
	c.PutSubscription(p2)
	p2.Publish(2)
	if v := recv(t, got); v != 2 {
		t.Fatalf("handled %d from the new input, want 2", v)
	}
}

func TestConsumerInputError(t *testing.T) {
	c, got := newRecorder[int](t)
	boom := errors.New("boom")
	errc := make(chan error, 1)
	c.OnError(func(err error) { errc <- err })
	n := 0
	c.PutSubscription(GetterFunc[int](func(context.Context) (int, error) {
		n++
		if n > 2 {
			return 0, boom
		}
		return n, nil
	}))
	if err := recv(t, errc); !errors.Is(err, boom) {
		t.Fatalf("OnError got %v, want boom", err)
	}
	for _, want := range []int{1, 2} {
		if v := recv(t, got); v != want {
			t.Fatalf("handled %d, want %d", v, want)
		}
	}
	eventually(t, "failed input dropped", func() bool { return c.Subscription() == nil })
	if c.IsClosed() {
		t.Fatal("consumer closed after an input error")
	}
	c.Put(3)
	if v := recv(t, got); v != 3 {
		t.Fatalf("handled %d after the error, want 3", v)
	}
}

// A GetterFunc is a func type, not comparable: nothing may compare it.
func TestConsumerGetterFunc(t *testing.T) {
	c, got := newRecorder[int](t)
	ticks := func(base int) GetterFunc[int] {
		return func(ctx context.Context) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			default:
				base++
				return base, nil
			}
		}
	}
	c.PutSubscription(ticks(0))
	if v := recv(t, got); v < 1 || v > 1000 {
		t.Fatalf("handled %d from the first getter", v)
	}
	c.PutSubscription(ticks(1_000_000)) // replace one GetterFunc by another
	for {
		if v := recv(t, got); v > 1_000_000 {
			break
		}
	}
	c.StopSubscription()
	c.Put(-1)
	for v := recv(t, got); v != -1; v = recv(t, got) {
	}
	c.Close()
}

func TestConsumerDelayedInput(t *testing.T) {
	c, got := newRecorder[int](t)
	p := NewProducer[int](nil)
	defer p.Close()
	d := NewDelayed[int](p)
	c.PutSubscription(d) // read as it is: no Subscribe method
	eventually(t, "delayed subscription made by the consumer's first Get", func() bool { return p.Subscribers() == 1 })
	p.Publish(8)
	if v := recv(t, got); v != 8 {
		t.Fatalf("handled %d, want 8", v)
	}
	c.Close()
	d.Close()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
}

func TestConsumerPutSubscriptionMap(t *testing.T) {
	c, got := newRecorder[string](t)
	p := NewProducer[int](nil)
	defer p.Close()
	c.PutSubscription(Map(p, func(i int) string { return "v" + string(rune('0'+i)) }))
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	p.Publish(1)
	p.Publish(2)
	for _, want := range []string{"v1", "v2"} {
		if v := recv(t, got); v != want {
			t.Fatalf("handled %q, want %q", v, want)
		}
	}
	c.StopSubscription()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers after StopSubscription = %d, want 0", n)
	}
}

func TestConsumerClose(t *testing.T) {
	c, got := newRecorder[int](t)
	p := NewProducer[int](nil)
	defer p.Close()
	c.PutSubscription(p)
	p.Publish(1)
	if v := recv(t, got); v != 1 {
		t.Fatalf("handled %d, want 1", v)
	}
	notClosed(t, c.Done(), "Done before Close")
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closedWithin(t, c.Done(), "Done")
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers after Close = %d, want 0", n)
	}
	// Everything after Close does nothing.
	c.Put(2)
	c.PutSubscription(p)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("PutSubscription after Close left %d subscribers", n)
	}
	q := NewQueue[int](1)
	q.Put(3)
	c.PutSubscription(q)
	c.StopSubscription()
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	p.Publish(4)
	select {
	case v := <-got:
		t.Fatalf("handled %d after Close", v)
	default:
	}
	if v := mustGet[int](t, q); v != 3 {
		t.Fatal("a closed consumer read from a subscription handed to it")
	}
	q.Close()
}

// Close waits for a handler that is running, and never started consumers
// close at once.
func TestConsumerCloseWaitsForHandler(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	c := NewConsumer(func(int) {
		close(entered)
		<-release
		finished.Store(true)
	}, nil)
	c.Put(1)
	<-entered
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	notClosed(t, closed, "Close while the handler runs")
	close(release)
	closedWithin(t, closed, "Close")
	if !finished.Load() {
		t.Fatal("Close returned before the handler finished")
	}

	idle := NewConsumer(func(int) {}, nil)
	idle.Close()
	closedWithin(t, idle.Done(), "never-started consumer Done")
}

// Close while the consumer is blocked reading a subscription it was handed
// (not one it owns) still ends its goroutine.
func TestConsumerCloseWhileBlocked(t *testing.T) {
	q := NewQueue[int](1)
	defer q.Close()
	c := NewConsumer(func(int) {}, nil)
	c.PutSubscription(q)
	c.Close()
	closedWithin(t, c.Done(), "Done")
}

// A consumer built with a latest-only direct buffer skips items a slow
// handler could not take.
func TestConsumerLatestDirect(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	got := make(chan int, 10)
	c := NewConsumer(func(v int) {
		entered <- struct{}{}
		<-release
		got <- v
	}, func() Subscription[int] { return NewLatest[int]() })
	defer c.Close()
	c.Put(1)
	<-entered // the handler holds item 1
	for i := 2; i <= 50; i++ {
		c.Put(i)
	}
	close(release)
	if first := recv(t, got); first != 1 {
		t.Fatalf("handled %d first, want 1", first)
	}
	<-entered
	if second := recv(t, got); second != 50 {
		t.Fatalf("handled %d second, want the newest, 50", second)
	}
	wantEmpty[int](t, c.Subscription())
}

// Replacing the input takes effect after the item being handled: a backlog
// held by the old input is not worked through first, and nothing is taken
// from an input the consumer was handed but no longer reads.
func TestConsumerReplaceSkipsOldBacklog(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	got := make(chan int, 200)
	c := NewConsumer(func(v int) {
		if v == 0 {
			entered <- struct{}{}
			<-release
		}
		got <- v
	}, nil)
	defer c.Close()
	old := NewQueue[int](100)
	for i := range 100 {
		old.Put(i)
	}
	c.PutSubscription(old)
	<-entered // handling item 0; 99 items still held by old
	next := NewQueue[int](1)
	next.Put(1000)
	c.PutSubscription(next)
	close(release)
	if v := recv(t, got); v != 0 {
		t.Fatalf("handled %d, want 0", v)
	}
	if v := recv(t, got); v != 1000 {
		t.Fatalf("handled %d after the replacement, want 1000 from the new input", v)
	}
	if n := old.Len(); n != 99 {
		t.Fatalf("old input holds %d items, want 99 (none taken after the switch)", n)
	}
	old.Close()
	next.Close()
}
