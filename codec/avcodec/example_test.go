//go:build cgo

package avcodec_test

import (
	"fmt"
	"image"
	"log"

	"github.com/rtcbot-go/rtcbot/codec/avcodec"
	"github.com/rtcbot-go/rtcbot/codec/x264"
)

func Example() {
	enc, err := x264.NewEncoder(x264.EncoderSettings{Width: 320, Height: 240})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := avcodec.NewH264Decoder()
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	// An access unit as a depacketiser delivers it: SPS, PPS and the IDR
	// picture, in Annex-B form.
	img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	accessUnit, keyframe, err := enc.Encode(img, 0, false)
	if err != nil {
		log.Fatal(err)
	}
	out, err := dec.Decode(accessUnit)
	if err != nil {
		log.Fatal(err)
	}
	if out == nil {
		log.Fatal("no picture")
	}
	fmt.Println(keyframe, out.Rect.Dx(), out.Rect.Dy())
	// Output: true 320 240
}
