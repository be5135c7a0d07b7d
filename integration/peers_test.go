package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// Through the real gateway and a streamer process (docs/peers.md): the
// owner and two people who joined through share links all decode the one
// stream; only the controller's input reaches the app; the viewer asks for
// control and the owner gives it; a viewer's leaving affects nobody; each
// change is an event. A link with max_uses 1 works once.
func TestShareLinksViewersAndHandover(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	updates := client.Options{SessionUpdates: true}
	info, owner := st.open(t, ctx, client.CreateRequest{Screen: &small, Joinable: true, AllowViewers: true}, updates)

	viewerLink, err := st.api.Share(ctx, info.ID, client.ShareRequest{Role: session.RoleViewer, MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	otherLink, err := st.api.Share(ctx, info.ID, client.ShareRequest{Role: session.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	// A person with the link and no API token.
	guest := &client.Gateway{BaseURL: st.baseURL}
	joinAs := func(token string) *client.Peer {
		t.Helper()
		in, err := guest.JoinShare(ctx, info.ID, token, small)
		if err != nil {
			t.Fatal(err)
		}
		return st.connect(t, ctx, in, updates)
	}
	viewer := joinAs(viewerLink.Token)
	if _, err := guest.JoinShare(ctx, info.ID, viewerLink.Token, small); !isStatus(err, 403) {
		t.Fatalf("second use of a max_uses 1 link: %v, want 403", err)
	}
	other := joinAs(otherLink.Token)

	for _, p := range []*client.Peer{owner, viewer, other} {
		if err := p.WaitFrames(ctx, 10); err != nil {
			t.Fatalf("frames: %v", err)
		}
	}
	three := func(ps protocol.Peers) bool { return len(ps.Peers) == 3 }
	op, err := owner.WaitPeers(ctx, three)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := viewer.WaitPeers(ctx, three)
	if err != nil {
		t.Fatal(err)
	}
	if op.Role != session.RoleController || !op.Owner || vp.Role != session.RoleViewer || vp.Owner {
		t.Fatalf("owner %+v, viewer %+v", op, vp)
	}

	// Only the controller's input reaches the app.
	for _, p := range []*client.Peer{owner, viewer, other} {
		if err := p.SendInput(protocol.InputMouseMove, map[string]any{"x": 10, "y": 10}); err != nil {
			t.Fatal(err)
		}
	}
	waitInputs(t, st, info.ID, 1, 2)

	if err := viewer.Control(ctx, protocol.ControlRequest, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitPeers(ctx, func(ps protocol.Peers) bool { return slices.Contains(ps.Requests, vp.You) }); err != nil {
		t.Fatal(err)
	}
	if err := owner.Control(ctx, protocol.ControlGrant, vp.You); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.WaitPeers(ctx, func(ps protocol.Peers) bool { return ps.Role == session.RoleController }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*client.Peer{owner, viewer} {
		if err := p.SendInput(protocol.InputMouseMove, map[string]any{"x": 20, "y": 20}); err != nil {
			t.Fatal(err)
		}
	}
	waitInputs(t, st, info.ID, 2, 3)

	// A viewer leaving affects nobody.
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	rec := st.waitStatus(t, info.ID, func(s *session.Session) bool { return len(s.Peers) == 2 })
	if session.Controller(rec.Peers) != vp.You {
		t.Fatalf("record peers %+v, controller should be %s", rec.Peers, vp.You)
	}
	for _, p := range []*client.Peer{owner, viewer} {
		n := p.Stats().FramesDecoded
		if err := p.WaitFrames(ctx, int(n)+10); err != nil {
			t.Fatalf("frames after a viewer left: %v", err)
		}
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	types := st.eventTypes(t, ctx, info.ID, session.EventTerminated)
	for _, want := range []string{session.EventPeerJoined, session.EventControlChanged, session.EventPeerLeft} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s event in %v", want, types)
		}
	}
}

// waitInputs waits for the streamer's report of applied and ignored input.
func waitInputs(t *testing.T, st *stack, id string, applied, ignored uint64) {
	t.Helper()
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		got, err := st.api.Get(testCtx(t), id)
		if err != nil {
			return err
		}
		var s struct {
			Inputs  map[string]uint64 `json:"inputs"`
			Ignored uint64            `json:"input_ignored"`
		}
		if len(got.Stats) == 0 {
			return fmt.Errorf("no stats yet")
		}
		if err := json.Unmarshal(got.Stats, &s); err != nil {
			return err
		}
		if s.Inputs[protocol.InputMouseMove] != applied || s.Ignored != ignored {
			return fmt.Errorf("inputs %v ignored %d, want %d and %d", s.Inputs, s.Ignored, applied, ignored)
		}
		return nil
	})
}

// isStatus reports whether err is an API error with HTTP status code.
func isStatus(err error, code int) bool {
	var e *client.APIError
	return errors.As(err, &e) && e.StatusCode == code
}
