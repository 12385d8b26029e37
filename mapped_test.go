package rtcbot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestMapTypes(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	m := Map(p, strconv.Itoa)
	a, b := m.Subscribe(), m.Subscribe()
	if n := p.Subscribers(); n != 2 {
		t.Fatalf("producer Subscribers = %d, want 2", n)
	}
	for i := range 5 {
		p.Publish(i)
	}
	for _, s := range []Subscription[string]{a, b} {
		for i := range 5 {
			if got := mustGet(t, s); got != strconv.Itoa(i) {
				t.Fatalf("got %q, want %q", got, strconv.Itoa(i))
			}
		}
	}
	a.Close()
	b.Close()
}

func TestMapCloseUnsubscribes(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	m := Map(p, func(i int) float64 { return float64(i) / 2 })
	s := m.Subscribe()
	keep := m.Subscribe()
	if n := p.Subscribers(); n != 2 {
		t.Fatalf("Subscribers = %d, want 2", n)
	}
	s.Close()
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers after closing a mapped subscription = %d, want 1", n)
	}
	if !m.Unsubscribe(keep) {
		t.Fatal("Unsubscribe(keep) = false")
	}
	wantClosed(t, keep)
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers after Unsubscribe = %d, want 0", n)
	}
	if m.Unsubscribe(keep) || m.Unsubscribe(NewQueue[float64](1)) {
		t.Fatal("Unsubscribe of an unknown subscription = true")
	}
}

func TestMapSourceClosed(t *testing.T) {
	p := NewProducer[int](nil)
	m := Map(p, func(i int) int { return i * i })
	s := m.Subscribe()
	errc := make(chan error, 1)
	blocked := m.Subscribe()
	p.Publish(3)
	if got := mustGet(t, blocked); got != 9 {
		t.Fatalf("got %d, want 9", got)
	}
	go func() {
		_, err := blocked.Get(context.Background())
		errc <- err
	}()
	p.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked mapped reader got %v, want ErrClosed", err)
	}
	if got := mustGet(t, s); got != 9 {
		t.Fatalf("got %d, want 9 (held before close)", got)
	}
	wantClosed(t, s)
	// Subscribing after the source closed gives a closed subscription.
	wantClosed(t, m.Subscribe())
	wantClosed[int](t, m)
}

func TestMapGetDefault(t *testing.T) {
	p := NewProducer[int](nil)
	m := Map(p, func(i int) string { return "#" + strconv.Itoa(i) })
	wantEmpty[string](t, m) // makes the default subscription
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	p.Publish(1)
	p.Publish(2)
	if got := mustGet[string](t, m); got != "#1" {
		t.Fatalf("got %q", got)
	}
	if got := mustGet[string](t, m); got != "#2" {
		t.Fatalf("got %q", got)
	}
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want still 1", n)
	}
	p.Close()
	wantClosed[string](t, m)
}

func TestMapSubscribeWith(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	m := Map(p, func(i int) int { return -i })
	l := NewLatest[int]()
	m.SubscribeWith(l)
	p.Publish(1)
	p.Publish(2)
	if got := mustGet[int](t, l); got != -2 {
		t.Fatalf("got %d, want -2", got)
	}
	// A subscription that is already closed leaves nothing behind.
	q := NewQueue[int](1)
	q.Close()
	m.SubscribeWith(q)
	if n := p.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d after subscribing a closed queue, want 1", n)
	}
	l.Close()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d, want 0", n)
	}
}

// Map of a Map, and Map's function runs once per item per subscription.
func TestMapChain(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	m := Map(Map(p, func(i int) int { return i + 1 }), strconv.Itoa)
	s := m.Subscribe()
	p.Publish(41)
	if got := mustGet(t, s); got != "42" {
		t.Fatalf("got %q, want 42", got)
	}
	s.Close()
	if n := p.Subscribers(); n != 0 {
		t.Fatalf("Subscribers = %d after closing the chained subscription, want 0", n)
	}
}

func TestMapWithLatest(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	m := MapWith(p, func(i int) string { return fmt.Sprint(i) }, func() Subscription[string] { return NewLatest[string]() })
	s := m.Subscribe()
	if _, ok := s.(*Latest[string]); !ok {
		t.Fatalf("MapWith made a %T, want *Latest[string]", s)
	}
	for i := range 5 {
		p.Publish(i)
	}
	if got := mustGet(t, s); got != "4" {
		t.Fatalf("latest mapped item %q, want %q", got, "4")
	}
	wantEmpty(t, s)
}
