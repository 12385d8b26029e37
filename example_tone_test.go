package rtcbot_test

import (
	"context"
	"fmt"

	"github.com/rtcbot-go/rtcbot"
)

// A ToneSource stands in for a microphone on a machine without one: it
// emits a sine in 20 ms chunks at the pace of the clock. Hand it to a
// connection with conn.Audio().PutSubscription(tone).
func ExampleToneSource() {
	tone, err := rtcbot.NewToneSource(rtcbot.ToneSettings{Frequency: 440, Channels: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tone.Close()

	chunks := tone.Subscribe()
	chunk, err := chunks.Get(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d frames, %d channels at %d Hz (%d samples)\n",
		chunk.Frames(), chunk.Channels, chunk.SampleRate, len(chunk.Samples))
	// Output: 960 frames, 2 channels at 48000 Hz (1920 samples)
}
