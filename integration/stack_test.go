package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

// binary is the streamstack binary the agent launches streamers from, built
// once for the package (without -race: streamers encode video, and the race
// detector would make them too slow to keep their frame rate).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "streamstack-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "streamstack")
	build := exec.Command("go", "build", "-o", binary, "../cmd/streamstack")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build streamstack:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stack is one running streamstack: NATS, gateway, agent.
type stack struct {
	*localstack.Stack
	token   string
	baseURL string
	api     *client.Gateway
	// tokenID is token's id: a NATS client connected with the token
	// calls the session service under it.
	tokenID string
}

type stackOptions struct {
	agent   func(*agent.Config)
	gateway func(*gateway.Config)
	noAgent bool
	// server changes the embedded NATS's configuration.
	server func(*jetstream.ServerConfig)
	// natsAuth turns on the embedded server's authentication, as serve
	// does: the internal user, and NATS clients with an API token.
	natsAuth bool
	// turn gives sessions STUN/TURN servers.
	turn localstack.TURNOptions
	// host NATS and the gateway listen on; empty: 127.0.0.1.
	host string
	// streamerPrefix runs streamers under another command (ip netns exec
	// NAME); streamerEnv adds to their environment.
	streamerPrefix []string
	streamerEnv    []string
	// inProcess runs streamers on the agent's goroutines, not as children.
	inProcess bool
}

func startStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	acfg := agent.DefaultConfig()
	if opts.host == "" {
		opts.host = "127.0.0.1"
	}
	acfg.StreamerCommand = append(append([]string{}, opts.streamerPrefix...), binary, "streamer")
	acfg.StreamerEnv = append([]string{"STREAMSTACK_LOG_LEVEL=error", "STREAMSTACK_STATS_INTERVAL=100ms"}, opts.streamerEnv...)
	acfg.Cores, acfg.UnitsPerCore = 2, 4
	acfg.StopTimeout = 2 * time.Second
	if opts.agent != nil {
		opts.agent(&acfg)
	}
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = net.JoinHostPort(opts.host, "0")
	if opts.gateway != nil {
		opts.gateway(&gcfg)
	}
	srv := jetstream.DefaultServerConfig(t.TempDir())
	srv.Listen = net.JoinHostPort(opts.host, "-1")
	creds := jetstream.NewCredentials()
	if opts.natsAuth {
		creds.Apply(&srv)
	}
	if opts.server != nil {
		opts.server(&srv)
	}
	var inProcess func([]string) (streamer.Config, error)
	if opts.inProcess {
		// The settings these tests give children, read from the same
		// environment (cmd reads it with the streamer's own flags).
		inProcess = func(env []string) (streamer.Config, error) {
			c := streamer.DefaultConfig()
			c.StatsInterval = 100 * time.Millisecond
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, "STREAMSTACK_RUNTIME_DIR="); ok {
					c.RuntimeDir = v
				}
			}
			return c, nil
		}
	}
	st, err := localstack.Start(context.Background(), localstack.Options{
		Server: srv, Gateway: gcfg, Agent: acfg, NoAgent: opts.noAgent, TURN: opts.turn, Source: "integration",
		InProcessStreamers: inProcess,
		Log:                slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack: %v", err)
		}
	})
	token, info, err := st.Tokens.Create(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(st.URL, "/")
	return &stack{Stack: st, token: token, baseURL: base, api: &client.Gateway{BaseURL: base, Token: token}, tokenID: info.ID}
}

// internalURL is the embedded server's URL with the internal user's name
// and password.
func (s *stack) internalURL(t testing.TB) *url.URL {
	t.Helper()
	u, err := url.Parse(s.Server.InternalURL())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitStatus waits until the session's record satisfies ok.
func (s *stack) waitStatus(t *testing.T, id string, ok func(*session.Session) bool) *session.Session {
	t.Helper()
	var last *session.Session
	natstest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		rec, _, err := s.Store.Get(context.Background(), id)
		if err != nil {
			return err
		}
		last = rec
		if !ok(rec) {
			return fmt.Errorf("session %s is %s (%s) reason %q", id, rec.Status, rec.StatusMessage, rec.Reason)
		}
		return nil
	})
	return last
}
