package rtcbot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// An event prints the way Python prints RTCBot's event dict, so a Go robot's
// output matches the tutorials'.
func ExampleInputEvent_String() {
	e := rtcbot.InputEvent{Timestamp: 1553379212.684861, Code: "BTN_SOUTH", State: 1, Event: rtcbot.InputKey}
	fmt.Println("Control message:", e)
	// Output:
	// Control message: {'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
}

// On the wire an event is RTCBot's JSON object, keys in RTCBot's order.
func ExampleInputEvent_MarshalJSON() {
	e := rtcbot.InputEvent{Timestamp: 1553379216.872889, Code: "ABS_X", State: -11, Event: rtcbot.InputAbsolute}
	b, err := json.Marshal(e)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"timestamp":1553379216.872889,"code":"ABS_X","state":-11,"event":"Absolute"}
}

// A robot receives events as decoded JSON objects; InputEventFromMessage
// turns them back into InputEvents.
func ExampleInputEventFromMessage() {
	var msg any // what a connection delivers for a Python or Go gamepad's event
	_ = json.Unmarshal([]byte(`{"timestamp": 1553379213.192862, "code": "BTN_SOUTH", "state": 0, "event": "Key"}`), &msg)
	if e, ok := rtcbot.InputEventFromMessage(msg); ok {
		fmt.Println("Control message:", e)
	}
	// Output:
	// Control message: {'timestamp': 1553379213.192862, 'code': 'BTN_SOUTH', 'state': 0, 'event': 'Key'}
}

// One robot program for every driver: BrowserInputEvent turns a browser
// page's keyboard and gamepad messages into the events the robot's own
// Keyboard and Gamepad report, and passes a Go or Python gamepad's events
// through as they are.
func ExampleBrowserInputEvent() {
	for _, text := range []string{
		`{"type": "keydown", "altKey": false, "shiftKey": false, "keyCode": 87, "key": "w", "code": "KeyW", "timestamp": 1764633600.123}`,
		`{"type": "btn0", "value": true, "timestamp": 1764633600.5}`,
		`{"type": "axis1", "value": -0.53, "timestamp": 1764633600.6}`,
		`{"timestamp": 1553379212.684861, "code": "BTN_SOUTH", "state": 1, "event": "Key"}`,
		`{"horn": true}`,
	} {
		var msg any // what a connection delivers
		_ = json.Unmarshal([]byte(text), &msg)
		if e, ok := rtcbot.BrowserInputEvent(msg); ok {
			fmt.Println("Control message:", e)
		} else {
			fmt.Println("Other message:", msg)
		}
	}
	// Output:
	// Control message: {'timestamp': 1764633600.123, 'code': 'KEY_W', 'state': 1, 'event': 'Key'}
	// Control message: {'timestamp': 1764633600.5, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
	// Control message: {'timestamp': 1764633600.6, 'code': 'ABS_Y', 'state': -17367, 'event': 'Absolute'}
	// Control message: {'timestamp': 1553379212.684861, 'code': 'BTN_SOUTH', 'state': 1, 'event': 'Key'}
	// Other message: map[horn:true]
}

// A simulated gamepad plays the offloading tutorial's controls, for demos
// and tests without hardware.
func ExampleSimulatedGamepad() {
	g := rtcbot.NewSimulatedGamepad(rtcbot.SimulatedGamepadSettings{Interval: time.Millisecond, Count: 4})
	defer g.Close()
	events := g.Subscribe()
	for {
		e, err := events.Get(context.Background())
		if err != nil { // rtcbot.ErrClosed after Count events
			break
		}
		fmt.Println(e.Code, e.State, e.Event)
	}
	// Output:
	// BTN_SOUTH 1 Key
	// ABS_Y -1 Absolute
	// BTN_SOUTH 0 Key
	// BTN_SOUTH 1 Key
}

// The desktop side of the offloading tutorial: send the gamepad's events to
// the robot. Map turns them into a connection's messages.
func ExampleNewGamepad() {
	g, err := rtcbot.NewGamepad(rtcbot.GamepadSettings{}) // the first gamepad
	if err != nil {
		log.Fatal(err) // no gamepad: an error wrapping os.ErrNotExist
	}
	defer g.Close()
	messages := rtcbot.Map(g, func(e rtcbot.InputEvent) any { return e })
	_ = messages // conn.PutSubscription(messages) sends each event as RTCBot's JSON
}

// Read a chosen gamepad through a stable link, keeping only its buttons
// and axes. A joystick node (/dev/input/js0) instead selects joystick mode,
// whose axis values differ from RTCBot's (see Gamepad).
func ExampleGamepadSettings() {
	g, err := rtcbot.NewGamepad(rtcbot.GamepadSettings{
		Path:   "/dev/input/by-id/usb-Microsoft_Controller-event-joystick",
		Filter: func(e rtcbot.InputEvent) bool { return e.Event == rtcbot.InputKey || e.Event == rtcbot.InputAbsolute },
	})
	if err != nil {
		log.Fatal(err) // no such device, or no permission to read it
	}
	defer g.Close()
	g.SubscribeFunc(func(e rtcbot.InputEvent) {
		fmt.Println(e.Code, e.State) // BTN_SOUTH 1, ABS_Z 255, ABS_HAT0X -1, ...
	})
}

// Read a keyboard's keys, dropping scan codes and LED events.
func ExampleNewKeyboard() {
	k, err := rtcbot.NewKeyboard(rtcbot.InputDeviceSettings{
		Filter: func(e rtcbot.InputEvent) bool { return e.Event == rtcbot.InputKey },
	})
	if err != nil {
		log.Fatal(err) // no keyboard, or no permission to read /dev/input
	}
	defer k.Close()
	k.SubscribeFunc(func(e rtcbot.InputEvent) {
		fmt.Println(e.Code, e.State) // KEY_A 1, KEY_A 0, ...
	})
}
