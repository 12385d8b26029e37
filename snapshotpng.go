package rtcbot

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"io"

	"github.com/rtcbot-go/rtcbot/yuv"
)

// pngBand is how many rows of an enlarged snapshot are made at a time.
const pngBand = 16

// writePNG writes src, enlarged scale times (bilinear, by libyuv), to w as
// an opaque 8-bit RGB PNG. The enlarged picture is made and compressed a
// band of rows at a time, so that it never exists whole: a snapshot of a
// 640x480 frame shown 4 times larger takes 160 KB for its pixels, not
// 20 MB. Every row uses PNG's Up filter, which suits enlarged pictures,
// whose rows repeat nearly, and costs no choice per row; image/png tries
// all five filters on each row.
func writePNG(w io.Writer, src *image.RGBA, scale int) error {
	sr := src.Rect
	size := sr.Size().Mul(scale)
	if sr.Empty() || size.X > 1<<24 || size.Y > 1<<24 {
		return errPNGSize
	}
	c := &pngChunks{w: bufio.NewWriterSize(w, 64<<10)}
	c.w.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(size.X))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(size.Y))
	ihdr[8], ihdr[9] = 8, 2 // 8 bits a sample, truecolour; deflate, adaptive filters, no interlace
	c.chunk("IHDR", ihdr[:])

	z, err := zlib.NewWriterLevel(c, zlib.BestSpeed)
	if err != nil {
		return err
	}
	prev := make([]byte, 3*size.X) // the row above, RGB; zero above the first
	line := make([]byte, 1+3*size.X)
	line[0] = 2 // Up: each byte less the one above it
	var band *image.RGBA
	if scale > 1 {
		band = image.NewRGBA(image.Rect(0, 0, size.X, pngBand))
	}
	for y := range size.Y {
		var row []byte
		if band == nil {
			row = src.Pix[src.PixOffset(sr.Min.X, sr.Min.Y+y):][:4*size.X]
		} else {
			if y%pngBand == 0 {
				band.Rect = image.Rect(0, y, size.X, min(y+pngBand, size.Y))
				if err := yuv.ScaleRGBA(band, src, size, yuv.FilterBilinear); err != nil {
					return err
				}
			}
			row = band.Pix[(y-band.Rect.Min.Y)*band.Stride:][:4*size.X]
		}
		out := line[1:]
		for x := range size.X {
			i, j := 4*x, 3*x
			r, g, b := row[i], row[i+1], row[i+2]
			out[j], out[j+1], out[j+2] = r-prev[j], g-prev[j+1], b-prev[j+2]
			prev[j], prev[j+1], prev[j+2] = r, g, b
		}
		if _, err := z.Write(line); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	c.flush()
	c.chunk("IEND", nil)
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

var errPNGSize = errors.New("empty or too large a picture for a PNG file")

// pngChunks writes PNG chunks, collecting what is written to it (the zlib
// stream) into IDAT chunks of up to 64 KB.
type pngChunks struct {
	w    *bufio.Writer
	data []byte
	err  error
}

func (c *pngChunks) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && c.err == nil {
		if c.data == nil {
			c.data = make([]byte, 0, 64<<10)
		}
		k := min(len(b), cap(c.data)-len(c.data))
		c.data, b = append(c.data, b[:k]...), b[k:]
		if len(c.data) == cap(c.data) {
			c.flush()
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	return n, nil
}

// flush writes what was collected as an IDAT chunk.
func (c *pngChunks) flush() {
	if len(c.data) > 0 {
		c.chunk("IDAT", c.data)
		c.data = c.data[:0]
	}
}

// chunk writes one chunk: length, type, data, CRC of type and data.
func (c *pngChunks) chunk(typ string, data []byte) {
	if c.err != nil {
		return
	}
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc32.Update(crc32.ChecksumIEEE(head[4:]), crc32.IEEETable, data))
	c.w.Write(head[:])
	c.w.Write(data)
	if _, err := c.w.Write(tail[:]); err != nil {
		c.err = err
	}
}
