package turn_test

import (
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/internal/turntest"
	"github.com/streamstack/streamstack/turn"
)

func startWith(t *testing.T, tweak func(*turn.Config)) *turn.Server {
	t.Helper()
	cfg := turn.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Secret = secret
	tweak(&cfg)
	srv, err := turn.Start(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// One credential holds at most MaxAllocations relays: the next is refused
// with 486, another session's credential is not affected, and a freed
// one counts again.
func TestServerAllocationQuota(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := startWith(t, func(c *turn.Config) { c.MaxAllocations = 2 })
	cred := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
	var clients []*turntest.Client
	for i := range 2 {
		c := dial(t, srv, cred.Username, cred.Password)
		if _, err := c.Allocate(); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		clients = append(clients, c)
	}
	if _, err := dial(t, srv, cred.Username, cred.Password).Allocate(); turntest.Code(err) != stun.CodeAllocQuotaReached {
		t.Fatalf("third allocation: %v, want 486", err)
	}
	other := turn.NewCredential(secret, "sess2", time.Minute, time.Now())
	if _, err := dial(t, srv, other.Username, other.Password).Allocate(); err != nil {
		t.Fatalf("another session's credential: %v", err)
	}
	_ = clients
}

// A credential whose session has ended is refused from then on: no new
// allocation, and an allocation it holds gets no new permission.
func TestServerRevokesEndedSessions(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	var ended atomic.Bool
	srv := startWith(t, func(c *turn.Config) {
		c.Active = func(id string) bool { return id == "sess1" && !ended.Load() }
		c.Peers.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	})
	gone := turn.NewCredential(secret, "sess0", time.Minute, time.Now())
	if _, err := dial(t, srv, gone.Username, gone.Password).Allocate(); turntest.Code(err) != stun.CodeUnauthorized {
		t.Fatalf("ended session's credential: %v, want 401", err)
	}
	cred := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
	c := dial(t, srv, cred.Username, cred.Password)
	if _, err := c.Allocate(); err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddr("127.0.0.2")
	if err := c.CreatePermission(peer); err != nil {
		t.Fatalf("permission while the session runs: %v", err)
	}
	ended.Store(true)
	if err := c.CreatePermission(peer); turntest.Code(err) != stun.CodeUnauthorized {
		t.Fatalf("permission after the session ended: %v, want 401", err)
	}
	if st := srv.Stats(); st.Revoked < 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfigRefusesNegativeLimits(t *testing.T) {
	cfg := turn.DefaultConfig()
	cfg.Secret = secret
	cfg.MaxRelayKbps = -1
	if cfg.Validate() == nil {
		t.Error("negative relay cap accepted")
	}
}
