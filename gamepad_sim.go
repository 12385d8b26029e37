package rtcbot

import (
	"sync"
	"time"
)

// DefaultSimulatedGamepadInterval is the pace of a SimulatedGamepad unless
// told otherwise.
const DefaultSimulatedGamepadInterval = 50 * time.Millisecond

// SimulatedGamepadSettings configures NewSimulatedGamepad.
type SimulatedGamepadSettings struct {
	// Interval is the time between events (default
	// DefaultSimulatedGamepadInterval).
	Interval time.Duration
	// Count is how many events to produce before closing; 0 means forever.
	Count int
}

// simulatedCycle is the script a SimulatedGamepad repeats: the robot output
// of RTCBot's offloading tutorial (A pressed and released, the left stick
// nudged up, then swept left while drifting up), followed by the stick
// returning to rest so that the cycle can start again.
var simulatedCycle = []struct {
	code  string
	state int
}{
	{"BTN_SOUTH", 1}, {"ABS_Y", -1}, {"BTN_SOUTH", 0},
	{"BTN_SOUTH", 1}, {"BTN_SOUTH", 0},
	{"BTN_SOUTH", 1}, {"BTN_SOUTH", 0},
	{"ABS_X", -11}, {"ABS_X", -64}, {"ABS_X", -95}, {"ABS_X", -158},
	{"ABS_X", -599}, {"ABS_X", -1240}, {"ABS_X", -1586}, {"ABS_X", -2080},
	{"ABS_X", -2689}, {"ABS_X", -3833}, {"ABS_X", -4957},
	{"ABS_Y", -53}, {"ABS_X", -7944}, {"ABS_Y", -106}, {"ABS_X", -10170},
	{"ABS_Y", -137}, {"ABS_X", -12567},
	{"ABS_X", 0}, {"ABS_Y", 0},
}

// SimulatedGamepadScript returns the first n events a SimulatedGamepad
// produces, with a zero Timestamp (the gamepad stamps each event with the
// clock when it produces it). The script is a cycle of 26 events, repeated:
// the 24 control messages of RTCBot's offloading tutorial (BTN_SOUTH
// pressed, ABS_Y -1, BTN_SOUTH released, two more presses and releases, then
// an ABS_X sweep from -11 to -12567 with ABS_Y drifting to -137), then ABS_X
// 0 and ABS_Y 0 as the stick returns to rest.
func SimulatedGamepadScript(n int) []InputEvent {
	events := make([]InputEvent, max(n, 0))
	for i := range events {
		events[i] = simulatedEvent(i)
	}
	return events
}

// simulatedEvent returns event i of the script, unstamped.
func simulatedEvent(i int) InputEvent {
	c := simulatedCycle[i%len(simulatedCycle)]
	kind := InputAbsolute
	if c.code == "BTN_SOUTH" {
		kind = InputKey
	}
	return InputEvent{Code: c.code, State: c.state, Event: kind}
}

// SimulatedGamepad is a Gamepad stand-in for demos and tests: a producer of
// the InputEvents of SimulatedGamepadScript, one per Interval, each stamped
// with the clock. Its subscriptions are queues.
//
// The script advances only while the gamepad has a subscriber, so a
// subscriber attached after creation (a connection's consumer, say) still
// sees the script from its first event. With a Count, the gamepad closes
// itself after producing that many events: readers get every event, then
// ErrClosed. Close stops it early.
type SimulatedGamepad struct {
	inputSource

	closeOnce sync.Once
	closing   chan struct{}
	done      chan struct{}
}

// NewSimulatedGamepad starts a simulated gamepad.
func NewSimulatedGamepad(s SimulatedGamepadSettings) *SimulatedGamepad {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultSimulatedGamepadInterval
	}
	g := &SimulatedGamepad{
		inputSource: newInputSource(NewProducer[InputEvent](nil)),
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
	}
	go g.run(interval, s.Count)
	return g
}

func (g *SimulatedGamepad) run(interval time.Duration, count int) {
	defer close(g.done)
	defer g.prod.Close()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	g.prod.SetReady()
	for i := 0; count <= 0 || i < count; {
		select {
		case <-g.closing:
			return
		case <-tick.C:
		}
		if g.prod.Subscribers() == 0 {
			continue
		}
		e := simulatedEvent(i)
		e.Timestamp = inputTimestamp(time.Now())
		g.prod.Publish(e)
		i++
	}
}

// Close stops the gamepad and closes every subscription (readers get what
// is queued, then ErrClosed). It waits for its goroutine to end and is
// idempotent.
func (g *SimulatedGamepad) Close() error {
	g.closeOnce.Do(func() { close(g.closing) })
	<-g.done
	return nil
}
