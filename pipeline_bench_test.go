package rtcbot

import (
	"context"
	"fmt"
	"image"
	"slices"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/rtcbot-go/rtcbot/timecode"
)

// Run with: go test -run '^$' -bench VideoPipeline -benchmem .
//
// BenchmarkVideoPipeline is, per frame, what a robot and a desktop do with
// video, minus the network, all on one goroutine and with the library's own
// code:
//
//   - the robot: a test-pattern frame, newly allocated as the test-pattern
//     camera makes it; the outgoing track's handler (outTrack.handle:
//     toI420, which passes a camera's 4:2:0 frame through; congestion
//     planning; the registered encoder at the bitrate of a good link,
//     VideoSettings.MaxBitrate's default of 0.1 bit per pixel per frame);
//     and pion's TrackLocalStaticSample bound to a stand-in for a
//     connection, which packetises the sample with pion's VP8 or H.264
//     payloader at pion's MTU of 1200 bytes; each packet is marshalled into
//     wire bytes;
//   - the desktop: each packet unmarshalled into a new rtp.Packet, as
//     pion's TrackRemote.ReadRTP does; the reorder buffer; the track's
//     assembler (the one an incoming track gets), which decodes each frame
//     when its last packet arrives; and the decoded picture published to a
//     subscription, which the benchmark reads.
//
// Left out: pion's interceptors (NACK, TWCC, RTCP reports), SRTP and the
// sockets. The clock is simulated at 30 frames a second, so the encoder's
// rate control sees the frame rate it would live; ns/op is the CPU time of
// one frame through both ends.
func BenchmarkVideoPipeline(b *testing.B) {
	for _, size := range []image.Point{{320, 240}, {640, 480}, {1280, 720}} {
		for _, codec := range []string{codecVP8, codecH264} {
			b.Run(fmt.Sprintf("%dx%d/%s", size.X, size.Y, codec), func(b *testing.B) {
				benchmarkVideoPipeline(b, codec, size.X, size.Y)
			})
		}
	}
}

func benchmarkVideoPipeline(b *testing.B, codec string, w, h int) {
	requireVideoCodec(b, codec)
	p := newBenchPipeline(b, codec, w, h)
	b.ReportAllocs()
	for b.Loop() {
		p.frame()
	}
	if p.decoded != p.sent {
		b.Fatalf("%d frames sent, %d decoded", p.sent, p.decoded)
	}
	b.ReportMetric(float64(p.bytes)/float64(p.sent), "bytes/frame")
	b.ReportMetric(float64(p.packets)/float64(p.sent), "packets/frame")
}

// benchPipeline is a robot's outgoing video track wired to a desktop's
// receiving end without a network in between.
type benchPipeline struct {
	tb      testing.TB
	pattern *timecode.Pattern
	w, h    int
	seq     uint32
	now     time.Time // the simulated clock

	track   *outTrack[image.Image]
	wire    *benchWire
	reorder reorderBuffer
	dec     trackDecoder[image.Image]
	out     *Producer[image.Image]
	sub     Subscription[image.Image]
	emitTo  func(image.Image) // p.emit, made once as receive makes its emit

	sent, decoded, bytes, packets int
}

func newBenchPipeline(tb testing.TB, codec string, w, h int) *benchPipeline {
	tb.Helper()
	codecs := registeredVideoCodecs()
	settings := VideoSettings{Codec: codec}
	name, capability, err := videoCodec(settings)
	if err != nil {
		tb.Fatal(err)
	}
	newEnc, err := codecs.encoder(name)
	if err != nil {
		tb.Fatal(err)
	}
	p := &benchPipeline{
		tb:      tb,
		pattern: timecode.NewPattern(w, h),
		w:       w, h: h,
		now:  time.UnixMilli(1_700_000_000_000),
		wire: &benchWire{},
	}

	// The robot's end: a track as acquireOutTrack makes it, without the
	// consumer goroutine (the benchmark calls its handler), bound as a
	// connection binds it.
	enc := &videoSampleEncoder{codec: name, newEnc: newEnc, settings: settings, clock: func() time.Time { return p.now }}
	local, err := webrtc.NewTrackLocalStaticSample(capability, "video", "rtcbot")
	if err != nil {
		tb.Fatal(err)
	}
	payloadType := webrtc.PayloadType(payloadVP8)
	if name == codecH264 {
		payloadType = payloadH264
	}
	if _, err := local.Bind(&benchTrackContext{
		params: []webrtc.RTPCodecParameters{{RTPCodecCapability: capability, PayloadType: payloadType}},
		wire:   p.wire,
	}); err != nil {
		tb.Fatal(err)
	}
	p.track = &outTrack[image.Image]{local: local, enc: enc}
	p.track.active.Store(1)
	// A good link: it carries what the encoder sends at most.
	top := settings.maxBitrate(w, h)
	p.track.links.Store(linkRange{lowest: top, highest: top})
	tb.Cleanup(enc.close)

	// The desktop's end.
	if p.dec, err = newVideoAssembler(codecs, capability.MimeType); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.dec.close)
	p.out = NewProducer(func() Subscription[image.Image] { return NewLatest[image.Image]() })
	p.sub = p.out.Subscribe()
	p.emitTo = p.emit
	tb.Cleanup(func() { p.out.Close() })
	return p
}

// frame sends one frame from camera to subscriber.
func (p *benchPipeline) frame() {
	// The robot.
	img := image.NewYCbCr(image.Rect(0, 0, p.w, p.h), image.YCbCrSubsampleRatio420)
	if err := p.pattern.FrameInto(img, p.seq, p.now); err != nil {
		p.tb.Fatal(err)
	}
	p.seq++
	p.wire.n = 0
	p.track.handle(img)
	p.sent++
	p.packets += p.wire.n

	// The desktop.
	decoded := p.decoded
	for _, data := range p.wire.packets[:p.wire.n] {
		p.bytes += len(data)
		// As TrackRemote.ReadRTP: a receive buffer and a packet each.
		buf := make([]byte, 1500)
		pkt := &rtp.Packet{}
		if err := pkt.Unmarshal(buf[:copy(buf, data)]); err != nil {
			p.tb.Fatal(err)
		}
		p.reorder.push(pkt, p.now, p.deliver)
	}
	if p.decoded != decoded+1 {
		p.tb.Fatalf("frame %d: %d pictures decoded, want 1 (%+v)", p.seq-1, p.decoded-decoded, p.dec.frames())
	}
	got, err := p.sub.Get(context.Background())
	if err != nil || got.Bounds().Dx() != p.w || got.Bounds().Dy() != p.h {
		p.tb.Fatalf("frame %d: received %v, %v", p.seq-1, got.Bounds(), err)
	}
	p.now = p.now.Add(time.Second / 30)
}

// deliver passes a packet in order to the assembler, as receiveInOrder does.
func (p *benchPipeline) deliver(pkt *rtp.Packet) {
	if p.dec.push(packet{pkt}, p.emitTo) {
		p.tb.Fatalf("frame %d: the assembler asks for a keyframe (%+v)", p.seq-1, p.dec.frames())
	}
}

// emit publishes a decoded picture, as MediaStream.receive does.
func (p *benchPipeline) emit(img image.Image) {
	p.decoded++
	p.out.Publish(img)
}

// benchWire keeps the marshalled packets of one frame, in buffers it
// reuses, standing in for a connection's SRTP writer.
type benchWire struct {
	packets [][]byte
	n       int
}

func (w *benchWire) WriteRTP(header *rtp.Header, payload []byte) (int, error) {
	n := header.MarshalSize()
	buf := slices.Grow(w.next(), n+len(payload))[:n]
	if _, err := header.MarshalTo(buf); err != nil {
		return 0, err
	}
	w.packets[w.n-1] = append(buf, payload...)
	return n + len(payload), nil
}

func (w *benchWire) Write(b []byte) (int, error) {
	w.packets[w.n-1] = append(w.next(), b...)
	return len(b), nil
}

// next returns the empty buffer of the next packet.
func (w *benchWire) next() []byte {
	if w.n == len(w.packets) {
		w.packets = append(w.packets, make([]byte, 0, 1500))
	}
	w.n++
	return w.packets[w.n-1][:0]
}

// benchTrackContext is what a connection hands a track it binds.
type benchTrackContext struct {
	params []webrtc.RTPCodecParameters
	wire   *benchWire
}

func (c *benchTrackContext) CodecParameters() []webrtc.RTPCodecParameters { return c.params }
func (c *benchTrackContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	return nil
}
func (c *benchTrackContext) SSRC() webrtc.SSRC                       { return 0x1234 }
func (c *benchTrackContext) SSRCRetransmission() webrtc.SSRC         { return 0 }
func (c *benchTrackContext) SSRCForwardErrorCorrection() webrtc.SSRC { return 0 }
func (c *benchTrackContext) WriteStream() webrtc.TrackLocalWriter    { return c.wire }
func (c *benchTrackContext) ID() string                              { return "bench" }
func (c *benchTrackContext) RTCPReader() interceptor.RTCPReader      { return nil }

// TestVideoPipelineAllocations pins what the library's own code allocates
// per frame on the video path: on the send side nothing for VP8 (the
// track's handler, congestion planning, the encoder into its reused buffer;
// pion's packetiser, which allocates each packet, is not counted: the track
// here is not bound), and on the receive side only the decoded picture,
// which is the subscribers' to keep (image.NewYCbCr: two allocations), for
// both codecs.
func TestVideoPipelineAllocations(t *testing.T) {
	const w, h = 320, 240
	t.Run("send/VP8", func(t *testing.T) {
		requireVideoCodec(t, codecVP8)
		p := newBenchPipeline(t, codecVP8, w, h)
		local, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "rtcbot")
		if err != nil {
			t.Fatal(err)
		}
		p.track.local = local // unbound: WriteSample returns at once
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		frame := func() {
			if err := p.pattern.FrameInto(img, p.seq, p.now); err != nil {
				t.Fatal(err)
			}
			p.seq++
			p.track.handle(img)
			p.now = p.now.Add(time.Second / 30)
		}
		for range 5 {
			frame()
		}
		if allocs := testing.AllocsPerRun(20, frame); allocs != 0 {
			t.Errorf("sending a VP8 frame allocates %v times in rtcbot's code, want 0", allocs)
		}
		if p.track.enc.sendingBitrate() == 0 {
			t.Error("nothing was encoded")
		}
	})
	for _, codec := range []string{codecVP8, codecH264} {
		t.Run("receive/"+codec, func(t *testing.T) {
			requireVideoCodec(t, codec)
			// Record a few frames' packets with the whole pipeline.
			p := newBenchPipeline(t, codec, w, h)
			var frames [][]*rtp.Packet
			for range 12 {
				p.wire.n = 0
				img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
				if err := p.pattern.FrameInto(img, p.seq, p.now); err != nil {
					t.Fatal(err)
				}
				p.seq++
				p.track.handle(img)
				p.now = p.now.Add(time.Second / 30)
				var pkts []*rtp.Packet
				for _, data := range p.wire.packets[:p.wire.n] {
					pkt := &rtp.Packet{}
					if err := pkt.Unmarshal(append([]byte(nil), data...)); err != nil {
						t.Fatal(err)
					}
					pkts = append(pkts, pkt)
				}
				frames = append(frames, pkts)
			}
			// Replay them into a fresh assembler: the keyframe first, then
			// the delta frames, measured.
			_, capability, _ := videoCodec(VideoSettings{Codec: codec})
			dec, err := newVideoAssembler(registeredVideoCodecs(), capability.MimeType)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.close()
			decoded := 0
			emit := func(image.Image) { decoded++ }
			next := 0
			push := func() {
				for _, pkt := range frames[next] {
					if dec.push(packet{pkt}, emit) {
						t.Fatalf("frame %d: keyframe asked for (%+v)", next, dec.frames())
					}
				}
				next++
			}
			push()
			push()
			if allocs := testing.AllocsPerRun(len(frames)-3, push); allocs > 2 {
				t.Errorf("receiving a %s frame allocates %v times, want 2 (the decoded picture)", codec, allocs)
			}
			if decoded != len(frames) {
				t.Errorf("%d of %d frames decoded", decoded, len(frames))
			}
		})
	}
}
