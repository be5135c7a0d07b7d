package streamer_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
)

// frameLog records what a client decoded.
type frameLog struct {
	mu     sync.Mutex
	stamps []pattern.Stamp
	hashes []uint64 // of the picture below the strip
	check  func(*yuv.Image) bool
	hits   int
}

func (l *frameLog) onFrame(img *yuv.Image, st pattern.Stamp) {
	h := fnv.New64a()
	for y := 64; y < img.Height; y += 8 {
		h.Write(img.Y[y*img.YStride : y*img.YStride+img.Width])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stamps = append(l.stamps, st)
	l.hashes = append(l.hashes, h.Sum64())
	if l.check != nil && l.check(img) {
		l.hits++
	}
}

func TestStreamsDecodableFrames(t *testing.T) {
	h := start(t)
	var fl frameLog
	p := h.connect(client.Options{OnFrame: fl.onFrame})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 60); err != nil {
		t.Fatal(err)
	}

	fl.mu.Lock()
	stamps, hashes := fl.stamps[:60], fl.hashes[:60]
	fl.mu.Unlock()
	for i := 1; i < len(stamps); i++ {
		if stamps[i].Frame <= stamps[i-1].Frame {
			t.Fatalf("frame counter went %d → %d at frame %d", stamps[i-1].Frame, stamps[i].Frame, i)
		}
		if stamps[i].CaptureMicros < stamps[i-1].CaptureMicros {
			t.Fatalf("capture time went backwards at frame %d", i)
		}
	}
	distinct := map[uint64]bool{}
	for _, x := range hashes {
		distinct[x] = true
	}
	if len(distinct) < 50 {
		t.Errorf("only %d distinct pictures in 60 frames: the picture does not move", len(distinct))
	}

	st := p.Stats()
	t.Logf("client: connect %v, first frame %v, %.1f fps, %.0f kbps, latency %v, dropped %d",
		st.ConnectTime, st.FirstFrame, st.FPS, st.BitrateKbps, st.Latency, st.FramesDropped)
	if st.StripErrors != 0 {
		t.Errorf("%d frames with an unreadable strip", st.StripErrors)
	}
	if st.Latency < 0 || st.Latency > 2*time.Second {
		t.Errorf("latency %v", st.Latency)
	}

	s := h.waitStats(func(s streamer.Stats) error {
		if !s.Connected || s.PeersConnected != 1 || s.FramesEncoded < 60 || s.Keyframes < 1 {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})
	if s.Codec != "VP8" || s.Width != 1280 || s.Height != 720 || s.FPS != 30 || s.BitrateKbps <= 0 {
		t.Errorf("stats %+v", s)
	}
	t.Logf("streamer: encode avg %.0fµs max %.0fµs, bitrate %d kbps, estimate %d kbps, audio packets %d",
		s.EncodeMicrosAvg, s.EncodeMicrosMax, s.BitrateKbps, s.EstimateKbps, s.AudioPackets)
	h.waitRecord(func(r *session.Session) error {
		if r.StatusMessage != "peer connected" || r.Codec != "VP8" {
			return fmt.Errorf("status %q codec %q", r.StatusMessage, r.Codec)
		}
		return nil
	})
}
