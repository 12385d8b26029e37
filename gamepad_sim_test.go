package rtcbot

import (
	"errors"
	"testing"
	"time"
)

// The 24 control messages of RTCBot's offloading tutorial, in order.
const tutorialScript = "Key:BTN_SOUTH=1 Absolute:ABS_Y=-1 Key:BTN_SOUTH=0 Key:BTN_SOUTH=1 Key:BTN_SOUTH=0 " +
	"Key:BTN_SOUTH=1 Key:BTN_SOUTH=0 Absolute:ABS_X=-11 Absolute:ABS_X=-64 Absolute:ABS_X=-95 " +
	"Absolute:ABS_X=-158 Absolute:ABS_X=-599 Absolute:ABS_X=-1240 Absolute:ABS_X=-1586 " +
	"Absolute:ABS_X=-2080 Absolute:ABS_X=-2689 Absolute:ABS_X=-3833 Absolute:ABS_X=-4957 " +
	"Absolute:ABS_Y=-53 Absolute:ABS_X=-7944 Absolute:ABS_Y=-106 Absolute:ABS_X=-10170 " +
	"Absolute:ABS_Y=-137 Absolute:ABS_X=-12567"

func TestSimulatedGamepadScript(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{-1, ""},
		{0, ""},
		{1, "Key:BTN_SOUTH=1"},
		{24, tutorialScript},
		{26, tutorialScript + " Absolute:ABS_X=0 Absolute:ABS_Y=0"},
		{29, tutorialScript + " Absolute:ABS_X=0 Absolute:ABS_Y=0 Key:BTN_SOUTH=1 Absolute:ABS_Y=-1 Key:BTN_SOUTH=0"},
	}
	for _, tc := range tests {
		script := SimulatedGamepadScript(tc.n)
		if got := codes(script); got != tc.want || len(script) != max(tc.n, 0) {
			t.Errorf("SimulatedGamepadScript(%d) =\n %s\nwant\n %s", tc.n, got, tc.want)
		}
		for _, e := range script {
			if e.Timestamp != 0 {
				t.Errorf("script event %v has a timestamp", e)
			}
		}
	}
	// The cycle leaves the stick at rest, so repeating it is consistent.
	axes := map[string]int{}
	for _, e := range SimulatedGamepadScript(26) {
		if e.Event == InputAbsolute {
			axes[e.Code] = e.State
		}
	}
	if axes["ABS_X"] != 0 || axes["ABS_Y"] != 0 {
		t.Errorf("after one cycle the stick is at %v, want at rest", axes)
	}
}

func TestSimulatedGamepadProducesScriptThenCloses(t *testing.T) {
	const count = 30
	before := inputTimestamp(time.Now())
	g := NewSimulatedGamepad(SimulatedGamepadSettings{Interval: time.Millisecond, Count: count})
	defer g.Close()
	// Subscribing after creation loses nothing: the script waits for a
	// subscriber.
	sub := g.Subscribe()
	got := readEvents(t, sub, count)
	wantClosed(t, sub)
	closedWithin(t, g.Done(), "simulated gamepad")
	after := inputTimestamp(time.Now())

	want := SimulatedGamepadScript(count)
	for i := range got {
		stamped := want[i]
		stamped.Timestamp = got[i].Timestamp
		if got[i] != stamped {
			t.Errorf("event %d = %v, want %v", i, got[i], want[i])
		}
		if ts := got[i].Timestamp; ts < before || ts > after || (i > 0 && ts < got[i-1].Timestamp) {
			t.Errorf("event %d stamped %v, want non-decreasing within [%v, %v]", i, ts, before, after)
		}
	}
	if err := g.Err(); err != nil {
		t.Errorf("Err() = %v, want nil after a normal end", err)
	}
	if _, err := g.Get(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after the end = %v, want ErrClosed", err)
	}
}

func TestSimulatedGamepadClose(t *testing.T) {
	g := NewSimulatedGamepad(SimulatedGamepadSettings{Interval: time.Millisecond}) // forever
	sub := g.Subscribe()
	if got := codes(readEvents(t, sub, 3)); got != "Key:BTN_SOUTH=1 Absolute:ABS_Y=-1 Key:BTN_SOUTH=0" {
		t.Errorf("first events = %s", got)
	}
	if !g.IsReady() {
		t.Error("not ready while producing")
	}
	g.Close()
	// Whatever was queued before Close, then ErrClosed.
	for i := 0; ; i++ {
		_, err := sub.Get(testCtx(t))
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil || i > DefaultQueueCapacity {
			t.Fatalf("Get after Close: %v after %d items", err, i)
		}
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSimulatedGamepadDefaultInterval(t *testing.T) {
	g := NewSimulatedGamepad(SimulatedGamepadSettings{Count: 1})
	sub := g.Subscribe()
	start := time.Now()
	mustGet(t, sub)
	if d := time.Since(start); d < DefaultSimulatedGamepadInterval/2 {
		t.Errorf("first event after %v, want about DefaultSimulatedGamepadInterval (%v)", d, DefaultSimulatedGamepadInterval)
	}
	wantClosed(t, sub)
	g.Close()
}
