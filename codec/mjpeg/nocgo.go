//go:build !cgo

package mjpeg

import "image"

// LibJPEGTurbo reports whether the package decodes with libjpeg-turbo:
// false in a build without cgo, where it uses image/jpeg.
const LibJPEGTurbo = false

// A Decoder decodes JPEG frames with image/jpeg. It is not safe for
// concurrent use.
type Decoder struct {
	closed    bool
	maxPixels int
}

// NewDecoder returns a decoder.
func NewDecoder() (*Decoder, error) { return &Decoder{maxPixels: MaxPixels}, nil }

// Close is idempotent; Decode then returns ErrClosed.
func (d *Decoder) Close() error {
	d.closed = true
	return nil
}

// Decode decodes one JPEG frame into a new picture: an *image.YCbCr at the
// frame's subsampling, or an *image.Gray for a greyscale one. Errors about
// the frame wrap ErrCorrupt.
func (d *Decoder) Decode(jpeg []byte) (image.Image, error) {
	if d.closed {
		return nil, ErrClosed
	}
	return decodeGo(jpeg, d.maxPixels)
}
