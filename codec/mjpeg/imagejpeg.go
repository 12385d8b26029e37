package mjpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// decodeGo decodes frame b with image/jpeg, adding the standard Huffman
// tables if it has none: the decoder without cgo, and with cgo the one of
// the JPEGs libjpeg-turbo does not decode to planes. image/jpeg gives an
// *image.YCbCr (from image.NewYCbCr) or *image.Gray for the JPEGs
// libjpeg-turbo decodes, like the cgo decoder.
func decodeGo(b []byte, maxPixels int) (image.Image, error) {
	if len(b) == 0 {
		return nil, errEmpty
	}
	b = withHuffmanTables(b)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := checkSize(cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return img, nil
}

// withHuffmanTables returns b, or if b is a JPEG without a DHT segment
// before its first scan, a copy with the standard tables inserted before
// it: image/jpeg, unlike libjpeg, has no default tables. Anything it cannot
// follow is returned as it is, for image/jpeg to report.
func withHuffmanTables(b []byte) []byte {
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		return b
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return b
		}
		marker := b[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xc4: // DHT
			return b
		case marker == 0xda: // SOS: no table so far
			out := make([]byte, 0, len(b)+len(stdHuffmanDHT))
			out = append(out, b[:i]...)
			out = append(out, stdHuffmanDHT...)
			return append(out, b[i:]...)
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd9: // no length
			i += 2
			continue
		}
		i += 2 + (int(b[i+2])<<8 | int(b[i+3]))
	}
	return b
}

// stdHuffmanDHT is a DHT segment with the four standard Huffman tables of
// the JPEG specification (ITU T.81, annex K.3), which libjpeg uses for a
// frame without tables: for each, its class and number, the number of codes
// of each length from 1 to 16 bits, and their values.
var stdHuffmanDHT = func() []byte {
	tables := []struct {
		id     byte
		counts [16]byte
		values string
	}{
		{0x00, [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1}, // luminance DC
			"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"},
		{0x10, [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d}, // luminance AC
			"\x01\x02\x03\x00\x04\x11\x05\x12\x21\x31\x41\x06\x13\x51\x61\x07" +
				"\x22\x71\x14\x32\x81\x91\xa1\x08\x23\x42\xb1\xc1\x15\x52\xd1\xf0" +
				"\x24\x33\x62\x72\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28" +
				"\x29\x2a\x34\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46\x47\x48\x49" +
				"\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69" +
				"\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x83\x84\x85\x86\x87\x88\x89" +
				"\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7" +
				"\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5" +
				"\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2" +
				"\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8" +
				"\xf9\xfa"},
		{0x01, [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // chrominance DC
			"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"},
		{0x11, [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77}, // chrominance AC
			"\x00\x01\x02\x03\x11\x04\x05\x21\x31\x06\x12\x41\x51\x07\x61\x71" +
				"\x13\x22\x32\x81\x08\x14\x42\x91\xa1\xb1\xc1\x09\x23\x33\x52\xf0" +
				"\x15\x62\x72\xd1\x0a\x16\x24\x34\xe1\x25\xf1\x17\x18\x19\x1a\x26" +
				"\x27\x28\x29\x2a\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46\x47\x48" +
				"\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68" +
				"\x69\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x82\x83\x84\x85\x86\x87" +
				"\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5" +
				"\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3" +
				"\xc4\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda" +
				"\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf2\xf3\xf4\xf5\xf6\xf7\xf8" +
				"\xf9\xfa"},
	}
	seg := []byte{0xff, 0xc4, 0, 0} // the length is filled in below
	for _, t := range tables {
		seg = append(seg, t.id)
		seg = append(seg, t.counts[:]...)
		seg = append(seg, t.values...)
	}
	n := len(seg) - 2
	seg[2], seg[3] = byte(n>>8), byte(n)
	return seg
}()
