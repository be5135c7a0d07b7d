package streamer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// Resize (issue 18, docs/subjects.md "Resize"): the controller's
// stream::resize changes the session's screen while it streams. The
// checks that need nothing of the event loop (even sides, the streamer's
// limits, the session's capacity) run on the control channel's goroutine;
// the event loop then has the video loop resize its source and reopen its
// encoder at the new size on the same tracks, with a keyframe, so every
// peer's decoder follows without a new connection.

// screenSize is the display's size, packed into one word so the control
// channels and the stats read a consistent pair.
type screenSize struct{ v atomic.Uint64 }

func newScreenSize(w, h int) *screenSize {
	s := &screenSize{}
	s.set(w, h)
	return s
}

func (s *screenSize) set(w, h int) { s.v.Store(uint64(uint32(w))<<32 | uint64(uint32(h))) }

func (s *screenSize) get() (w, h int) {
	v := s.v.Load()
	return int(v >> 32), int(uint32(v))
}

// resizeRequest is an accepted stream::resize on its way to the event
// loop; refuse tells the client why it did not happen.
type resizeRequest struct {
	conn   string
	w, h   int
	refuse func(why string)
}

// screenUnits is what a screen costs in encoder units: agent.SessionUnits
// (the agent imports the streamer, so the formula is repeated here;
// TestScreenUnitsMatchAgent holds them together).
func screenUnits(w, h, fps int) float64 {
	u := float64(w) * float64(h) * float64(fps) / (1280 * 720 * 30)
	return max(u, 0.05)
}

// resizeRefusal is why w×h cannot be had, or "".
func (s *server) resizeRefusal(w, h int) string {
	switch {
	case w%2 != 0 || h%2 != 0:
		return fmt.Sprintf("%dx%d: width and height must be even (4:2:0 video)", w, h)
	case w > s.cfg.ResizeMaxWidth || h > s.cfg.ResizeMaxHeight:
		return fmt.Sprintf("%dx%d is larger than this streamer's limit of %dx%d", w, h,
			s.cfg.ResizeMaxWidth, s.cfg.ResizeMaxHeight)
	}
	// A record without units was not placed by an agent (a streamer of
	// its own): there is no reservation to stay within.
	if need := screenUnits(w, h, s.fps); s.rec.Units > 0 && need > s.rec.Units+s.cfg.ResizeUnitsSlack {
		return fmt.Sprintf("%dx%d at %d fps needs %.2f encoder units; the session holds %.2f (a larger reservation is not available)",
			w, h, s.fps, need, s.rec.Units)
	}
	return ""
}

// requestResize checks a stream::resize of p, the controller (or the only
// peer), and hands it to the event loop. Called on dc's goroutine.
func (s *server) requestResize(p *peer, ev protocol.Input, dc *webrtc.DataChannel) {
	log := s.log.With("conn", p.connID)
	refuse := func(why string) {
		log.Info("resize refused", "width", ev.Width, "height", ev.Height, "why", why)
		msg, err := protocol.EncodeUnsupported(protocol.StreamResize, why)
		if err == nil {
			err = dc.SendText(string(msg))
		}
		if err != nil {
			log.Debug("send stream::unsupported", "what", protocol.StreamResize, "err", err)
		}
	}
	if why := s.resizeRefusal(ev.Width, ev.Height); why != "" {
		refuse(why)
		return
	}
	s.post(peerEvent{peer: p, kind: evResize, resize: &resizeRequest{conn: p.connID, w: ev.Width, h: ev.Height, refuse: refuse}})
}

// resize carries out an accepted request on the event loop: the video
// loop changes size, then the record and the stats follow.
func (s *server) resize(r *resizeRequest) {
	if w, h := s.screen.get(); w == r.w && h == r.h {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ResizeTimeout)
	defer cancel()
	start := time.Now()
	if err := s.media.resize(ctx, r.w, r.h); err != nil {
		s.log.Warn("resize failed", "conn", r.conn, "width", r.w, "height", r.h, "err", err)
		why := err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			why = fmt.Sprintf("the display did not change size within %s", s.cfg.ResizeTimeout)
		}
		r.refuse(why)
		return
	}
	s.screen.set(r.w, r.h)
	sc := s.rec.Screen
	sc.Width, sc.Height, sc.FPS = r.w, r.h, s.fps
	s.status.setScreen(sc)
	s.log.Info("screen resized", "conn", r.conn, "width", r.w, "height", r.h, "took", time.Since(start))
}

// resize has the video loop change size; it returns once it has or
// could not.
func (m *mediaLoops) resize(ctx context.Context, w, h int) error {
	result := make(chan error, 1)
	select {
	case m.video.ctl <- mediaCmd{op: opResize, w: w, h: h, ctx: ctx, result: result}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resize changes the source's size and reopens the encoder of the
// current codec at it, on the same track; the next frame is a keyframe.
// On failure everything stays at the old size.
func (v *videoLoop) resize(ctx context.Context, w, h int) error {
	if w == v.w && h == v.h {
		return nil
	}
	r, ok := v.src.(Resizer)
	if !ok {
		return fmt.Errorf("%w: this session's display cannot change size", ErrResize)
	}
	if v.codec == protocol.CodecH264 {
		// The level was negotiated for the session's first screen; a
		// larger picture than it allows may not decode.
		have, _ := h264.LevelFor(v.firstW, v.firstH, v.fps)
		if need, err := h264.LevelFor(w, h, v.fps); err != nil || need > have {
			return fmt.Errorf("%w: %dx%d needs a higher H.264 level than this connection negotiated", ErrResize, w, h)
		}
	}
	img, err := yuv.NewImage(w, h)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrResize, err)
	}
	if err := r.Resize(ctx, w, h); err != nil {
		return fmt.Errorf("%w: %w", ErrResize, err)
	}
	oldW, oldH, oldImg := v.w, v.h, v.img
	v.w, v.h, v.img = w, h, img
	codec := v.codec
	if codec == "" {
		return nil // no encoder open: the next use opens it at w×h
	}
	v.closeEncoder()
	if err := v.use(codec); err != nil {
		// Back to the old size, which had an encoder a moment ago.
		v.w, v.h, v.img = oldW, oldH, oldImg
		if rerr := r.Resize(ctx, oldW, oldH); rerr != nil {
			v.log.Error("resize back", "width", oldW, "height", oldH, "err", rerr)
		}
		if uerr := v.use(codec); uerr != nil {
			v.log.Error("reopen encoder", "codec", codec, "err", uerr)
		}
		return fmt.Errorf("%w: encoder at %dx%d: %w", ErrResize, w, h, err)
	}
	v.startBps = initialKbps(v.cfg, w, h, v.fps) * 1000
	v.requestKeyframe()
	return nil
}

// Capabilities implements CapabilityReporter: the test pattern can
// change size.
func (PatternSink) Capabilities() []string { return []string{protocol.CapabilityResize} }
