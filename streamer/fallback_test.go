package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/subjects"
)

// TestLiveFallbackKeepsPeer runs a session placed on NVENC whose
// (stand-in) hardware encoder fails or stalls mid-stream: the client keeps
// decoding on the same peer connection from a software keyframe on, the
// record says the session is on the cpu pool now and why, and one
// encoder_fallback event tells the story.
func TestLiveFallbackKeepsPeer(t *testing.T) {
	for _, tc := range []struct {
		name string
		// stall is how long each frame takes once the fault hits; zero:
		// every frame fails with an error.
		stall, timeout time.Duration
		reason         string
	}{
		// Stall detection off: a real encode's time on a loaded test host
		// must not turn the error case into a stall.
		{"error", 0, 0, "injected fault: GPU fell off the bus"},
		// 640x360 in software takes a few ms; the stand-in takes 150 ms.
		// Should the host be slow enough to stall earlier, the fallback is
		// still a stall's.
		{"stall", 150 * time.Millisecond, 50 * time.Millisecond, streamer.ErrEncoderStalled.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) { testLiveFallback(t, tc.stall, tc.timeout, tc.reason) })
	}
}

func testLiveFallback(t *testing.T, stall, timeout time.Duration, reason string) {
	const failAfter = 15
	h := start(t, func(s *session.Session, c *streamer.Config) {
		s.Encoder = encoders.PoolNVENC
		s.Screen = session.Screen{Width: 640, Height: 360, FPS: 30}
		c.EncoderStallTimeout = timeout
		streamer.InjectHardwareFault(c, failAfter, stall)
	})
	var sl stampLog
	p := h.connect(client.Options{PreferredCodecs: []string{encoders.H264}, OnFrame: sl.onFrame})
	rec := h.waitRecord(func(r *session.Session) error {
		if r.Encoder != encoders.PoolCPU || r.EncoderFallback == nil {
			return fmt.Errorf("encoder %q fallback %+v", r.Encoder, r.EncoderFallback)
		}
		return nil
	})
	fb := rec.EncoderFallback
	if fb.FromBackend != "h264_nvenc" || fb.ToBackend != "x264" || fb.FromPool != encoders.PoolNVENC ||
		fb.ToPool != encoders.PoolCPU || fb.Codec != encoders.H264 || !strings.HasPrefix(fb.Reason, reason) || fb.At.IsZero() {
		t.Fatalf("fallback %+v", fb)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, failAfter+30); err != nil {
		t.Fatalf("%v; client %+v; streamer %+v", err, p.Stats(), h.stats())
	}
	st := p.Stats()
	// The first keyframe is the hardware's, the next software's.
	if st.Codec != encoders.H264 || st.StripErrors != 0 || st.Keyframes < 2 {
		t.Errorf("client: codec %q, %d strip errors, %d keyframes", st.Codec, st.StripErrors, st.Keyframes)
	}
	sl.mu.Lock()
	stamps := sl.stamps[:failAfter+30]
	sl.mu.Unlock()
	for i := 1; i < len(stamps); i++ {
		if stamps[i].Frame <= stamps[i-1].Frame {
			t.Fatalf("frame counter went %d → %d at frame %d", stamps[i-1].Frame, stamps[i].Frame, i)
		}
	}
	if s := h.stats(); !s.Connected || s.PeersConnected != 1 {
		t.Errorf("streamer: connected %v after %d peer connections, want the first one still", s.Connected, s.PeersConnected)
	}

	// Once Run returned every record write is done: exactly one fallback
	// event, carrying the record with its encoder_fallback.
	h.stop()
	if err := h.waitRun(); err != nil {
		t.Fatal(err)
	}
	subj, err := subjects.Event(h.id, "session.encoder_fallback")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := h.env.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects[subj]; n != 1 {
		t.Fatalf("%d encoder_fallback events, want 1", n)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	var ev session.Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		t.Fatal(err)
	}
	evRec, err := ev.Session()
	if err != nil || ev.Type != session.CloudEventsPrefix+session.EventEncoderFallback ||
		evRec.EncoderFallback == nil || *evRec.EncoderFallback != *fb {
		t.Fatalf("event %s: %+v (%v)", ev.Type, evRec, err)
	}
}
