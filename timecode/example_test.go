package timecode_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rtcbot-go/rtcbot/timecode"
)

// A sender draws stamped frames; the receiver reads the stamp back from the
// decoded pixels and computes the latency.
func Example() {
	p := timecode.NewPattern(640, 480)
	captured := time.UnixMilli(1_750_000_000_000)
	frame := p.Frame(42, captured)

	// ... encode, send, receive, decode ...

	received := captured.Add(85 * time.Millisecond)
	s, err := timecode.Read(frame)
	if err != nil {
		fmt.Println("no stamp:", err)
		return
	}
	fmt.Println("frame", s.Seq, "latency", s.Latency(received))
	// Output: frame 42 latency 85ms
}

// The millisecond clock in a stamp wraps every 2^32 ms (about 49.7 days);
// Latency handles the wrap.
func ExampleStamp_Latency() {
	boundary := time.UnixMilli(400 << 32)
	s := timecode.StampOf(7, boundary.Add(-10*time.Millisecond))
	fmt.Printf("capture word %#x\n", s.CaptureMillis)
	fmt.Println(s.Latency(boundary.Add(25 * time.Millisecond)))
	// Output:
	// capture word 0xfffffff6
	// 35ms
}

// A frame without a valid stamp (here, an all-black one) is a read failure.
func ExampleRead() {
	black := timecode.NewPattern(64, 60).Frame(0, time.Unix(0, 0))
	for i := range black.Y {
		black.Y[i] = 0
	}
	_, err := timecode.Read(black)
	fmt.Println(errors.Is(err, timecode.ErrNoStamp))
	// Output: true
}
