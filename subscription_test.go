package rtcbot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Compile-time checks: every subscription kind is a Subscription, and the
// producer and Mapped are Sources.
var (
	_ Subscription[int]        = (*Queue[int])(nil)
	_ Subscription[int]        = (*Latest[int])(nil)
	_ Subscription[int]        = (*Event[int])(nil)
	_ Subscription[int]        = (*Delayed[int])(nil)
	_ Subscription[AudioChunk] = (*Rebatch)(nil)
	_ Getter[int]              = GetterFunc[int](nil)
	_ Source[int]              = (*Producer[int])(nil)
	_ Source[string]           = (*Mapped[int, string])(nil)
)

func TestQueueFIFO(t *testing.T) {
	q := NewQueue[int](10)
	for i := range 10 {
		q.Put(i)
	}
	if q.Len() != 10 {
		t.Fatalf("Len = %d, want 10", q.Len())
	}
	for i := range 10 {
		if got := mustGet[int](t, q); got != i {
			t.Fatalf("item %d = %d", i, got)
		}
	}
	if q.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0", q.Dropped())
	}
	wantEmpty[int](t, q)
	q.Close()
}

func TestQueueDefaultCapacity(t *testing.T) {
	for _, capacity := range []int{0, -5} {
		q := NewQueue[int](capacity)
		for i := range DefaultQueueCapacity + 3 {
			q.Put(i)
		}
		if q.Len() != DefaultQueueCapacity || q.Dropped() != 3 {
			t.Fatalf("capacity %d: Len, Dropped = %d, %d; want %d, 3", capacity, q.Len(), q.Dropped(), DefaultQueueCapacity)
		}
		if got := mustGet[int](t, q); got != 3 {
			t.Fatalf("capacity %d: first item %d, want 3", capacity, got)
		}
		q.Close()
	}
}

func TestQueueDropOldestKeepsNewest(t *testing.T) {
	q := NewQueue[int](3)
	for i := 1; i <= 10; i++ {
		q.Put(i)
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (bounded)", q.Len())
	}
	if q.Dropped() != 7 {
		t.Fatalf("Dropped = %d, want 7", q.Dropped())
	}
	for _, want := range []int{8, 9, 10} {
		if got := mustGet[int](t, q); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	wantEmpty[int](t, q)
	q.Close()
}

func TestQueueDropNewestKeepsOldest(t *testing.T) {
	q := NewQueueWithOverflow[int](3, DropNewest)
	for i := 1; i <= 10; i++ {
		q.Put(i)
	}
	if q.Len() != 3 || q.Dropped() != 7 {
		t.Fatalf("Len, Dropped = %d, %d; want 3, 7", q.Len(), q.Dropped())
	}
	for _, want := range []int{1, 2, 3} {
		if got := mustGet[int](t, q); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	// Room again: the next item is kept.
	q.Put(11)
	if got := mustGet[int](t, q); got != 11 {
		t.Fatalf("got %d, want 11", got)
	}
	q.Close()
}

func TestQueueCloseDrainsThenErrClosed(t *testing.T) {
	q := NewQueue[string](4)
	q.Put("a")
	q.Put("b")
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := mustGet[string](t, q); got != "a" {
		t.Fatalf("got %q, want a", got)
	}
	if got := mustGet[string](t, q); got != "b" {
		t.Fatalf("got %q, want b", got)
	}
	wantClosed[string](t, q)
	wantClosed[string](t, q) // and stays so
}

func TestQueuePutAfterCloseDropped(t *testing.T) {
	q := NewQueue[int](4)
	q.Put(1)
	q.Close()
	q.Put(2) // must not panic on the closed channel
	q.Put(3)
	if q.Dropped() != 2 {
		t.Fatalf("Dropped = %d, want 2", q.Dropped())
	}
	if got := mustGet[int](t, q); got != 1 {
		t.Fatalf("got %d, want 1", got)
	}
	wantClosed[int](t, q)
}

func TestQueueCloseWakesBlockedReader(t *testing.T) {
	q := NewQueue[int](1)
	errc := make(chan error, 1)
	go func() {
		_, err := q.Get(context.Background())
		errc <- err
	}()
	q.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Get returned %v, want ErrClosed", err)
	}
}

func TestQueueChannelForm(t *testing.T) {
	q := NewQueue[int](8)
	for i := range 5 {
		q.Put(i)
	}
	q.Close()
	var got []int
	for v := range q.C() { // ends only because C is closed after the drain
		got = append(got, v)
	}
	if len(got) != 5 {
		t.Fatalf("got %v, want 0..4", got)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("got %v, want 0..4", got)
		}
	}
}

func TestQueueContextCancel(t *testing.T) {
	q := NewQueue[int](1)
	defer q.Close()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Get(ctx)
		errc <- err
	}()
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	if _, err := q.Get(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want context.DeadlineExceeded", err)
	}
	// The queue still works afterwards.
	q.Put(7)
	if got := mustGet[int](t, q); got != 7 {
		t.Fatalf("got %d, want 7", got)
	}
}

// Many writers and readers, then Close: with enough capacity nothing is
// lost, every item is read exactly once and each writer's items stay in
// order.
func TestQueueConcurrentNoLoss(t *testing.T) {
	const writers, perWriter, readers = 4, 2000, 3
	q := NewQueue[[2]int](writers * perWriter)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				q.Put([2]int{w, i})
			}
		})
	}
	results := make(chan [][2]int, readers)
	for range readers {
		go func() {
			var got [][2]int
			for {
				v, err := q.Get(context.Background())
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Get: %v", err)
					}
					results <- got
					return
				}
				got = append(got, v)
			}
		}()
	}
	wg.Wait()
	q.Close()

	seen := make([][]bool, writers)
	for w := range seen {
		seen[w] = make([]bool, perWriter)
	}
	total := 0
	for range readers {
		got := recv(t, results)
		last := make([]int, writers)
		for w := range last {
			last[w] = -1
		}
		for _, v := range got {
			w, i := v[0], v[1]
			if seen[w][i] {
				t.Fatalf("item %v read twice", v)
			}
			seen[w][i] = true
			if i <= last[w] {
				t.Fatalf("writer %d: item %d read after %d by one reader", w, i, last[w])
			}
			last[w] = i
		}
		total += len(got)
	}
	if total != writers*perWriter {
		t.Fatalf("read %d items, want %d", total, writers*perWriter)
	}
	if q.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0", q.Dropped())
	}
}

// Close racing with Put and Get must neither panic nor lose track: every
// item put is either read or counted as dropped.
func TestQueueCloseRacesPut(t *testing.T) {
	for range 50 {
		q := NewQueue[int](16)
		var put atomic.Uint64
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for i := range 200 {
					q.Put(i)
					put.Add(1)
				}
			})
		}
		readc := make(chan uint64, 1)
		go func() {
			var n uint64
			for range q.C() {
				n++
			}
			readc <- n
		}()
		q.Close()
		wg.Wait()
		read := recv(t, readc)
		if read+q.Dropped() != put.Load() {
			t.Fatalf("read %d + dropped %d != put %d", read, q.Dropped(), put.Load())
		}
	}
}

func TestLatestKeepsNewest(t *testing.T) {
	l := NewLatest[int]()
	wantEmpty[int](t, l)
	for i := 1; i <= 5; i++ {
		l.Put(i)
	}
	if got := mustGet[int](t, l); got != 5 {
		t.Fatalf("got %d, want 5", got)
	}
	if l.Skipped() != 4 {
		t.Fatalf("Skipped = %d, want 4", l.Skipped())
	}
	wantEmpty[int](t, l) // an item is returned once
	l.Put(6)
	if got := mustGet[int](t, l); got != 6 {
		t.Fatalf("got %d, want 6", got)
	}
	l.Close()
}

// A fast producer and a slow reader: the reader sees strictly increasing
// items, skips most of them, and every item is either read or skipped.
func TestLatestStrictlyIncreasing(t *testing.T) {
	const n = 20000
	l := NewLatest[int]()
	go func() {
		for i := 1; i <= n; i++ {
			l.Put(i)
		}
		l.Close()
	}()
	last, reads := 0, uint64(0)
	for {
		v, err := l.Get(context.Background())
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if v <= last {
			t.Fatalf("read %d after %d", v, last)
		}
		last = v
		reads++
		if reads%64 == 0 {
			time.Sleep(10 * time.Microsecond) // be a slow reader (not synchronisation)
		}
	}
	if last != n {
		t.Fatalf("last item read %d, want %d (the newest is never skipped)", last, n)
	}
	if reads+l.Skipped() != n {
		t.Fatalf("reads %d + skipped %d != %d", reads, l.Skipped(), n)
	}
}

func TestLatestClose(t *testing.T) {
	l := NewLatest[string]()
	l.Put("old")
	l.Put("new")
	l.Close()
	l.Close()
	l.Put("late") // dropped, no panic
	if got := mustGet[string](t, l); got != "new" {
		t.Fatalf("got %q, want new", got)
	}
	wantClosed[string](t, l)
	if l.Skipped() != 2 {
		t.Fatalf("Skipped = %d, want 2 (old, late)", l.Skipped())
	}
	// The channel form is closed too.
	if _, ok := <-l.C(); ok {
		t.Fatal("C() still open after Close and drain")
	}
}

func TestEventWakesAllReaders(t *testing.T) {
	const readers = 10
	e := NewEvent[string]()
	type result struct {
		v   string
		err error
	}
	results := make(chan result, readers)
	var started sync.WaitGroup
	started.Add(readers)
	for range readers {
		go func() {
			started.Done()
			v, err := e.Get(context.Background())
			results <- result{v, err}
		}()
	}
	started.Wait()
	notClosed(t, e.Fired(), "Fired before Put")
	e.Put("go")
	e.Put("ignored")
	for range readers {
		r := recv(t, results)
		if r.err != nil || r.v != "go" {
			t.Fatalf("reader got %q, %v; want go", r.v, r.err)
		}
	}
	closedWithin(t, e.Fired(), "Fired")
	// Later readers get the same value at once, again and again.
	for range 3 {
		if got := mustGet[string](t, e); got != "go" {
			t.Fatalf("late Get = %q, want go", got)
		}
	}
	// Close after firing keeps the value.
	e.Close()
	if got := mustGet[string](t, e); got != "go" {
		t.Fatalf("Get after Close = %q, want go", got)
	}
}

func TestEventCloseBeforeFire(t *testing.T) {
	e := NewEvent[int]()
	errc := make(chan error, 1)
	go func() {
		_, err := e.Get(context.Background())
		errc <- err
	}()
	e.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get = %v, want ErrClosed", err)
	}
	e.Put(1) // ignored after close
	wantClosed[int](t, e)
	closedWithin(t, e.Fired(), "Fired after Close")
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestEventContext(t *testing.T) {
	e := NewEvent[int]()
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
}

func TestCallbackInOrderAndDone(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	got := make(chan int, 100)
	c := p.SubscribeFunc(func(v int) { got <- v })
	for i := range 100 {
		p.Publish(i)
	}
	for i := range 100 {
		if v := recv(t, got); v != i {
			t.Fatalf("callback item %d = %d", i, v)
		}
	}
	// A callback's items go to its function: it is not a subscription, so
	// nothing can Get from it.
	if _, ok := any(c).(Getter[int]); ok {
		t.Fatal("*Callback has a Get method")
	}
	notClosed(t, c.Done(), "Done before Close")
	c.Close()
	closedWithin(t, c.Done(), "Done")
}

// Close lets the items already buffered run, and a function may close its
// own callback without deadlock.
func TestCallbackCloseRunsBuffered(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	p := NewProducer[int](nil)
	defer p.Close()
	c := p.SubscribeFunc(func(int) {
		<-release
		calls.Add(1)
	})
	for i := range 5 {
		p.Publish(i)
	}
	c.Close()
	p.Publish(99) // after Close: not delivered
	close(release)
	closedWithin(t, c.Done(), "Done")
	if n := calls.Load(); n != 5 {
		t.Fatalf("callback ran %d times, want 5", n)
	}

	var self *Callback[int]
	ready := make(chan struct{})
	self = p.SubscribeFunc(func(int) { <-ready; self.Close() })
	p.Publish(1)
	close(ready)
	closedWithin(t, self.Done(), "self-closing callback Done")
}

func TestGetterFunc(t *testing.T) {
	n := 0
	g := GetterFunc[int](func(ctx context.Context) (int, error) {
		n++
		if n > 3 {
			return 0, ErrClosed
		}
		return n * 10, nil
	})
	for _, want := range []int{10, 20, 30} {
		if got := mustGet[int](t, g); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	wantClosed[int](t, g)
}

func TestDelayedSubscribesOnFirstGet(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	d := NewDelayed[int](p)
	p.Publish(1) // before anyone reads: not held anywhere
	d.Put(2)     // before the first Get: dropped
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers before first Get = %d, want 0", n)
	}
	// A Get with an ended context still subscribes, then finds nothing.
	wantEmpty[int](t, d)
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers after first Get = %d, want 1", n)
	}
	p.Publish(3)
	if got := mustGet[int](t, d); got != 3 {
		t.Fatalf("got %d, want 3 (1 and 2 came before the subscription)", got)
	}
	wantEmpty[int](t, d)
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers after more Gets = %d, want still 1", n)
	}

	// A blocked reader is woken by Close, which unsubscribes.
	errc := make(chan error, 1)
	go func() {
		_, err := d.Get(context.Background())
		errc <- err
	}()
	d.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Get after Close = %v, want ErrClosed", err)
	}
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers after Close = %d, want 0", n)
	}
	wantClosed[int](t, d)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Get after Close subscribed again: Subscribers = %d", n)
	}
	d.Close()
}

func TestDelayedCloseBeforeGet(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	d := NewDelayed[int](p)
	d.Close()
	wantClosed[int](t, d)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
}

func TestDelayedProducerClosed(t *testing.T) {
	p := NewProducer[int](nil)
	d := NewDelayed[int](p)
	defer d.Close()
	wantEmpty[int](t, d)
	p.Publish(1)
	p.Close()
	if got := mustGet[int](t, d); got != 1 {
		t.Fatalf("got %d, want 1", got)
	}
	wantClosed[int](t, d)
}
