package streamer

import (
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// The streamer stamps every video packet with protocol.AbsCaptureTimeURI:
// the wall-clock time, as a UQ32.32 NTP timestamp, at which the source
// drew or grabbed the frame. It is on the clock of the sender reports pion
// sends (time.Now), so a receiver can tell capture → display for every
// frame, whatever the app draws: a browser's glass-to-glass
// (docs/subjects.md, "Glass-to-glass").

// registerCaptureTime offers the extension on video, so that it is in the
// streamer's SDP and a browser that knows it (Chromium) accepts it.
func registerCaptureTime(m *webrtc.MediaEngine) error {
	return m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: protocol.AbsCaptureTimeURI},
		webrtc.RTPCodecTypeVideo)
}

// captureClock hands the capture time of the frame being sent from the
// video loop to the interceptor that stamps its packets. The loop sets it
// right before WriteSample, and the stamping interceptor is outside the
// pacer, so it runs inside that WriteSample on the loop's goroutine: the
// packets it stamps are that frame's.
type captureClock struct {
	unixNanos atomic.Int64
}

func (c *captureClock) set(t time.Time) { c.unixNanos.Store(t.UnixNano()) }

// ntp is the capture time as abs-capture-time's UQ32.32 NTP timestamp;
// false before the first frame.
func (c *captureClock) ntp() (uint64, bool) {
	n := c.unixNanos.Load()
	if n == 0 {
		return 0, false
	}
	return rtp.NewAbsCaptureTimeExtension(time.Unix(0, n)).Timestamp, true
}

// captureTimeFactory makes one stamping interceptor per peer connection,
// all reading the streamer's one clock.
type captureTimeFactory struct {
	clock *captureClock
}

func (f captureTimeFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &captureTimeInterceptor{clock: f.clock}, nil
}

// captureTimeInterceptor adds abs-capture-time to every packet of a local
// stream that negotiated it (video), with the negotiated id. Every packet,
// not only a frame's first: 12 bytes each, and a receiver that starts
// mid-frame or lost the first packet still has it.
type captureTimeInterceptor struct {
	interceptor.NoOp
	clock *captureClock
}

func (i *captureTimeInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == protocol.AbsCaptureTimeURI && e.ID > 0 && e.ID < 15 {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if ts, ok := i.clock.ntp(); ok {
			// Its own 8 bytes per packet: SetExtension keeps the slice,
			// and the NACK responder keeps the header for resends.
			if b, err := (rtp.AbsCaptureTimeExtension{Timestamp: ts}).Marshal(); err == nil {
				_ = h.SetExtension(id, b)
			}
		}
		return w.Write(h, payload, a)
	})
}
