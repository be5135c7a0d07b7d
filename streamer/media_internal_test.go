package streamer

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/streamer/pattern"
)

// BenchmarkEncodeFrame720p is the per-frame cost of the capture+encode
// loop for each codec: pattern draw, encode (realtime, one thread) and
// the RTP packetisation of WriteSample, to a track bound to a writer
// that drops the packets (an unbound track skips packetisation).
func BenchmarkEncodeFrame720p(b *testing.B) {
	for _, c := range videoCodecs(1280, 720, 30) {
		b.Run(c.name, func(b *testing.B) {
			v, stats, sink := benchVideoLoop(b, c.name)
			n := uint32(30)
			start, startPkts := stats.bytes.Load(), sink.packets
			b.ReportAllocs()
			for b.Loop() {
				v.frame(n, time.Second/30, time.Now())
				n++
			}
			frames := float64(n - 30)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/frames, "µs/frame")
			b.ReportMetric(float64(stats.bytes.Load()-start)*8*30/frames/1000, "kbps@30fps")
			b.ReportMetric(float64(sink.packets-startPkts)/frames, "packets/frame")
		})
	}
}

// benchVideoLoop is a 720p30 test-pattern video loop on codec whose track
// is bound to a packetSink, 30 frames in (past the first keyframe).
func benchVideoLoop(b *testing.B, codec string) (*videoLoop, *counters, *packetSink) {
	b.Helper()
	gen, err := pattern.New(1280, 720)
	if err != nil {
		b.Fatal(err)
	}
	stats := newCounters()
	v, err := newVideoLoop(DefaultConfig(), slog.Default(), stats, gen, 1280, 720, 30, videoCodecs(1280, 720, 30))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.closeEncoder)
	if err := v.use(codec); err != nil {
		b.Fatal(err)
	}
	sink := &packetSink{}
	if _, err := v.track.Bind(sink); err != nil {
		b.Fatal(err)
	}
	for n := range uint32(30) {
		v.frame(n, time.Second/30, time.Now())
	}
	return v, stats, sink
}

// packetSink is a TrackLocalContext whose write stream counts and drops
// RTP packets.
type packetSink struct {
	packets int
}

func (s *packetSink) CodecParameters() []webrtc.RTPCodecParameters {
	// Bind matches the track's own codec by MIME type and fmtp.
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: payloadTypeVP8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: payloadTypeH264},
	}
}
func (s *packetSink) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (s *packetSink) SSRC() webrtc.SSRC                                      { return 1 }
func (s *packetSink) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (s *packetSink) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (s *packetSink) WriteStream() webrtc.TrackLocalWriter                   { return s }
func (s *packetSink) ID() string                                             { return "bench" }
func (s *packetSink) RTCPReader() interceptor.RTCPReader                     { return nil }
func (s *packetSink) WriteRTP(_ *rtp.Header, p []byte) (int, error) {
	s.packets++
	return len(p), nil
}
func (s *packetSink) Write(b []byte) (int, error) { s.packets++; return len(b), nil }
