package rtcbot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// H264StreamSettings configures how an H.264 byte stream is split into
// access units (NewH264Stream, NewH264Command).
type H264StreamSettings struct {
	// FlushAfter is how long the stream must be quiet after the slices of
	// a picture before its access unit is sent, without waiting for the
	// next one to begin (which is only known when its first bytes come, a
	// frame later). The default is 1 ms; an encoder writes each picture in
	// one go (rpicam-vid with --flush, ffmpeg with -flush_packets 1,
	// GStreamer's fdsink), so a pause that long inside a picture is rare,
	// and one is reported as an ErrEncodedFrame error and FlushAfter
	// doubled (to 16 ms at most). Negative: always wait for the next
	// access unit.
	//
	// Flushing needs a reader with SetReadDeadline: a pipe (*os.File, as a
	// command's output is) or a net.Conn. From another reader each access
	// unit waits for the next.
	FlushAfter time.Duration
	// RequestKeyframe, if set, is called when a viewer needs a keyframe:
	// one joined, or lost packets that cannot be resent. It should make the
	// encoder send one soon (for a V4L2 encoder,
	// V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME). Without it viewers wait for the
	// encoder's next one: keep its intra period short (a second or less).
	RequestKeyframe func()
	// Logger receives the source's diagnostics; default slog.Default().
	Logger *slog.Logger
}

const (
	defaultFlushAfter = time.Millisecond
	maxFlushAfter     = 16 * time.Millisecond
)

func (s H264StreamSettings) withDefaults() H264StreamSettings {
	if s.FlushAfter == 0 {
		s.FlushAfter = defaultFlushAfter
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s
}

// EncodedSource is a producer of EncodedFrames: the access units of an
// H.264 byte stream from a reader (NewH264Stream) or from a command's
// output (NewH264Command, NewPiCameraH264). Send it with
// conn.Video().PutEncoded(src), on connections whose VideoSettings.Codec
// is H264: it is sent once, however many connections do.
//
// Its subscriptions are queues: a decoder needs every frame after a
// keyframe. It becomes ready with its first frame. A malformed stream is
// reported through the error event (ErrEncodedFrame) and the bad part
// dropped, and the stream goes on; the source closes at the end of its
// reader, or of its command when that is not restarted.
type EncodedSource struct {
	encodedFrameSource
	settings H264StreamSettings

	cancel    context.CancelFunc
	exited    chan struct{} // closed when the reading goroutine returns
	interrupt func()        // unblocks a read in progress, nil if none can be
	closeOnce sync.Once

	frames, keyframes, malformed, restarts atomic.Uint64
	failures                               warnOnce
}

// EncodedSourceStats is what an EncodedSource has met so far.
type EncodedSourceStats struct {
	// Frames counts the frames published, Keyframes those of them that
	// are keyframes.
	Frames, Keyframes uint64
	// Malformed counts the errors of the stream: invalid NAL units,
	// access units over MaxAccessUnitSize, access units cut short by a
	// pause (see FlushAfter).
	Malformed uint64
	// Restarts counts the times its command was started again.
	Restarts uint64
}

func newEncodedSource(s H264StreamSettings) (*EncodedSource, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	return &EncodedSource{
		encodedFrameSource: newEncodedFrameSource(NewProducer(func() Subscription[EncodedFrame] { return NewQueue[EncodedFrame](0) })),
		settings:           s.withDefaults(),
		cancel:             cancel,
		exited:             make(chan struct{}),
	}, ctx
}

// NewH264Stream returns a source of the access units of r, an H.264
// Annex-B byte stream (what rpicam-vid, ffmpeg's "-f h264" and GStreamer's
// "video/x-h264,stream-format=byte-stream" write), read until it ends. It
// owns r: Close closes r if it is an io.Closer (which stops a read in
// progress); otherwise Close waits for the read in progress to return.
//
// Each frame's time is when its last bytes arrived.
func NewH264Stream(r io.Reader, s H264StreamSettings) *EncodedSource {
	src, ctx := newEncodedSource(s)
	if c, ok := r.(io.Closer); ok {
		var once sync.Once
		src.interrupt = func() { once.Do(func() { c.Close() }) }
	}
	go func() {
		defer close(src.exited)
		defer src.prod.Close()
		split := src.newSplitter()
		err := src.read(ctx, r, split)
		if src.interrupt != nil {
			src.interrupt()
		}
		if err != nil && ctx.Err() == nil {
			src.prod.SetError(err)
		}
	}()
	return src
}

// newSplitter returns a splitter publishing what it splits from the
// source's stream.
func (s *EncodedSource) newSplitter() *h264Splitter {
	return &h264Splitter{
		emit: func(f EncodedFrame) {
			s.frames.Add(1)
			if f.Keyframe {
				s.keyframes.Add(1)
			}
			s.prod.Publish(f)
			s.prod.SetReady()
		},
		fail: func(err error) {
			s.malformed.Add(1)
			s.failures.log(s.settings.Logger, "rtcbot: H.264 stream", "err", err)
			s.prod.SetError(err)
		},
	}
}

// deadliner is a reader whose reads can time out.
type deadliner interface{ SetReadDeadline(time.Time) error }

// read splits r into access units until it ends (nil) or fails, or ctx
// ends.
func (s *EncodedSource) read(ctx context.Context, r io.Reader, split *h264Splitter) error {
	flushAfter := s.settings.FlushAfter
	dl, _ := r.(deadliner)
	if flushAfter < 0 {
		dl = nil
	}
	armed := false
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		if dl != nil {
			switch want := split.flushable(); {
			case want:
				if dl.SetReadDeadline(time.Now().Add(flushAfter)) != nil {
					dl = nil // a regular file, say
				}
				armed = true
			case armed:
				dl.SetReadDeadline(time.Time{})
				armed = false
			}
		}
		n, err := r.Read(buf)
		now := time.Now()
		if n > 0 {
			cut := split.cutShort
			split.write(buf[:n], now)
			if split.cutShort > cut {
				flushAfter = min(2*flushAfter, maxFlushAfter)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			split.flush(now)
		case errors.Is(err, io.EOF):
			split.end(now)
			return nil
		default:
			split.end(now)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// RequestKeyframe asks the encoder for a keyframe through the settings'
// RequestKeyframe, if set. Connections sending the source call it.
func (s *EncodedSource) RequestKeyframe() {
	if f := s.settings.RequestKeyframe; f != nil {
		f()
	}
}

// Stats returns what the source has met so far.
func (s *EncodedSource) Stats() EncodedSourceStats {
	return EncodedSourceStats{
		Frames: s.frames.Load(), Keyframes: s.keyframes.Load(),
		Malformed: s.malformed.Load(), Restarts: s.restarts.Load(),
	}
}

// Close stops reading (closing the reader, or stopping the command) and
// waits for it, then closes the source: every subscription ends with
// ErrClosed and the close event fires. It is idempotent.
func (s *EncodedSource) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		if s.interrupt != nil {
			s.interrupt()
		}
		<-s.exited
		s.prod.Close()
	})
	return nil
}
