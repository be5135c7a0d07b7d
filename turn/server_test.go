package turn_test

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	pturn "github.com/pion/turn/v5"
	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/internal/pionlog"
	"github.com/streamstack/streamstack/internal/turntest"
	"github.com/streamstack/streamstack/turn"
)

const secret = "0123456789abcdef-secret"

// startServer runs an embedded server on loopback; allow lists the peer
// ranges it may relay to.
func startServer(t *testing.T, allow ...string) *turn.Server {
	t.Helper()
	cfg := turn.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Secret = secret
	for _, a := range allow {
		cfg.Peers.Allow = append(cfg.Peers.Allow, netip.MustParsePrefix(a))
	}
	srv, err := turn.Start(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

func dial(t *testing.T, srv *turn.Server, user, pass string) *turntest.Client {
	t.Helper()
	c, err := turntest.Dial(srv.Addr().String(), user, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestServerURLsAndSTUN(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := startServer(t)
	if srv.PublicIP() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("public IP %s, want the listen host", srv.PublicIP())
	}
	port := srv.Addr().Port()
	want := []string{"stun:127.0.0.1:", "turn:127.0.0.1:", "turn:127.0.0.1:"}
	urls := srv.URLs()
	if len(urls) != 3 || urls[1] != want[1]+itoa(port)+"?transport=udp" || urls[2] != want[2]+itoa(port)+"?transport=tcp" {
		t.Errorf("URLs %v", urls)
	}
	if err := turn.CheckURLs(urls); err != nil {
		t.Error(err)
	}
	c := dial(t, srv, "", "")
	mapped, err := c.Binding()
	if err != nil {
		t.Fatal(err)
	}
	if mapped.Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("mapped %s", mapped)
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

// TestServerRefusesBadCredentials: expired, forged and malformed
// credentials get 401; a good one allocates.
func TestServerRefusesBadCredentials(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := startServer(t)
	now := time.Now()
	good := turn.NewCredential(secret, "sess1", time.Minute, now)
	expired := turn.NewCredential(secret, "sess1", -time.Second, now)
	forged := turn.NewCredential("not-the-secret-0123", "sess1", time.Minute, now)
	for name, cred := range map[string][2]string{
		"expired":     {expired.Username, expired.Password},
		"forged":      {forged.Username, forged.Password},
		"wrong user":  {good.Username + "x", good.Password},
		"no expiry":   {"sess1", good.Password},
		"no password": {good.Username, ""},
	} {
		_, err := dial(t, srv, cred[0], cred[1]).Allocate()
		if turntest.Code(err) != stun.CodeUnauthorized {
			t.Errorf("%s: allocate answered %v, want 401", name, err)
		}
	}
	relay, err := dial(t, srv, good.Username, good.Password).Allocate()
	if err != nil {
		t.Fatalf("good credential: %v", err)
	}
	if relay.Addr() != srv.PublicIP() {
		t.Errorf("relay %s not at the public IP", relay)
	}
	st := srv.Stats()
	if st.AllocationsCreated != 1 || st.Allocations != 1 || st.AuthFailures < 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestServerRefusesDeniedPeers is the relay-into-the-internal-network
// abuse: loopback, "this host", private ranges and the metadata service
// are refused for permissions and channels unless allowed.
func TestServerRefusesDeniedPeers(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := startServer(t, "127.0.0.2/32")
	cred := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
	c := dial(t, srv, cred.Username, cred.Password)
	if _, err := c.Allocate(); err != nil {
		t.Fatal(err)
	}
	ch := uint16(0x4000)
	for _, s := range []string{"127.0.0.1", "0.0.0.0", "::", "10.0.0.1", "10.99.1.2", "169.254.169.254", "192.168.1.1", "::ffff:127.0.0.1"} {
		peer := netip.MustParseAddr(s)
		if err := c.CreatePermission(peer); turntest.Code(err) == 0 {
			t.Errorf("CreatePermission %s: %v, want refused", s, err)
		}
		if err := c.ChannelBind(netip.AddrPortFrom(peer, 5000), ch); turntest.Code(err) == 0 {
			t.Errorf("ChannelBind %s: %v, want refused", s, err)
		}
		ch++
	}
	if err := c.CreatePermission(netip.MustParseAddr("127.0.0.2")); err != nil {
		t.Errorf("allowed peer: %v", err)
	}
	if err := c.ChannelBind(netip.MustParseAddrPort("127.0.0.2:5000"), ch); err != nil {
		t.Errorf("allowed peer channel: %v", err)
	}
	if st := srv.Stats(); st.PeersDenied < 10 {
		t.Errorf("stats %+v", st)
	}
}

// TestServerRelaysToItself: on a host whose public IP is private, relays
// may reach that one address (other relays, the host's streamers) and no
// other private one; without RelayToSelf not even that.
func TestServerRelaysToItself(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	for _, self := range []bool{true, false} {
		cfg := turn.DefaultConfig()
		cfg.Listen, cfg.PublicIP, cfg.Secret, cfg.RelayToSelf = "127.0.0.1:0", "10.9.9.9", secret, self
		srv, err := turn.Start(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		cred := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
		c := dial(t, srv, cred.Username, cred.Password)
		if _, err := c.Allocate(); err != nil {
			t.Fatal(err)
		}
		if err := c.CreatePermission(netip.MustParseAddr("10.9.9.9")); (err == nil) != self {
			t.Errorf("RelayToSelf %v: permission to the public IP: %v", self, err)
		}
		if err := c.CreatePermission(netip.MustParseAddr("10.9.9.8")); turntest.Code(err) == 0 {
			t.Errorf("RelayToSelf %v: permission to another private address: %v", self, err)
		}
		_ = c.Close()
		_ = srv.Close()
	}
}

// TestServerOverTCP allocates with pion's client over the TCP listener
// (what a client behind a UDP-blocking firewall does), and the refusal
// of denied peers holds there too.
func TestServerOverTCP(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := startServer(t)
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cred := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
	client, err := pturn.NewClient(&pturn.ClientConfig{
		STUNServerAddr: srv.Addr().String(), TURNServerAddr: srv.Addr().String(),
		Conn: pturn.NewSTUNConn(conn), Username: cred.Username, Password: cred.Password,
		LoggerFactory: pionlog.Factory{Log: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { client.Close(); _ = conn.Close() }()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := client.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	if err := client.CreatePermission(&net.UDPAddr{IP: net.ParseIP("169.254.169.254"), Port: 80}); err == nil {
		t.Error("permission to the metadata service granted over TCP")
	}
	_, err = client.AllocateTCP()
	if err == nil {
		t.Error("TCP relay allocation granted")
	}
}

func TestConfigValidate(t *testing.T) {
	good := turn.DefaultConfig()
	good.Secret = secret
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*turn.Config){
		"listen":     func(c *turn.Config) { c.Listen = "nohost" },
		"hostname":   func(c *turn.Config) { c.Listen = "localhost:3478" },
		"public":     func(c *turn.Config) { c.PublicIP = "0.0.0.0" },
		"ports":      func(c *turn.Config) { c.RelayPortMin, c.RelayPortMax = 50000, 40000 },
		"half range": func(c *turn.Config) { c.RelayPortMin, c.RelayPortMax = 0, 40000 },
		"realm":      func(c *turn.Config) { c.Realm = "" },
		"secret":     func(c *turn.Config) { c.Secret = "short" },
	} {
		c := good
		mod(&c)
		if err := c.Validate(); !errors.Is(err, turn.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
