package rtcbot

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func queueOf[T any](capacity int) func() Subscription[T] {
	return func() Subscription[T] { return NewQueue[T](capacity) }
}

func TestProducerFanOut(t *testing.T) {
	const subs, items = 5, 200
	p := NewProducer(queueOf[int](items))
	defer p.Close()
	var ss []Subscription[int]
	for range subs {
		ss = append(ss, p.Subscribe())
	}
	if n := p.Subscribers(); n != subs {
		t.Fatalf("Subscribers = %d, want %d", n, subs)
	}
	for i := range items {
		p.Publish(i)
	}
	for k, s := range ss {
		for i := range items {
			if got := mustGet(t, s); got != i {
				t.Fatalf("subscription %d: item %d = %d", k, i, got)
			}
		}
		wantEmpty(t, s)
	}
}

// Readers on their own goroutines each see every item in order while the
// producer publishes concurrently.
func TestProducerFanOutConcurrent(t *testing.T) {
	const subs, items = 8, 5000
	p := NewProducer(queueOf[int](items))
	var wg sync.WaitGroup
	for range subs {
		s := p.Subscribe()
		wg.Go(func() {
			next := 0
			for {
				v, err := s.Get(context.Background())
				if errors.Is(err, ErrClosed) {
					break
				}
				if v != next {
					t.Errorf("got %d, want %d", v, next)
					return
				}
				next++
			}
			if next != items {
				t.Errorf("read %d items, want %d", next, items)
			}
		})
	}
	for i := range items {
		p.Publish(i)
	}
	p.Close()
	wg.Wait()
}

func TestProducerSubscribeOnlySeesLaterItems(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	a := p.Subscribe()
	p.Publish(1)
	b := p.Subscribe()
	p.Publish(2)
	if got := mustGet(t, a); got != 1 {
		t.Fatalf("a got %d, want 1", got)
	}
	if got := mustGet(t, b); got != 2 {
		t.Fatalf("b got %d, want 2", got)
	}
}

func TestProducerDefaultKind(t *testing.T) {
	p := NewProducer(func() Subscription[int] { return NewLatest[int]() })
	defer p.Close()
	s := p.Subscribe()
	if _, ok := s.(*Latest[int]); !ok {
		t.Fatalf("Subscribe returned %T, want *Latest[int]", s)
	}
	for i := range 10 {
		p.Publish(i)
	}
	if got := mustGet(t, s); got != 9 {
		t.Fatalf("got %d, want 9", got)
	}
	q := NewProducer[int](nil).Subscribe()
	if qq, ok := q.(*Queue[int]); !ok || qq.Cap() != DefaultQueueCapacity {
		t.Fatalf("nil newSub made %T, want a default-capacity *Queue[int]", q)
	}
	q.Close()
}

func TestProducerSubscribeWith(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	e := NewEvent[int]()
	if got := p.SubscribeWith(e); got != Subscription[int](e) {
		t.Fatal("SubscribeWith did not return its argument")
	}
	p.Publish(4)
	p.Publish(5)
	if got := mustGet[int](t, e); got != 4 {
		t.Fatalf("event got %d, want 4", got)
	}
}

func TestProducerSubscribeAfterClose(t *testing.T) {
	p := NewProducer[int](nil)
	p.Close()
	s := p.Subscribe()
	wantClosed(t, s)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
	q := NewQueue[int](1)
	p.SubscribeWith(q)
	wantClosed[int](t, q)
	p.Publish(1) // after Close: nothing, no panic
	wantClosed[int](t, p)
}

func TestProducerClosingSubscriptionRemovesIt(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	a, b := p.Subscribe(), p.Subscribe()
	l := p.SubscribeWith(NewLatest[int]())
	e := p.SubscribeWith(NewEvent[int]())
	r := NewRebatch(2, 0)
	rp := NewProducer[AudioChunk](nil)
	defer rp.Close()
	rp.SubscribeWith(r)
	if n := p.Subscribers(); n != 4 {
		t.Fatalf("Subscribers = %d, want 4", n)
	}
	a.Close()
	if n := p.Subscribers(); n != 3 {
		t.Fatalf("after closing a: Subscribers = %d, want 3", n)
	}
	l.Close()
	e.Close()
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("after closing latest and event: Subscribers = %d, want 1", n)
	}
	p.Publish(1)
	if got := mustGet(t, b); got != 1 {
		t.Fatalf("b got %d, want 1", got)
	}
	r.Close()
	if n := rp.Subscribers(); n != 0 {
		t.Fatalf("after closing a Rebatch: Subscribers = %d, want 0", n)
	}
}

// A subscription closed before (or while) it is handed to SubscribeWith must
// not stay registered for ever.
func TestProducerSubscribeWithClosedSubscription(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	q := NewQueue[int](1)
	q.Close()
	p.SubscribeWith(q)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after subscribing a closed queue, want 0", n)
	}

	// The same, racing: readers close their subscription while subscribing.
	var wg sync.WaitGroup
	for range 200 {
		q := NewQueue[int](1)
		wg.Go(func() { q.Close() })
		p.SubscribeWith(q)
	}
	wg.Wait()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after racing closes, want 0", n)
	}
}

func TestProducerUnsubscribe(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	a, b := p.Subscribe(), p.Subscribe()
	if !p.Unsubscribe(a) {
		t.Fatal("Unsubscribe(a) = false, want true")
	}
	wantClosed(t, a) // Unsubscribe closes it
	if p.Unsubscribe(a) {
		t.Fatal("second Unsubscribe(a) = true, want false")
	}
	stranger := NewQueue[int](1)
	if p.Unsubscribe(stranger) {
		t.Fatal("Unsubscribe(unknown) = true, want false")
	}
	stranger.Put(5)
	if got := mustGet[int](t, stranger); got != 5 {
		t.Fatal("Unsubscribe(unknown) closed or changed the stranger")
	}
	if p.Unsubscribe(nil) {
		t.Fatal("Unsubscribe(nil) = true")
	}
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	p.Publish(1)
	if got := mustGet(t, b); got != 1 {
		t.Fatalf("b got %d, want 1", got)
	}
	stranger.Close()
}

func TestProducerUnsubscribeAll(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	a, b := p.Subscribe(), p.Subscribe()
	wantEmpty[int](t, p) // makes the default subscription
	if n := p.Subscribers(); n != 3 {
		t.Fatalf("Subscribers = %d, want 3", n)
	}
	p.Publish(1)
	p.UnsubscribeAll()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
	for _, s := range []Subscription[int]{a, b} {
		if got := mustGet(t, s); got != 1 {
			t.Fatalf("held item %d, want 1", got)
		}
		wantClosed(t, s)
	}
	if p.IsClosed() {
		t.Fatal("UnsubscribeAll closed the producer")
	}
	// Still usable: Get makes a new default subscription (the old one, and
	// the item it held, are gone).
	wantEmpty[int](t, p)
	c := p.Subscribe()
	p.Publish(2)
	if got := mustGet(t, c); got != 2 {
		t.Fatalf("new subscription got %d, want 2", got)
	}
	if got := mustGet[int](t, p); got != 2 {
		t.Fatalf("new default subscription got %d, want 2", got)
	}
}

func TestProducerGetDefaultSubscription(t *testing.T) {
	p := NewProducer[string](nil)
	wantEmpty[string](t, p) // makes the default subscription
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1 (the default)", n)
	}
	p.Publish("a")
	p.Publish("b")
	if got := mustGet[string](t, p); got != "a" {
		t.Fatalf("got %q, want a", got)
	}
	if got := mustGet[string](t, p); got != "b" {
		t.Fatalf("got %q, want b", got)
	}
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want still 1", n)
	}
	p.Publish("c")
	p.Close()
	if got := mustGet[string](t, p); got != "c" {
		t.Fatalf("got %q, want c (held before close)", got)
	}
	wantClosed[string](t, p)
}

func TestProducerGetAfterClose(t *testing.T) {
	p := NewProducer[int](nil)
	p.Close()
	wantClosed[int](t, p)
}

func TestProducerCloseEndsReaders(t *testing.T) {
	p := NewProducer[int](nil)
	const readers = 6
	errc := make(chan error, readers+1)
	for range readers {
		s := p.Subscribe()
		go func() {
			_, err := s.Get(context.Background())
			errc <- err
		}()
	}
	go func() { // through the default subscription too
		_, err := p.Get(context.Background())
		errc <- err
	}()
	eventually(t, "default subscription made", func() bool { return p.Subscribers() == readers+1 })
	done := p.Done()
	notClosed(t, done, "Done before Close")
	p.Close()
	for range readers + 1 {
		if err := recv(t, errc); !errors.Is(err, ErrClosed) {
			t.Fatalf("reader got %v, want ErrClosed", err)
		}
	}
	closedWithin(t, done, "Done")
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after Close, want 0", n)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestProducerSubscribeFunc(t *testing.T) {
	p := NewProducer[int](nil)
	got := make(chan int, 1000)
	cb := p.SubscribeFunc(func(v int) { got <- v })
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	for i := range 1000 {
		p.Publish(i)
	}
	for i := range 1000 {
		if v := recv(t, got); v != i {
			t.Fatalf("callback item %d = %d", i, v)
		}
	}
	notClosed(t, cb.Done(), "callback Done before producer Close")
	p.Close()
	closedWithin(t, cb.Done(), "callback Done after producer Close")
}

func TestProducerSubscribeFuncClose(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	cb := p.SubscribeFunc(func(int) {})
	cb.Close()
	closedWithin(t, cb.Done(), "callback Done")
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after closing the callback, want 0", n)
	}
	cb2 := p.SubscribeFunc(func(int) {})
	p.UnsubscribeAll()
	closedWithin(t, cb2.Done(), "unsubscribed callback Done")
}

func TestProducerSubscribeFuncAfterClose(t *testing.T) {
	p := NewProducer[int](nil)
	p.Close()
	cb := p.SubscribeFunc(func(int) { t.Error("called after close") })
	closedWithin(t, cb.Done(), "callback on a closed producer")
}

func TestProducerEvents(t *testing.T) {
	p := NewProducer[int](nil)
	var order []string
	p.OnReady(func() { order = append(order, "ready") })
	p.OnClose(func() { order = append(order, "close") })
	p.SetReady()
	p.Publish(1)
	p.Close()
	p.Close()
	if len(order) != 2 || order[0] != "ready" || order[1] != "close" {
		t.Fatalf("events %v, want [ready close]", order)
	}
}

// Subscribing, unsubscribing, publishing and closing all at once must be
// race-free and leave nothing registered.
func TestProducerConcurrentChurn(t *testing.T) {
	p := NewProducer(queueOf[int](4))
	var wg, pub sync.WaitGroup
	stop := make(chan struct{})
	pub.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				p.Publish(i)
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for j := range 300 {
				s := p.Subscribe()
				if j%2 == 0 {
					s.Close()
				} else {
					p.Unsubscribe(s)
				}
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			p.UnsubscribeAll()
		}
	})
	wg.Wait()
	close(stop)
	pub.Wait()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after churn, want 0", n)
	}
	p.Close()
}
