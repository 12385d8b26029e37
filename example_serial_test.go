package rtcbot_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/rtcbot-go/rtcbot"
)

// A program checks its record formats without a device: the records of
// RTCBot's Arduino tutorial, a control message to the Arduino and a sensor
// message back, as SerialConnection packs and unpacks them (without the
// start byte it adds with SerialSettings.StartByte).
func ExampleRecordFormat() {
	control, err := rtcbot.ParseRecordFormat("<hB", "value1", "value2")
	if err != nil {
		log.Fatal(err)
	}
	b, err := control.Encode(map[string]any{"value1": -23, "value2": 101})
	fmt.Printf("% x %v\n", b, err)

	// Out of range for a uint8: nothing is packed.
	_, err = control.Encode(map[string]any{"value1": -23, "value2": 300})
	fmt.Println(errors.Is(err, rtcbot.ErrInvalidRecord), err)

	sensor, err := rtcbot.ParseRecordFormat("<BH", "sensorID", "measurement")
	if err != nil {
		log.Fatal(err)
	}
	msg, err := sensor.Decode([]byte{12, 123, 0})
	fmt.Println(msg, err)
	// Output:
	// e9 ff 65 <nil>
	// true rtcbot: invalid record: field "value2" (B): 300 is out of range 0..255
	// map[measurement:123 sensorID:12] <nil>
}
