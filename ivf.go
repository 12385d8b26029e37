package rtcbot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// IVF, the container libvpx's tools and ffmpeg ("-f ivf") write VP8 in: a
// 32-byte file header ("DKIF", version 0, header size, codec FourCC,
// width, height, rate, scale, frame count, unused), then per frame a
// 12-byte header (size, timestamp) and the frame, little-endian.
const (
	ivfFileHeaderSize  = 32
	ivfFrameHeaderSize = 12
)

// NewIVFStream returns a source of the VP8 frames of r, an IVF stream, as
// ffmpeg (-c:v libvpx -f ivf) and libvpx's vpxenc write it, read until it
// ends; send it with PutEncoded on connections whose VideoSettings.Codec
// is VP8. It owns r as NewH264Stream does. A stream in another codec (VP9,
// AV1) ends the source with an ErrEncodedFrame error; so does a frame over
// MaxAccessUnitSize, which the container gives no way to skip safely.
func NewIVFStream(r io.Reader, s EncodedStreamSettings) *EncodedSource {
	src, ctx := newEncodedSource(s)
	return src.readAll(ctx, r, src.readIVF)
}

// NewIVFCommand runs a command that writes an IVF stream of VP8 on its
// standard output (ffmpeg ... -c:v libvpx -deadline realtime -cpu-used 8
// -g 30 -f ivf -, or a GStreamer pipeline ending in avmux_ivf ! fdsink)
// and returns a source of its frames, sent as they are; the command is
// run as NewH264Command runs its own.
func NewIVFCommand(c CommandSettings, s EncodedStreamSettings) *EncodedSource {
	src, ctx := newEncodedSource(s)
	return src.runCommand(ctx, c, "", src.readIVF)
}

// readIVF reads r's IVF header and frames until it ends (nil, also in the
// middle of a frame, which is dropped), fails, or ctx ends.
func (s *EncodedSource) readIVF(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var header [ivfFileHeaderSize]byte
	if _, err := io.ReadFull(br, header[:]); err != nil {
		return ivfEnd(err, "header")
	}
	if !bytes.Equal(header[:4], []byte("DKIF")) {
		return fmt.Errorf("%w: not an IVF stream (it begins %q, not DKIF)", ErrEncodedFrame, header[:4])
	}
	if fourcc := string(header[8:12]); fourcc != "VP80" {
		return fmt.Errorf("%w: an IVF stream of %q: only VP8 (VP80) is sent", ErrEncodedFrame, fourcc)
	}
	// The header may be longer than 32 bytes (its size is at 6).
	if size := int(binary.LittleEndian.Uint16(header[6:8])); size > ivfFileHeaderSize {
		if _, err := br.Discard(size - ivfFileHeaderSize); err != nil {
			return ivfEnd(err, "header")
		}
	}
	var frameHeader [ivfFrameHeaderSize]byte
	for ctx.Err() == nil {
		if _, err := io.ReadFull(br, frameHeader[:]); err != nil {
			return ivfEnd(err, "frame header")
		}
		size := binary.LittleEndian.Uint32(frameHeader[:4])
		if size > MaxAccessUnitSize {
			return fmt.Errorf("%w: an IVF frame of %d bytes, over MaxAccessUnitSize", ErrEncodedFrame, size)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(br, data); err != nil {
			return ivfEnd(err, "frame")
		}
		if size == 0 {
			continue // a dropped frame
		}
		// A VP8 frame tag's lowest bit is 0 for a key frame (RFC 6386 9.1).
		s.publish(EncodedFrame{Data: data, Keyframe: data[0]&1 == 0, Time: time.Now()})
	}
	return nil
}

// ivfEnd is the error of a read of what, nil at the end of the stream.
func ivfEnd(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return fmt.Errorf("rtcbot: IVF %s: %w", what, err)
}
