//go:build cgo

package opus_test

import (
	"fmt"
	"log"
	"math"

	"github.com/rtcbot-go/rtcbot/codec/opus"
)

func Example() {
	enc, err := opus.NewEncoder(opus.EncoderSettings{Channels: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := opus.NewDecoder(1)
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	// One 20 ms frame of a 440 Hz tone.
	frame := make([]float32, opus.FrameSamples*enc.Channels())
	for i := range frame {
		frame[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/opus.SampleRate))
	}
	packet, err := enc.Encode(frame)
	if err != nil {
		log.Fatal(err)
	}
	pcm, err := dec.Decode(packet)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decoded samples:", len(pcm))

	// A lost packet is concealed with another 20 ms of audio.
	pcm, err = dec.Decode(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("concealed samples:", len(pcm))
	// Output:
	// decoded samples: 960
	// concealed samples: 960
}
