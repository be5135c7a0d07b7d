package integration

import (
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// TestInProcessStreamers: with agent.Config.RunStreamer the agent runs
// streamers on its own goroutines. Two sessions stream apart, a DELETE
// ends one (the streamer's context is cancelled like a SIGTERM) while the
// other streams on, and no goroutine outlives the stack (checkLeaks).
func TestInProcessStreamers(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{inProcess: true})
	ctx := testCtx(t)
	var frames frameLog
	a, peerA := st.open(t, ctx, client.CreateRequest{Screen: &hd}, client.Options{OnFrame: frames.onFrame})
	b, peerB := st.open(t, ctx, client.CreateRequest{Screen: &hd}, client.Options{})
	for _, p := range []*client.Peer{peerA, peerB} {
		if err := p.WaitFrames(ctx, 30); err != nil {
			t.Fatal(err)
		}
	}
	frames.checkMoving(t)
	if a.ID == b.ID {
		t.Fatal("one session for two creates")
	}
	if err := st.api.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	rec := st.waitStatus(t, a.ID, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	if rec.Reason != session.ReasonDeleted {
		t.Errorf("reason %q", rec.Reason)
	}
	st.waitStatus(t, b.ID, func(s *session.Session) bool { return s.Status == session.StatusActive })
	n := peerB.Stats().FramesDecoded
	if err := peerB.WaitFrames(ctx, int(n)+10); err != nil {
		t.Fatalf("the other session stopped with the first: %v", err)
	}
}
