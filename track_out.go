package rtcbot

import (
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// outTrack is one encoded outgoing track: a consumer that encodes what its
// source yields and writes the samples to a pion track. A track made from a
// Source (a camera, say) is shared by every connection sending that source
// with the same settings, so each source is encoded once however many peers
// watch it; the track lives while connections hold it.
type outTrack[T any] struct {
	local    *webrtc.TrackLocalStaticSample
	consumer *Consumer[T]
	enc      sampleEncoder[T]
	key      any // registry key, nil for a private track

	forceKey atomic.Bool  // a peer asked for a keyframe
	slowKey  atomic.Bool  // a peer the encoder sends more than its link carries asked for one
	active   atomic.Int32 // connections connected to the track
	refs     int          // connections holding the track (under outTracks.mu)

	reportMu   sync.Mutex
	reports    map[int]func(error) // where encoding errors go: the streams sending the track
	nextReport int

	targetMu sync.Mutex
	targets  map[any]linkTarget // what each sender's link carries
	links    atomic.Value       // linkRange: the lowest and highest of targets
	applied  linkRange          // what the encoder was given (the consumer's goroutine only)

	sent       sentCounts   // frames and keyframes sent
	lastForced time.Time    // when a keyframe was last sent on request (the consumer's goroutine only)
	sending    atomic.Int64 // the encoder's bitrate, bits per second, 0 before the first frame

	write func(media.Sample) // writes a sample to local, made once (the consumer's goroutine only)
}

// linkRange is the lowest and the highest estimate of the links of a
// track's connections, in bits per second, 0 when none is known.
type linkRange struct {
	lowest, highest int
	queueing        bool // a link holds a queue
}

// keyframeSpacing is the least time between two keyframes sent on request
// (libwebrtc's too): requests in between wait for it. A keyframe costs
// several frames' worth of bits, and a receiver on a bad link may ask
// again before the last one reached it. A viewer whose link carries less
// than the encoder sends (one below the floor, sharing the source with
// faster ones) loses frames all the time; its requests wait for
// slowKeyframeSpacing, so that its keyframes do not cost the others
// their frame rate.
const (
	keyframeSpacing     = 300 * time.Millisecond
	slowKeyframeSpacing = 2 * time.Second
)

// requestKeyframe asks for a keyframe on behalf of a peer whose link is
// estimated to carry linkBps (0 if unknown).
func (t *outTrack[T]) requestKeyframe(linkBps int) {
	if sending := t.sending.Load(); linkBps > 0 && int64(linkBps)*5 < sending*4 {
		t.slowKey.Store(true)
		return
	}
	t.forceKey.Store(true)
}

// sendTrack is what a connection's send slot needs of its track: an
// outTrack of the stream's items, or of encoded frames (PutEncoded).
type sendTrack interface {
	localTrack() *webrtc.TrackLocalStaticSample
	connected() (disconnected func())
	sentCount() sentFrames
	requestKeyframe(linkBps int)
	setTarget(holder any, target linkTarget)
	dropTarget(holder any)
	reportErrors(f func(error)) (stop func())
	release()
	input() any // the Getter feeding the track
}

func (t *outTrack[T]) localTrack() *webrtc.TrackLocalStaticSample { return t.local }

func (t *outTrack[T]) sentCount() sentFrames {
	return sentFrames{frames: t.sent.frames.Load(), keyframes: t.sent.keyframes.Load()}
}

// sentCounts counts the frames an outTrack sent, for every connection
// connected to it.
type sentCounts struct{ frames, keyframes atomic.Uint64 }

// sentFrames is a reading of sentCounts, or what one peer was sent.
type sentFrames struct{ frames, keyframes uint64 }

func (a sentFrames) plus(b sentFrames) sentFrames {
	return sentFrames{a.frames + b.frames, a.keyframes + b.keyframes}
}

func (a sentFrames) minus(b sentFrames) sentFrames {
	return sentFrames{a.frames - b.frames, a.keyframes - b.keyframes}
}

func (t *outTrack[T]) input() any { return t.consumer.Subscription() }

// sampleEncoder turns items into media samples for an outTrack.
type sampleEncoder[T any] interface {
	// encode encodes item and calls write with each finished sample; it
	// reports whether it was encoded at all (a frame may be skipped), and
	// as a keyframe. The sample's Data is the encoder's until write
	// returns: write must not keep it (the encoder may reuse it for the
	// next item; TrackLocalStaticSample.WriteSample copies it into
	// packets).
	encode(item T, forceKeyframe bool, write func(media.Sample)) (encoded, keyframe bool, err error)
	// setLinks gives the bitrates the links of the track's connections
	// carry.
	setLinks(links linkRange)
	// sendingBitrate returns the bitrate it encodes at, 0 if none.
	sendingBitrate() int
	close()
}

// outTracks is the registry of shared tracks.
var outTracks struct {
	mu sync.Mutex
	m  map[any]any // trackKey -> *outTrack[T]
}

// trackKey identifies a shared track: the source and how it is encoded.
type trackKey struct {
	src      any
	settings VideoSettings
}

// acquireOutTrack returns the track for src, shared if src is a Source
// (anything with a Subscribe method), and counts a reference to it.
func acquireOutTrack[T any](src Getter[T], settings VideoSettings, capability webrtc.RTPCodecCapability,
	newEnc func() (sampleEncoder[T], error)) (*outTrack[T], error) {
	var key any
	if _, ok := src.(interface{ Subscribe() Subscription[T] }); ok {
		key = trackKey{src: src, settings: settings}
	}
	outTracks.mu.Lock()
	defer outTracks.mu.Unlock()
	if key != nil {
		if t, ok := outTracks.m[key].(*outTrack[T]); ok {
			t.refs++
			t.forceKey.Store(true)
			return t, nil
		}
	}
	enc, err := newEnc()
	if err != nil {
		return nil, err
	}
	local, err := webrtc.NewTrackLocalStaticSample(capability, fmt.Sprintf("rtcbot-%s-%d", capability.MimeType, trackIDs.Add(1)), "rtcbot")
	if err != nil {
		enc.close()
		return nil, fmt.Errorf("rtcbot: create track: %w", err)
	}
	t := &outTrack[T]{local: local, enc: enc, key: key, refs: 1}
	t.consumer = NewConsumer(t.handle, nil)
	t.consumer.PutSubscription(src)
	if key != nil {
		if outTracks.m == nil {
			outTracks.m = make(map[any]any)
		}
		outTracks.m[key] = t
	}
	return t, nil
}

var trackIDs atomic.Uint64

// release drops one reference; the last one stops the track.
func (t *outTrack[T]) release() {
	outTracks.mu.Lock()
	t.refs--
	last := t.refs == 0
	if last && t.key != nil {
		delete(outTracks.m, t.key)
	}
	outTracks.mu.Unlock()
	if last {
		t.consumer.Close()
		t.enc.close()
	}
}

// handle encodes one item, unless no peer is connected to receive it.
func (t *outTrack[T]) handle(item T) {
	if t.active.Load() == 0 {
		return
	}
	if links, _ := t.links.Load().(linkRange); links != t.applied {
		t.applied = links
		t.enc.setLinks(links)
	}
	since := time.Since(t.lastForced)
	pending := &t.forceKey
	force := since >= keyframeSpacing && pending.Swap(false)
	if !force {
		pending = &t.slowKey
		force = since >= slowKeyframeSpacing && pending.Swap(false)
	}
	if t.write == nil {
		// Made once rather than per frame, where it would be allocated.
		t.write = func(s media.Sample) {
			// A write fails only for a connection that is closing, which
			// reports its own end; the others got the sample.
			t.local.WriteSample(s)
		}
	}
	encoded, keyframe, err := t.enc.encode(item, force, t.write)
	switch {
	case force && encoded:
		t.lastForced = time.Now()
	case force:
		pending.Store(true) // for the next frame sent
	}
	t.sending.Store(int64(t.enc.sendingBitrate()))
	if err != nil {
		t.fail(err)
	}
	if encoded {
		t.sent.frames.Add(1)
	}
	if keyframe {
		t.sent.keyframes.Add(1)
	}
}

// reportErrors sends the track's encoding errors to f until stop is called.
func (t *outTrack[T]) reportErrors(f func(error)) (stop func()) {
	t.reportMu.Lock()
	defer t.reportMu.Unlock()
	if t.reports == nil {
		t.reports = make(map[int]func(error))
	}
	id := t.nextReport
	t.nextReport++
	t.reports[id] = f
	return func() {
		t.reportMu.Lock()
		delete(t.reports, id)
		t.reportMu.Unlock()
	}
}

// fail reports an encoding error to every stream sending the track.
func (t *outTrack[T]) fail(err error) {
	t.reportMu.Lock()
	fs := make([]func(error), 0, len(t.reports))
	for _, f := range t.reports {
		fs = append(fs, f)
	}
	t.reportMu.Unlock()
	for _, f := range fs {
		f(err)
	}
}

// setTarget records what one sender's link carries (holder identifies the
// sender); the encoder follows them.
func (t *outTrack[T]) setTarget(holder any, target linkTarget) {
	t.targetMu.Lock()
	defer t.targetMu.Unlock()
	if t.targets == nil {
		t.targets = make(map[any]linkTarget)
	}
	t.targets[holder] = target
	t.updateTarget()
}

// dropTarget forgets a sender that no longer sends the track.
func (t *outTrack[T]) dropTarget(holder any) {
	t.targetMu.Lock()
	defer t.targetMu.Unlock()
	delete(t.targets, holder)
	t.updateTarget()
}

// updateTarget stores the lowest and highest targets, under targetMu.
func (t *outTrack[T]) updateTarget() {
	var r linkRange
	for _, target := range t.targets {
		r.queueing = r.queueing || target.queueing
		if bps := target.bps; bps > 0 {
			if r.lowest == 0 || bps < r.lowest {
				r.lowest = bps
			}
			r.highest = max(r.highest, bps)
		}
	}
	t.links.Store(r)
}

// connected counts a peer that is now connected and asks for a keyframe so it
// can start decoding at once; the returned function undoes it.
func (t *outTrack[T]) connected() (disconnected func()) {
	t.active.Add(1)
	t.forceKey.Store(true)
	var once sync.Once
	return func() { once.Do(func() { t.active.Add(-1) }) }
}

// videoSampleEncoder encodes frames with a video codec (VP8 or H.264) on a
// steady clock: each sample lasts the time since the previous frame, so the
// receiver plays frames at the pace they were captured, and a source that
// stalls resumes without a backlog. The codec's encoder is made for the
// first frame's size; it follows later changes of size itself, starting each
// new size with a keyframe. Its bitrate follows the links (see
// congestion.go), and below the floor the picture shrinks or frames are
// skipped (degrade.go).
type videoSampleEncoder struct {
	// codec is "VP8" or "H264". An H.264 sample is an access unit in
	// Annex-B form, which pion's payloader splits into NAL units (SPS and
	// PPS go out together in a STAP-A).
	codec     string
	newEnc    func(VideoEncoderSettings) (VideoEncoder, error)
	settings  VideoSettings
	enc       VideoEncoder
	appender  appendEncoder // enc, if it encodes into a reused buffer (VP8 only, see encode)
	out       []byte        // that buffer
	start     time.Time
	last      time.Time
	buf       *image.YCbCr // a conversion to I420
	small     *image.YCbCr // a downscaled picture
	links     linkRange
	degrade   degrader
	bitrate   int       // the bitrate set on enc
	bitrateAt time.Time // when it was set
	debt      frameDebt
	clock     func() time.Time // nil: time.Now (tests and benchmarks simulate one)
}

// now returns the time on e's clock.
func (e *videoSampleEncoder) now() time.Time {
	if e.clock != nil {
		return e.clock()
	}
	return time.Now()
}

func (e *videoSampleEncoder) encode(img image.Image, forceKeyframe bool, write func(media.Sample)) (bool, bool, error) {
	if img == nil {
		return false, false, nil
	}
	yuv := toI420(img, e.buf)
	if yuv != img {
		e.buf = yuv
	}
	w, h := yuv.Rect.Dx(), yuv.Rect.Dy()
	now := e.now()
	bps, divisor, send := e.plan(w, h, now)
	if e.enc == nil {
		enc, err := e.newEnc(VideoEncoderSettings{Width: w, Height: h, FPS: e.settings.fps(), Bitrate: bps})
		if err != nil {
			return false, false, fmt.Errorf("rtcbot: %s encoder for %dx%d: %w", e.codec, w, h, err)
		}
		e.enc, e.bitrate, e.bitrateAt = enc, bps, now
		// pion's VP8 payloader copies a sample into its packets and keeps
		// nothing of it, so VP8 samples can be encoded into one buffer.
		// Its H.264 payloader keeps a sample's trailing SPS and PPS for the
		// next sample: H.264 samples are each the encoder's own.
		if a, ok := enc.(appendEncoder); ok && e.codec == codecVP8 {
			e.appender = a
		}
	}
	e.debt.leak(bps, now, e.links.queueing)
	if !send || e.debt.over(bps) {
		return false, false, nil
	}
	if e.retarget(bps, now) {
		// libvpx and x264 change their bitrate on the fly; an encoder
		// that cannot, or fails to, keeps the last.
		if r, ok := e.enc.(BitrateSetter); ok && r.SetBitrate(bps) == nil {
			e.bitrate, e.bitrateAt = bps, now
		}
	}
	if divisor > 1 {
		e.small = downscale(yuv, divisor, e.small)
		yuv = e.small
	}
	if e.start.IsZero() {
		e.start, e.last = now, now.Add(-time.Second/30)
	}
	var data []byte
	var keyframe bool
	var err error
	if e.appender != nil {
		data, keyframe, err = e.appender.AppendEncode(e.out[:0], yuv, now.Sub(e.start), forceKeyframe)
		e.out = data
	} else {
		data, keyframe, err = e.enc.Encode(yuv, now.Sub(e.start), forceKeyframe)
	}
	if err != nil {
		return false, false, fmt.Errorf("rtcbot: %s encode: %w", e.codec, err)
	}
	duration := min(now.Sub(e.last), time.Second)
	e.last = now
	if len(data) == 0 {
		return false, false, nil
	}
	e.debt.bits += 8 * len(data)
	write(media.Sample{Data: data, Duration: duration, Timestamp: now})
	return true, keyframe, nil
}

// appendEncoder is a VideoEncoder that can encode into a buffer its caller
// reuses: AppendEncode is Encode appending the frame to dst (nothing if it
// skipped the picture), as codec/vp8's Encoder does. The frame is then the
// caller's only until the next call.
type appendEncoder interface {
	AppendEncode(dst []byte, img *image.YCbCr, pts time.Duration, forceKeyframe bool) (frame []byte, keyframe bool, err error)
}

func (e *videoSampleEncoder) setLinks(links linkRange) { e.links = links }

func (e *videoSampleEncoder) sendingBitrate() int { return e.bitrate }

// retarget reports whether to give the encoder bps now: a fall of a tenth
// or more at once, a rise of a tenth or more after retargetHold, and a
// smaller change after a few holds. Congestion control moves its estimate
// a little on every report, and x264 restarts its rate control's buffer
// at each change, which lets it overshoot: a change a frame made x264 send
// up to four times its target.
func (e *videoSampleEncoder) retarget(bps int, now time.Time) bool {
	since := now.Sub(e.bitrateAt)
	switch {
	case bps == e.bitrate:
		return false
	case bps*10 <= e.bitrate*9:
		return true
	case bps*10 >= e.bitrate*11:
		return since >= retargetHold
	}
	return since >= 4*retargetHold
}

// retargetHold is the least time between two rises of an encoder's bitrate.
const retargetHold = 500 * time.Millisecond

// frameDebt is a frame dropper, as libwebrtc's: it counts the bits encoded
// beyond the target, leaking at the target rate, and frames are skipped
// while they exceed maxDebt of it. Encoders' rate control overshoots for
// seconds at a time (x264's, through mediadevices, sent up to twice its
// target for a second on a moving picture, and took four seconds to come
// down after a cut); the link would queue the excess, and latency with it.
type frameDebt struct {
	bits int       // encoded and not yet paid for by the target's rate
	at   time.Time // when it last leaked
}

// maxDebt is how much of the target's rate frames may run ahead: a
// keyframe's worth (VP8 keyframes are up to 9 frames' worth) and some.
const maxDebt = 500 * time.Millisecond

// leak pays off what the target rate of bps, and a tolerance of debtSlack
// over it, carried since the last call. While no link holds a queue, the
// overshoot did no harm: the debt is forgiven down to the threshold, so
// that frames are dropped only while the excess queues on a link.
func (d *frameDebt) leak(bps int, now time.Time, queueing bool) {
	if !d.at.IsZero() {
		d.bits = max(d.bits-int(debtSlack*float64(bps)*now.Sub(d.at).Seconds()), 0)
	}
	if !queueing {
		d.bits = min(d.bits, int(float64(bps)*maxDebt.Seconds()))
	}
	d.at = now
}

// debtSlack is the overshoot a frameDebt lets pass for good: libvpx keeps
// within a few percent of its target, and keyframes come on top.
const debtSlack = 1.15

// over reports whether the encoder is too far ahead of a target of bps to
// send the next frame.
func (d *frameDebt) over(bps int) bool {
	return float64(d.bits) > float64(bps)*maxDebt.Seconds()
}

// plan returns the bitrate for the next frame of width by height, the
// divisor of its size and whether to send it. The target is the slowest
// link, but not below the floor while another link carries more (one
// viewer on a bad link does not shrink everyone's picture); it is the start
// bitrate while no link is measured, and never more than the maximum.
func (e *videoSampleEncoder) plan(width, height int, now time.Time) (bps, divisor int, send bool) {
	s := e.settings
	top, floor := s.maxBitrate(width, height), s.minBitrate(width, height)
	target := s.startBitrate(width, height)
	if e.links.lowest > 0 {
		target = max(e.links.lowest, min(floor, e.links.highest))
	}
	target = min(max(target, lowestBitrate), top)
	divisor, send = e.degrade.plan(s.Degradation, target, floor, width, height, s.fps(), now)
	return target, divisor, send
}

func (e *videoSampleEncoder) close() {
	if e.enc != nil {
		e.enc.Close()
	}
}

// opusSampleEncoder re-cuts audio into 20 ms frames and encodes them with
// Opus.
type opusSampleEncoder struct {
	enc      audioEncoder
	channels int
	pending  []float32
}

const opusFrame = 960 // samples per channel in 20 ms at 48 kHz

func newOpusSampleEncoder() (sampleEncoder[AudioChunk], error) {
	if newOpusEncoder == nil {
		return nil, errNoCgo
	}
	return &opusSampleEncoder{}, nil
}

func (e *opusSampleEncoder) encode(chunk AudioChunk, _ bool, write func(media.Sample)) (bool, bool, error) {
	if chunk.Channels < 1 || chunk.Channels > 2 {
		return false, false, fmt.Errorf("%w: audio with %d channels: Opus takes 1 or 2", ErrAudioFormat, chunk.Channels)
	}
	if chunk.SampleRate != 0 && chunk.SampleRate != 48000 {
		return false, false, fmt.Errorf("%w: audio at %d Hz: connections send 48000 Hz", ErrAudioFormat, chunk.SampleRate)
	}
	if e.enc == nil || chunk.Channels != e.channels {
		if e.enc != nil {
			e.enc.Close()
		}
		enc, err := newOpusEncoder(chunk.Channels)
		if err != nil {
			e.enc = nil
			return false, false, fmt.Errorf("rtcbot: Opus encoder: %w", err)
		}
		e.enc, e.channels, e.pending = enc, chunk.Channels, e.pending[:0]
	}
	e.pending = append(e.pending, chunk.Samples...)
	n := opusFrame * e.channels
	for len(e.pending) >= n {
		data, err := e.enc.Encode(e.pending[:n])
		if err != nil {
			return false, false, fmt.Errorf("rtcbot: Opus encode: %w", err)
		}
		e.pending = e.pending[:copy(e.pending, e.pending[n:])]
		write(media.Sample{Data: data, Duration: 20 * time.Millisecond})
	}
	return true, false, nil
}

func (e *opusSampleEncoder) setLinks(linkRange) {}

func (e *opusSampleEncoder) sendingBitrate() int { return 0 }

func (e *opusSampleEncoder) close() {
	if e.enc != nil {
		e.enc.Close()
	}
}
