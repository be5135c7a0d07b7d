package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/jetstream"
)

// A streamer process of a stack whose NATS wants a password reaches it, yet
// its environment, which every process of its user can read in
// /proc/PID/environ, holds neither that password nor the admin token: the
// agent hands the URL with credentials over a pipe.
func TestStreamerProcessEnvironmentHasNoNATSPassword(t *testing.T) {
	checkLeaks(t)
	const adminToken = "admin-token-from-the-environment"
	t.Setenv("STREAMSTACK_ADMIN_TOKEN", adminToken)
	pidFile := filepath.Join(t.TempDir(), "pid")
	st := startStack(t, stackOptions{natsAuth: true,
		// The shell gives the streamer its pid and everything else.
		streamerPrefix: []string{"/bin/sh", "-c", `echo $$ > "$0"; exec "$@"`, pidFile}})
	internal := st.internalURL(t)
	password, ok := internal.User.Password()
	if !ok || password == "" {
		t.Fatalf("the stack's internal URL %s has no password", st.Server.ClientURL())
	}
	ctx := testCtx(t)
	_, peer := st.open(t, ctx, client.CreateRequest{Screen: &turnScreen}, client.Options{})
	if err := peer.WaitFrames(ctx, 10); err != nil {
		t.Fatal(err)
	}
	// The streamer is its session's own NATS user, not the stack's.
	users, err := st.Server.ConnectedUsers()
	if err != nil {
		t.Fatal(err)
	}
	var streamers []string
	for name, user := range users {
		if strings.HasPrefix(name, "streamstack-streamer-") {
			streamers = append(streamers, name)
			if id := strings.TrimPrefix(name, "streamstack-streamer-"); user != jetstream.StreamerUser(id) {
				t.Errorf("streamer connection %s is user %q", name, user)
			}
		}
	}
	if len(streamers) != 1 {
		t.Fatalf("streamer connections %v among %v", streamers, users)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	environ, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{password, adminToken} {
		if bytes.Contains(environ, []byte(secret)) {
			t.Errorf("the streamer's environment holds %q", secret)
		}
	}
	env := strings.Split(string(environ), "\x00")
	for _, want := range []string{"STREAMSTACK_NATS_URL=" + st.Server.ClientURL(), "STREAMSTACK_NATS_CREDENTIALS_FD=3"} {
		if !slices.Contains(env, want) {
			t.Errorf("the streamer's environment lacks %s", want)
		}
	}
}
