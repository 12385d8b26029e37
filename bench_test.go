package rtcbot

import (
	"context"
	"testing"
)

// Run with: go test -run '^$' -bench . -benchmem .

func BenchmarkQueuePutGet(b *testing.B) {
	q := NewQueue[int](0)
	defer q.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Put(i)
		if _, err := q.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLatestPutGet(b *testing.B) {
	l := NewLatest[int]()
	defer l.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Put(i)
		if _, err := l.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLatestOverwrite measures the overflow path: each Put replaces
// the held item.
func BenchmarkLatestOverwrite(b *testing.B) {
	l := NewLatest[int]()
	defer l.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Put(i)
	}
}

// benchFanOut publishes each item to n Queue subscriptions and reads it
// back from each, all on one goroutine; ns/item/sub is the cost per item
// per subscriber.
func benchFanOut(b *testing.B, n int) {
	p := NewProducer[int](nil)
	defer p.Close()
	subs := make([]Subscription[int], n)
	for k := range subs {
		subs[k] = p.Subscribe()
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Publish(i)
		for _, s := range subs {
			if v, err := s.Get(ctx); err != nil || v != i {
				b.Fatalf("got %d, %v; want %d", v, err, i)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item/sub")
}

func BenchmarkFanOut1(b *testing.B) { benchFanOut(b, 1) }
func BenchmarkFanOut8(b *testing.B) { benchFanOut(b, 8) }

// BenchmarkPublish8 is Publish alone (8 Latest subscriptions, never read),
// the path a camera takes for every frame: it must not allocate.
func BenchmarkPublish8(b *testing.B) {
	p := NewProducer(func() Subscription[int] { return NewLatest[int]() })
	defer p.Close()
	for range 8 {
		p.Subscribe()
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Publish(i)
	}
}

// TestPublishDoesNotAllocate pins the 0-allocation goal for value types.
func TestPublishDoesNotAllocate(t *testing.T) {
	p := NewProducer[int](nil)
	defer p.Close()
	subs := []Subscription[int]{p.Subscribe(), p.Subscribe(), p.SubscribeWith(NewLatest[int]())}
	ctx := context.Background()
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		p.Publish(i)
		for _, s := range subs {
			if _, err := s.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("Publish + Get allocates %v times per item, want 0", allocs)
	}
}

// benchInputEvent is a gamepad's stick moving, as a robot receives it.
var benchInputEvent = InputEvent{Timestamp: 1553379212.684861, Code: "ABS_X", State: -12345, Event: InputAbsolute}

// benchMap is a small control message, as a desktop sends it.
var benchMap = map[string]any{"forward": 0.5, "turn": -0.25, "mode": "drive"}

// BenchmarkMessageEncode is what a connection's data channel does to each
// message it sends (encodeMessage: JSON, as RTCBot sends it).
func BenchmarkMessageEncode(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  any
	}{{"InputEvent", benchInputEvent}, {"Map", benchMap}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				data, _, err := encodeMessage(bc.msg)
				if err != nil {
					b.Fatal(err)
				}
				n = len(data)
			}
			b.ReportMetric(float64(n), "bytes/msg")
		})
	}
}

// BenchmarkMessageDecode is what a connection's data channel does to each
// text message it receives (decodeText), and for the input event what a
// robot then does to get the event back (InputEventFromMessage).
func BenchmarkMessageDecode(b *testing.B) {
	event, _, err := encodeMessage(benchInputEvent)
	if err != nil {
		b.Fatal(err)
	}
	m, _, err := encodeMessage(benchMap)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("InputEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if e, ok := InputEventFromMessage(decodeText(event)); !ok || e != benchInputEvent {
				b.Fatalf("decoded %+v, %v", e, ok)
			}
		}
	})
	b.Run("Map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v, ok := decodeText(m).(map[string]any); !ok || len(v) != len(benchMap) {
				b.Fatalf("decoded %v", v)
			}
		}
	})
}
