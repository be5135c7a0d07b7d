package agent_test

import (
	"strings"
	"testing"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/session"
)

// A streamer process finds no secret in its environment, which every
// process of its user may read in /proc/PID/environ: the NATS URL there has
// no password, the URL with it comes on descriptor 3, and the agent's own
// admin token, TURN secret and NATS URL are not passed on.
func TestStreamerProcessEnvironmentHasNoSecrets(t *testing.T) {
	t.Setenv("STREAMSTACK_ADMIN_TOKEN", "admin-token-in-the-agents-env")
	t.Setenv("STREAMSTACK_TURN_SECRET", "turn-secret-in-the-agents-env")
	t.Setenv("STREAMSTACK_NATS_URL", "nats://agent:agents-nats-pw@127.0.0.1:4222")
	const natsURL = "nats://streamer:s3cret-pw@127.0.0.1:4222,nats://streamer:s3cret-pw@127.0.0.2:4222"
	// Each check has its own exit status, which the session's reason names.
	f := startAgent(t, `env=$(tr '\0' '\n' < /proc/$$/environ)
echo "$env" | grep -q -e s3cret-pw -e agents-nats-pw -e admin-token-in -e turn-secret-in && exit 11
echo "$env" | grep -qx 'STREAMSTACK_NATS_URL=nats://127.0.0.1:4222,nats://127.0.0.2:4222' || exit 12
echo "$env" | grep -qx 'STREAMSTACK_NATS_CREDENTIALS_FD=3' || exit 13
echo "$env" | grep -qx 'STREAMSTACK_LOG_LEVEL=error' || exit 14
[ "$(cat <&3)" = '`+natsURL+`' ] || exit 15`, func(c *agent.Config) {
		c.NATSURL = natsURL
		c.StreamerEnv = []string{"STREAMSTACK_LOG_LEVEL=error"}
	})
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusTerminated {
		t.Fatalf("%s %s", s.Status, s.Reason)
	}
	if strings.Contains(s.Reason, "exit status") {
		t.Fatal(s.Reason)
	}
}
