package livekit

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// The interceptors a session adds to the SDK's peer connections (the
// publisher's and the subscriber's: the SDK gives both the same list),
// below the SDK's own (NACK, RTCP reports, TWCC feedback):
//
//   - a linkMeter, which counts what is sent, and turns the SFU's keyframe
//     requests (PLI, FIR) for the published video into requests to
//     rtcbot's encoder, since the SDK reads and drops the RTCP of a track
//     that is not its own LocalTrack, and its REMB into an estimate;
//   - Google Congestion Control on the SFU's transport-wide feedback
//     (the SDK negotiates transport-cc but estimates nothing itself), as
//     rtcbot's connections do, and the TWCC sequence numbers it needs.
//
// The estimates go to the encoder of the published video.

// linkMeter is the interceptor factory of one session; it makes an
// instance per peer connection.
type linkMeter struct {
	bytesSent, packetsSent, framesSent atomic.Uint64
	keyframeRequests                   atomic.Uint64

	onKeyframeRequest func()        // a PLI or FIR for the published video
	onREMB            func(bps int) // a REMB from the SFU
}

// NewInterceptor returns the instance of one peer connection.
func (m *linkMeter) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &meterInstance{m: m, video: map[uint32]bool{}}, nil
}

// meterInstance is a linkMeter on one peer connection.
type meterInstance struct {
	interceptor.NoOp
	m *linkMeter

	mu    sync.Mutex
	video map[uint32]bool // SSRCs of the video streams sent
}

// BindLocalStream counts a stream's packets and bytes (headers included:
// what the uplink carries), and a video stream's frames (marker bits).
func (i *meterInstance) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	video := strings.HasPrefix(info.MimeType, "video/")
	if video {
		i.mu.Lock()
		i.video[info.SSRC] = true
		i.mu.Unlock()
	}
	m := i.m
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, attrs interceptor.Attributes) (int, error) {
		n, err := w.Write(header, payload, attrs)
		if err == nil {
			m.packetsSent.Add(1)
			m.bytesSent.Add(uint64(n))
			if video && header.Marker {
				m.framesSent.Add(1)
			}
		}
		return n, err
	})
}

// UnbindLocalStream forgets a stream.
func (i *meterInstance) UnbindLocalStream(info *interceptor.StreamInfo) {
	i.mu.Lock()
	delete(i.video, info.SSRC)
	i.mu.Unlock()
}

// BindRTCPReader watches the reports read on the connection for keyframe
// requests about the video sent, and REMB.
func (i *meterInstance) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = interceptor.Attributes{}
		}
		pkts, perr := a.GetRTCPPackets(b[:n])
		if perr != nil {
			return n, a, nil // not ours to refuse: the SDK sees the error
		}
		for _, p := range pkts {
			var media []uint32
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				media = []uint32{p.MediaSSRC}
			case *rtcp.FullIntraRequest:
				for _, e := range p.FIR {
					media = append(media, e.SSRC)
				}
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				if i.m.onREMB != nil && p.Bitrate > 0 && i.sendsVideo() {
					i.m.onREMB(int(min(p.Bitrate, 1<<31-1)))
				}
			}
			for _, ssrc := range media {
				if i.isVideo(ssrc) {
					i.m.keyframeRequests.Add(1)
					if i.m.onKeyframeRequest != nil {
						i.m.onKeyframeRequest()
					}
					break
				}
			}
		}
		return n, a, nil
	})
}

func (i *meterInstance) isVideo(ssrc uint32) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.video[ssrc]
}

func (i *meterInstance) sendsVideo() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.video) > 0
}

// sendingEstimator is a GCC estimator that knows whether its peer
// connection sends anything: the subscriber's never does, and its
// estimate means nothing.
type sendingEstimator struct {
	cc.BandwidthEstimator
	sending atomic.Bool
}

// AddStream marks the estimator as sending.
func (e *sendingEstimator) AddStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	e.sending.Store(true)
	return e.BandwidthEstimator.AddStream(info, w)
}

// congestionInterceptors returns GCC between start and [least, most] bits
// per second and the TWCC sequence numbering it needs, in the order the
// interceptor chain wants them (GCC must see the sequence numbers); onTarget
// receives the estimate of the connection that sends, each time it
// changes.
func congestionInterceptors(start, least, most int, onTarget func(bps int)) ([]interceptor.Factory, error) {
	estimator, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		// No pacer, as rtcbot's connections: packets leave as they are
		// encoded, and the encoder's rate control keeps to the target.
		bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(start), gcc.SendSideBWEMinBitrate(least),
			gcc.SendSideBWEMaxBitrate(most), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
		if err != nil {
			return nil, err
		}
		return &sendingEstimator{BandwidthEstimator: bwe}, nil
	})
	if err != nil {
		return nil, err
	}
	estimator.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		s, _ := e.(*sendingEstimator)
		// GCC calls back on goroutines of its own, which may overtake
		// each other: read the latest estimate rather than the one passed.
		e.OnTargetBitrateChange(func(int) {
			if s != nil && s.sending.Load() {
				onTarget(e.GetTargetBitrate())
			}
		})
	})
	numbers, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return nil, err
	}
	return []interceptor.Factory{estimator, numbers}, nil
}
