//go:build cgo

package x264_test

import (
	"fmt"
	"log"
	"time"

	"github.com/rtcbot-go/rtcbot/codec/x264"
	"github.com/rtcbot-go/rtcbot/timecode"
)

func Example() {
	enc, err := x264.NewEncoder(x264.EncoderSettings{Width: 320, Height: 240, FPS: 30})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()

	pattern := timecode.NewPattern(320, 240)
	for i := range 3 {
		frame, keyframe, err := enc.Encode(pattern.Frame(uint32(i), time.Now()), time.Duration(i)*time.Second/30, false)
		if err != nil {
			log.Fatal(err)
		}
		// An Annex-B stream: a start code, then the first NAL unit's header.
		// A keyframe starts with its SPS (type 7), which names the profile
		// (66, Baseline).
		fmt.Printf("frame %d: keyframe %v, start code %x, first NAL type %d\n", i, keyframe, frame[:4], frame[4]&0x1f)
		if keyframe {
			fmt.Println("profile_idc", frame[5])
		}
	}
	// Output:
	// frame 0: keyframe true, start code 00000001, first NAL type 7
	// profile_idc 66
	// frame 1: keyframe false, start code 00000001, first NAL type 1
	// frame 2: keyframe false, start code 00000001, first NAL type 1
}
