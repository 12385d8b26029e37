// Package timecode stamps video frames with a sequence number and a capture
// time so that any receiver can measure end-to-end latency from the pixels
// alone, and generates a moving synthetic test pattern to carry the stamp.
//
// # Format
//
// The format is fixed; other implementations (Python, a browser page) read
// it too.
//
// For a picture of W x H pixels, cells are W/32 pixels wide and H/30 pixels
// tall (integer division). The top three rows of cells — the first 3*(H/30)
// pixel rows and the first 32*(W/32) pixel columns — carry three 32-bit
// words, one word per row of cells and one bit per cell, with the most
// significant bit in the leftmost cell. A 1 bit is a white cell (all colour
// channels 255) and a 0 bit a black cell (all colour channels 0):
//
//	row 0: frame sequence number, starting at 0 (uint32, wraps)
//	row 1: capture time in milliseconds since the Unix epoch, modulo 2^32
//	row 2: check word = row0 XOR row1 XOR 0x5A5AA5A5
//
// At 640x480 the cells are 20x16 pixels and at 320x240 they are 10x8; cells
// of that size survive VP8 and H.264 compression.
//
// To read a frame, average the central half of each cell (in both
// directions) over the colour channels, or over the luma plane, and
// threshold the mean at 128 (a mean >= 128 is a 1 bit). A frame whose check
// word does not match the other two rows is a read failure, not a
// measurement; in particular an all-black or all-white frame never reads
// as valid.
//
// In *image.YCbCr frames the stamp is written to the luma plane (255 or 0)
// and the chroma samples covering the stamp area are set to the neutral
// value 128, so the stamp converts to pure white and black in RGB. In
// *image.RGBA and *image.NRGBA frames the stamp pixels are written opaque
// (alpha 255).
//
// The rest of the picture produced by [Pattern] moves from frame to frame
// (scrolling diagonal colour bars plus a bouncing box), so an encoder has
// real work to do.
//
// # Latency
//
// The sender stamps each frame with [StampOf](seq, captureTime) and [Write].
// The receiver calls [Read] on the decoded frame as soon as it arrives and
// then [Stamp.Latency](time.Now()), which computes
//
//	int32(uint32(receivedUnixMillis) - CaptureMillis) milliseconds
//
// that is, the difference of the two millisecond clocks modulo 2^32,
// interpreted as a signed 32-bit number, so the result is correct across
// the 2^32 ms (about 49.7 days) wrap-around as long as the true latency is
// within ±24.8 days. Sender and receiver clocks must be synchronised (or be
// the same machine) for the figure to mean anything; a receiver clock that
// runs behind can yield a negative latency. Gaps in the sequence numbers
// reveal dropped frames.
package timecode
