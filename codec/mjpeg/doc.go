// Package mjpeg decodes the JPEG frames of Motion-JPEG video, what USB
// webcams send at 1280x720 and above, with libjpeg-turbo's TurboJPEG API.
//
// A frame decodes straight to its Y, Cb and Cr planes, without a colour
// conversion: an *image.YCbCr at the JPEG's own chroma subsampling (4:2:0,
// 4:2:2, 4:4:4, 4:4:0 or 4:1:1; webcams send 4:2:2 or 4:2:0), or an
// *image.Gray for a greyscale JPEG. Each Decode allocates a new picture,
// which the caller may keep. Its bounds start at (0, 0); for an odd size
// the luma plane has a spare column or row past the bounds, as libjpeg-turbo
// decodes whole chroma samples (the stride tells). The rare other JPEGs
// (4:1:0, RGB or CMYK ones) are decoded by image/jpeg, to what it gives.
//
// Many webcams leave the Huffman tables (the DHT segment) out of their
// frames, as the Motion-JPEG format allows: the decoder then uses the
// standard tables of the JPEG specification. As in libjpeg, a frame that
// leaves tables out may also use the ones an earlier frame defined.
//
// Corrupt frames are errors, never a crash: an empty or truncated frame,
// one that is not JPEG, one whose decoding gives libjpeg-turbo's least
// warning (corrupt data), and one declaring more than [MaxPixels] pixels
// (refused before anything is allocated). Every such error wraps
// [ErrCorrupt], with libjpeg-turbo's message.
//
// A Decoder is not safe for concurrent use: calls to Decode and Close must
// be serialised by the caller. It holds the C decompressor, reused from
// frame to frame, until Close.
//
// The package needs cgo and libjpeg-turbo's TurboJPEG library (on Debian,
// libturbojpeg0-dev). It links the static libturbojpeg.a (about 800 KB of
// a program), so a program needs no shared library at run time. Without cgo
// it decodes with image/jpeg instead, to the same pictures but four to six
// times slower (BenchmarkDecode: 1.3-1.6 ms instead of 7.8-8.6 ms for a
// 1280x720 4:2:2 frame here); [LibJPEGTurbo] tells which a program has.
package mjpeg

import (
	"errors"
	"fmt"
)

// MaxPixels is the largest frame, in pixels (width times height), that
// Decode accepts: 8192x8192, far above what cameras send. A frame declaring
// more is refused from its header.
const MaxPixels = 8192 * 8192

// ErrCorrupt is wrapped by every error of Decode about the frame: empty,
// not JPEG, truncated, corrupt, or too large.
var ErrCorrupt = errors.New("mjpeg: corrupt JPEG frame")

// ErrClosed is returned by Decode after Close.
var ErrClosed = errors.New("mjpeg: decoder closed")

// errEmpty is Decode's error for an empty frame.
var errEmpty = fmt.Errorf("%w: empty frame", ErrCorrupt)

// checkSize returns an error unless w x h is a picture of at most
// maxPixels pixels.
func checkSize(w, h, maxPixels int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: no picture (%dx%d)", ErrCorrupt, w, h)
	}
	if w > maxPixels/h {
		return fmt.Errorf("%w: %dx%d is more than MaxPixels (%d)", ErrCorrupt, w, h, maxPixels)
	}
	return nil
}
