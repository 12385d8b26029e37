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

// EncodedStreamSettings configures a source of encoded video: an H.264
// byte stream split into access units (NewH264Stream, NewH264Command,
// NewPiCameraH264), or VP8 frames in IVF (NewIVFStream, NewIVFCommand).
type EncodedStreamSettings struct {
	// FlushAfter (H.264 only) is how long the stream must be quiet after the slices of
	// a picture before its access unit is sent without waiting for the
	// next one to begin (which is only known when its first bytes come, a
	// frame later). The default is 1 ms (Go's timers are no finer when
	// idle). A pause that long inside a picture is rare, as encoders write
	// each picture in one go (rpicam-vid with --flush, ffmpeg with
	// -flush_packets 1, GStreamer's fdsink), though some write it in
	// pieces of a buffer's size (ffmpeg's are 32 KB): after a read of
	// whole 4 KB pages the wait is 16 ms. A picture found cut short all
	// the same is reported as an ErrEncodedFrame error, a keyframe asked
	// for (RequestKeyframe), and FlushAfter doubled, to 16 ms at most.
	// Once 60 pictures in a row have each ended where a read of the
	// stream ended, the writer is taken to write whole pictures, and each
	// is sent as soon as it is read, until a picture is found cut short.
	// Negative: always wait for the next access unit.
	//
	// The quiet time needs a reader with SetReadDeadline: a pipe
	// (*os.File, as a command's output is) or a net.Conn; with another
	// reader pictures wait for the next one until the writer has shown it
	// writes whole pictures.
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
	wholeToTrust      = 60   // pictures in a row written whole before each is sent on its read
	pageSize          = 4096 // a read of a multiple of it may have more to come
)

func (s EncodedStreamSettings) withDefaults() EncodedStreamSettings {
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
	settings EncodedStreamSettings

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

func newEncodedSource(s EncodedStreamSettings) (*EncodedSource, context.Context) {
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
func NewH264Stream(r io.Reader, s EncodedStreamSettings) *EncodedSource {
	src, ctx := newEncodedSource(s)
	return src.readAll(ctx, r, src.readH264)
}

// readAll reads r with read until it ends or the source closes, then
// closes the source.
func (src *EncodedSource) readAll(ctx context.Context, r io.Reader, read func(context.Context, io.Reader) error) *EncodedSource {
	if c, ok := r.(io.Closer); ok {
		var once sync.Once
		src.interrupt = func() { once.Do(func() { c.Close() }) }
	}
	go func() {
		defer close(src.exited)
		defer src.prod.Close()
		err := read(ctx, r)
		if src.interrupt != nil {
			src.interrupt()
		}
		if err != nil && ctx.Err() == nil {
			src.prod.SetError(err)
		}
	}()
	return src
}

// publish publishes a frame of the source.
func (s *EncodedSource) publish(f EncodedFrame) {
	s.frames.Add(1)
	if f.Keyframe {
		s.keyframes.Add(1)
	}
	s.prod.Publish(f)
	s.prod.SetReady()
}

// malformedStream reports an error of the source's stream.
func (s *EncodedSource) malformedStream(err error) {
	s.malformed.Add(1)
	s.failures.log(s.settings.Logger, "rtcbot: encoded video stream", "err", err)
	s.prod.SetError(err)
}

// readH264 splits r, an H.264 byte stream, into access units until it
// ends (nil) or fails, or ctx ends.
func (s *EncodedSource) readH264(ctx context.Context, r io.Reader) error {
	return s.readSplit(ctx, r, s.newSplitter())
}

// newSplitter returns a splitter publishing what it splits from the
// source's stream.
func (s *EncodedSource) newSplitter() *h264Splitter {
	return &h264Splitter{emit: s.publish, fail: s.malformedStream}
}

// deadliner is a reader whose reads can time out.
type deadliner interface{ SetReadDeadline(time.Time) error }

// readSplit splits r into access units until it ends (nil) or fails, or
// ctx ends. A picture open at the end of a read is sent when the reader has
// been quiet for the flush time (see EncodedStreamSettings.FlushAfter), or at
// once when the writer has shown it writes whole pictures.
func (s *EncodedSource) readSplit(ctx context.Context, r io.Reader, split *h264Splitter) error {
	flushAfter := s.settings.FlushAfter
	flushing := flushAfter >= 0
	dl, _ := r.(deadliner)
	if !flushing {
		dl = nil
	}
	armed := false
	open := false // the last read ended with a picture that may be complete
	quiet := flushAfter
	whole := 0 // pictures in a row that ended where a read ended
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		if dl != nil {
			switch {
			case open:
				if dl.SetReadDeadline(time.Now().Add(quiet)) != nil {
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
			if open && split.continues(buf[:n]) {
				whole = 0
			} else if open {
				whole++
			}
			cut := split.cutShort
			split.write(buf[:n], now)
			if split.cutShort > cut {
				flushAfter, whole = min(2*flushAfter, maxFlushAfter), 0
				s.RequestKeyframe() // for the picture sent cut short
			}
			open = flushing && split.flushable()
			// A read of whole pages is a writer's buffer (ffmpeg writes
			// 32 KB at a time), or the pipe's, filled: more of the
			// picture is likely to come, after a pause when the writer
			// is busy.
			full := n%pageSize == 0
			quiet = flushAfter
			if full {
				quiet = maxFlushAfter
			}
			if open && whole >= wholeToTrust && !full {
				split.flush(now)
				open = false
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if open {
				whole++
			}
			split.flush(now)
			open = false
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
