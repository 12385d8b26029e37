package mjpeg_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"log"

	"github.com/rtcbot-go/rtcbot/codec/mjpeg"
)

func Example() {
	// A JPEG frame, as a webcam sends them.
	var frame bytes.Buffer
	if err := jpeg.Encode(&frame, image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420), nil); err != nil {
		log.Fatal(err)
	}

	dec, err := mjpeg.NewDecoder()
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()
	img, err := dec.Decode(frame.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	m := img.(*image.YCbCr)
	fmt.Println(m.Rect, m.SubsampleRatio)
	// Output: (0,0)-(320,240) YCbCrSubsampleRatio420
}
