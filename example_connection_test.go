package rtcbot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rtcbot-go/rtcbot"
)

// Two connections in one program, signaled by hand: the desktop makes the
// offer, the robot answers it, and the desktop applies the answer. Over a
// network Handler and Connect carry the offer and the answer; here they are
// passed directly. Once both are ready, messages travel as JSON on the
// default data channel.
func ExampleNewConnection() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// LoopbackOnly keeps both on 127.0.0.1; a real robot leaves it off.
	settings := rtcbot.ConnectionSettings{LoopbackOnly: true}
	robot, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer robot.Close()
	desktop, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()

	controls := robot.Subscribe() // RTCBot: @conn.subscribe

	offer, err := desktop.GetLocalDescription(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := robot.GetLocalDescription(ctx, &offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := desktop.SetRemoteDescription(answer); err != nil {
		fmt.Println(err)
		return
	}
	select {
	case <-desktop.Ready(): // the default data channel is open
	case <-ctx.Done():
		fmt.Println("not connected:", ctx.Err())
		return
	}

	desktop.Put(map[string]any{"code": "BTN_SOUTH", "state": 1}) // RTCBot: conn.put_nowait(...)
	msg, err := controls.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("robot got:", msg)
	// Output:
	// robot got: map[code:BTN_SOUTH state:1]
}

// A sensor reading, sent as JSON on a channel of its own.
type reading struct {
	Sensor   string  `json:"sensor"`
	Distance float64 `json:"distance"`
}

// A named data channel carries one kind of message apart from the controls
// on the default channel. The side that makes the offer adds the channel
// before making it; the other side is handed the channel by OnDataChannel.
// Here the desktop adds "sensors" and the robot sends a reading on it.
func ExampleDataChannel() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	settings := rtcbot.ConnectionSettings{LoopbackOnly: true}
	robot, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer robot.Close()
	desktop, err := rtcbot.NewConnection(settings)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer desktop.Close()

	// The desktop's side: the channel, and a subscription to what comes on it.
	sensors, err := desktop.AddDataChannel("sensors", true) // RTCBot: conn.addDataChannel("sensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	readings := sensors.Subscribe()

	// The robot's side: it sends on the channel once the peer opens it.
	robot.OnDataChannel(func(d *rtcbot.DataChannel) {
		if d.Label() == "sensors" {
			d.Put(reading{Sensor: "front", Distance: 0.42}) // waits for the channel to open
		}
	})

	offer, err := desktop.GetLocalDescription(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := robot.GetLocalDescription(ctx, &offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := desktop.SetRemoteDescription(answer); err != nil {
		fmt.Println(err)
		return
	}

	msg, err := readings.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := rtcbot.DecodeMessage[reading](msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("on %q: %s sensor, %.2f m\n", sensors.Label(), r.Sensor, r.Distance)
	// Output:
	// on "sensors": front sensor, 0.42 m
}
