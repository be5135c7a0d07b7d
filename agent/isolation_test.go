package agent_test

import (
	"strings"
	"testing"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/session"
)

// Where containers cannot run, an agent says so in its heartbeat and ends
// an X11 session at once with the reason, while the test pattern, which
// needs none, is placed.
func TestNoContainersRefusesX11Apps(t *testing.T) {
	f := startAgent(t, `exec sleep 30`, func(c *agent.Config) {
		c.AppIsolation = "container"
		c.Containers = container.Runtime{Binary: "no-such-runtime"}
	})
	if state, inv := f.agent.Isolation(); state != "unavailable" || !strings.Contains(inv.Reason, "no-such-runtime") {
		t.Fatalf("isolation %q %+v", state, inv)
	}
	x := f.createApp(t, "xterm")
	rec := f.waitFor(t, x, func(s *session.Session) bool { return s.Status.Ended() })
	if rec.Reason != agent.ReasonNoIsolation || !strings.Contains(rec.StatusMessage, "no-such-runtime") ||
		!strings.Contains(rec.StatusMessage, "--app-isolation=none") {
		t.Errorf("ended %s %q: %q", rec.Status, rec.Reason, rec.StatusMessage)
	}
	p := f.create(t)
	f.waitFor(t, p, func(s *session.Session) bool { return s.Agent != "" })
	if hb := f.heartbeat(t); hb.AppIsolation != "unavailable" {
		t.Errorf("heartbeat says %q", hb.AppIsolation)
	}
}
