//go:build cgo

package vp8_test

import (
	"fmt"
	"image"
	"log"

	"github.com/rtcbot-go/rtcbot/codec/vp8"
)

func Example() {
	enc, err := vp8.NewEncoder(vp8.EncoderSettings{Width: 320, Height: 240})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := vp8.NewDecoder()
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	frame, keyframe, err := enc.Encode(img, 0, false)
	if err != nil {
		log.Fatal(err)
	}
	out, err := dec.Decode(frame)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keyframe, out.Rect.Dx(), out.Rect.Dy())
	// Output: true 320 240
}
