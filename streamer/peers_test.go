package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// notices hears the stream::unsupported messages a client gets.
type notices struct{ ch chan string }

func (c *notices) opts(o client.Options) client.Options {
	c.ch = make(chan string, 16)
	o.OnControl = func(typ string, data json.RawMessage) {
		if typ == protocol.StreamUnsupported {
			select {
			case c.ch <- string(data):
			default:
			}
		}
	}
	return o
}

func roleOf(ps protocol.Peers, id string) string {
	for _, p := range ps.Peers {
		if p.ID == id {
			return p.Role
		}
	}
	return ""
}

func move(t *testing.T, p *client.Peer, x int) {
	t.Helper()
	if err := p.SendInput(protocol.InputMouseMove, map[string]any{"x": x, "y": 10}); err != nil {
		t.Fatal(err)
	}
}

// Three clients in one session: all decode the same stream from one
// encoder; only the controller's input reaches the app; handover moves
// that; a viewer leaving affects nobody.
func TestViewersShareOneStreamAndControlMoves(t *testing.T) {
	h := start(t, allowViewers)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var ownerN, v1N notices
	base := client.Options{SessionUpdates: true}
	owner := h.connectAs(session.RoleOwner, ownerN.opts(base))
	v1 := h.connectAs(session.RoleViewer, v1N.opts(base))
	v2 := h.connectAs(session.RoleViewer, base)

	all := []*client.Peer{owner, v1, v2}
	for _, p := range all {
		if err := p.WaitFrames(ctx, 10); err != nil {
			t.Fatalf("frames: %v (%+v)", err, p.Stats())
		}
	}
	three := func(ps protocol.Peers) bool { return len(ps.Peers) == 3 }
	op, err := owner.WaitPeers(ctx, three)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := v1.WaitPeers(ctx, three)
	if err != nil {
		t.Fatal(err)
	}
	ownerID, v1ID := op.You, vp.You
	if !op.Owner || op.Role != session.RoleController || vp.Role != session.RoleViewer || vp.Owner {
		t.Fatalf("owner sees %+v, viewer sees %+v", op, vp)
	}
	rec := h.waitRecord(func(s *session.Session) error {
		if len(s.Peers) != 3 || session.Controller(s.Peers) != ownerID {
			return fmt.Errorf("record peers %+v", s.Peers)
		}
		return nil
	})
	for _, p := range rec.Peers {
		if p.Codec != protocol.CodecVP8 || p.JoinedAt.IsZero() {
			t.Fatalf("record peer %+v", p)
		}
	}
	// One encoder for all three: frames encoded follow the frame slots,
	// not three times them.
	st := h.stats()
	if st.Peers != 3 || st.FramesEncoded > st.FrameSlots || st.Controller != ownerID {
		t.Fatalf("stats: peers %d, encoded %d of %d slots, controller %q", st.Peers, st.FramesEncoded, st.FrameSlots, st.Controller)
	}

	// The owner's input is applied, the viewers' ignored and counted;
	// a viewer hears why once.
	move(t, owner, 100)
	move(t, v1, 200)
	move(t, v1, 201)
	move(t, v2, 300)
	h.waitStats(func(s streamer.Stats) error {
		if s.Inputs[protocol.InputMouseMove] != 1 || s.InputIgnored != 3 {
			return fmt.Errorf("inputs %v, ignored %d", s.Inputs, s.InputIgnored)
		}
		return nil
	})
	waitNotice(t, ctx, &v1N)

	// Handover: the viewer asks, the owner grants.
	if err := v1.Control(ctx, protocol.ControlRequest, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitPeers(ctx, func(ps protocol.Peers) bool { return slices.Contains(ps.Requests, v1ID) }); err != nil {
		t.Fatal(err)
	}
	if err := owner.Control(ctx, protocol.ControlGrant, v1ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v1.WaitPeers(ctx, func(ps protocol.Peers) bool {
		return ps.Role == session.RoleController && roleOf(ps, ownerID) == session.RoleViewer && len(ps.Requests) == 0
	}); err != nil {
		t.Fatal(err)
	}
	move(t, v1, 400)
	move(t, owner, 500)
	h.waitStats(func(s streamer.Stats) error {
		if s.Inputs[protocol.InputMouseMove] != 2 || s.InputIgnored != 4 || s.Controller != v1ID {
			return fmt.Errorf("inputs %v, ignored %d, controller %s", s.Inputs, s.InputIgnored, s.Controller)
		}
		return nil
	})
	waitNotice(t, ctx, &ownerN)

	// The owner takes control back.
	if err := owner.Control(ctx, protocol.ControlTake, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitPeers(ctx, func(ps protocol.Peers) bool { return ps.Role == session.RoleController }); err != nil {
		t.Fatal(err)
	}

	// A viewer leaving affects nobody: the others keep decoding.
	if err := v2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitPeers(ctx, func(ps protocol.Peers) bool { return len(ps.Peers) == 2 }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*client.Peer{owner, v1} {
		n := p.Stats().FramesDecoded
		if err := p.WaitFrames(ctx, int(n)+10); err != nil {
			t.Fatalf("frames after a viewer left: %v", err)
		}
	}
	h.waitRecord(func(s *session.Session) error {
		if len(s.Peers) != 2 || !s.ClientConnected || s.Status != session.StatusActive {
			return fmt.Errorf("record after a viewer left: %+v", s.Peers)
		}
		return nil
	})
}

// waitNotice waits for a viewer's stream::unsupported notice.
func waitNotice(t *testing.T, ctx context.Context, n *notices) {
	t.Helper()
	select {
	case d := <-n.ch:
		if !strings.Contains(d, "you are watching") {
			t.Fatalf("notice %s", d)
		}
	case <-ctx.Done():
		t.Fatal("no stream::unsupported notice for a viewer's input")
	}
}

// Control actions a role may not do are refused with a reason and change
// nothing; a one-peer session has no control to move.
func TestControlRefusals(t *testing.T) {
	h := start(t, allowViewers)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	base := client.Options{SessionUpdates: true}
	ctl := h.connectAs(session.RoleController, base)
	v := h.connectAs(session.RoleViewer, base)
	cp, err := ctl.WaitPeers(ctx, func(ps protocol.Peers) bool { return len(ps.Peers) == 2 })
	if err != nil {
		t.Fatal(err)
	}
	if cp.Owner || cp.Role != session.RoleController {
		t.Fatalf("a controller link's peer: %+v", cp)
	}
	for _, c := range []struct{ action, peer, want string }{
		{protocol.ControlGrant, cp.You, "only the controller or an owner"},
		{protocol.ControlTake, "", "only an owner"},
		{protocol.ControlRelease, "", "does not have control"},
	} {
		if err := v.Control(ctx, c.action, c.peer); err != nil {
			t.Fatal(err)
		}
		waitError(t, ctx, v, c.want)
	}
	if err := ctl.Control(ctx, protocol.ControlGrant, "v-nobody"); err != nil {
		t.Fatal(err)
	}
	waitError(t, ctx, ctl, "no connected peer")
	if st := h.stats(); st.Controller != cp.You {
		t.Fatalf("controller %q after refusals, want %q", st.Controller, cp.You)
	}
	// Released control goes to the first who asks: nobody to ask.
	if err := ctl.Control(ctx, protocol.ControlRelease, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.WaitPeers(ctx, func(ps protocol.Peers) bool { return session.Controller(peersOf(ps)) == "" }); err != nil {
		t.Fatal(err)
	}
	if err := v.Control(ctx, protocol.ControlRequest, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.WaitPeers(ctx, func(ps protocol.Peers) bool { return ps.Role == session.RoleController }); err != nil {
		t.Fatal(err)
	}
}

// A one-peer session has no control to move.
func TestControlInOnePeerSession(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p := h.connectAs(session.RoleOwner, client.Options{SessionUpdates: true})
	if err := p.Control(ctx, protocol.ControlRequest, ""); err != nil {
		t.Fatal(err)
	}
	waitError(t, ctx, p, "one peer")
}

func peersOf(ps protocol.Peers) []session.Peer {
	out := make([]session.Peer, len(ps.Peers))
	for i, p := range ps.Peers {
		out[i] = session.Peer{ID: p.ID, Role: p.Role}
	}
	return out
}

func waitError(t *testing.T, ctx context.Context, p *client.Peer, want string) {
	t.Helper()
	if err := p.WaitStreamerError(ctx, want); err != nil {
		t.Fatalf("no error %q (%v); got %q", want, err, p.StreamerErrors())
	}
}

// A viewer that cannot decode the session's codec is refused with a
// reason; a session full of peers refuses the next; the others stream on.
func TestViewerRefusedForCodecAndWhenFull(t *testing.T) {
	h := start(t, allowViewers, func(_ *session.Session, c *streamer.Config) { c.MaxPeers = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	owner := h.connectAs(session.RoleOwner, client.Options{PreferredCodecs: []string{protocol.CodecVP8}})

	h264 := h.newPeerAs(session.ConnPrefix(session.RoleViewer), client.Options{PreferredCodecs: []string{protocol.CodecH264}})
	err := h264.Connect(ctx)
	if err == nil || !strings.Contains(err.Error(), "the session streams VP8") {
		t.Fatalf("an H.264-only viewer of a VP8 session: %v", err)
	}
	h.connectAs(session.RoleViewer, client.Options{})
	third := h.newPeerAs(session.ConnPrefix(session.RoleViewer), client.Options{})
	if err := third.Connect(ctx); err == nil || !strings.Contains(err.Error(), "--max-peers") {
		t.Fatalf("a third peer of a two-peer session: %v", err)
	}
	n := owner.Stats().FramesDecoded
	if err := owner.WaitFrames(ctx, int(n)+10); err != nil {
		t.Fatalf("owner's stream after refusals: %v", err)
	}
}
