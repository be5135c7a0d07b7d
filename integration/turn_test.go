package integration

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/turntest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/turn"
)

// turnStack configures a stack with STUN/TURN: startStack's settings plus
// the TURN options, the host NATS and the gateway listen on, and how
// streamers are started.
type turnStack struct {
	turn localstack.TURNOptions
	// host NATS and the gateway listen on; empty: 127.0.0.1.
	host string
	// streamerPrefix runs the streamer under another command (ip netns
	// exec NAME).
	streamerPrefix []string
	streamerEnv    []string
}

func startTURNStack(t testing.TB, o turnStack) *stack {
	t.Helper()
	return startStack(t, stackOptions{turn: o.turn, host: o.host, streamerPrefix: o.streamerPrefix, streamerEnv: o.streamerEnv})
}

// turnScreen is small: these tests are about the path, not the picture.
var turnScreen = session.Screen{Width: 640, Height: 360, FPS: 30}

// embeddedTURN is the embedded server on loopback, allowed to relay to
// loopback (refused by default) and nowhere else.
func embeddedTURN() *turn.Config {
	c := turn.DefaultConfig()
	c.Listen = "127.0.0.1:0"
	c.Peers.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return &c
}

func relayOnly(info *client.SessionInfo) client.Options {
	return client.Options{ICEServers: info.ICEServers(), ICETransportPolicy: webrtc.ICETransportPolicyRelay}
}

// TestSessionRelaysThroughEmbeddedTURN: the API gives a session the
// embedded server with a TURN REST credential for its id, and a client
// forced to relay decodes frames through it.
func TestSessionRelaysThroughEmbeddedTURN(t *testing.T) {
	checkLeaks(t)
	st := startTURNStack(t, turnStack{turn: localstack.TURNOptions{Embedded: embeddedTURN()}})
	ctx := testCtx(t)
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &turnScreen})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.StunServers) != 1 || strings.Join(info.StunServers[0].URLs, " ") != strings.Join(st.TURN.URLs(), " ") {
		t.Fatalf("stun_servers %+v, want the embedded server's %v", info.StunServers, st.TURN.URLs())
	}
	cred := info.StunServers[0]
	if !strings.HasSuffix(cred.Username, ":"+info.ID) {
		t.Errorf("username %q does not name the session", cred.Username)
	}
	if err := turn.CheckCredential(st.ICE.Secret, cred.Username, cred.Password, time.Now()); err != nil {
		t.Errorf("credential: %v", err)
	}
	if exp, _ := turn.Expiry(cred.Username); time.Until(exp) < 23*time.Hour {
		t.Errorf("credential expires at %s, want the default TTL of 24h", exp)
	}
	peer := st.connect(t, ctx, info, relayOnly(info))
	if err := peer.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	if path := peer.Path(); !strings.HasPrefix(path, "relay ") {
		t.Errorf("client path %q, want its relay candidate", path)
	}
	if s := st.TURN.Stats(); s.AllocationsCreated == 0 || s.AuthFailures != 0 {
		t.Errorf("TURN stats %+v", s)
	}
}

// TestRelayOnlyStreamerProcess: the agent passes --ice-relay-only and the
// TURN URLs down; the streamer process reads the secret from NATS and
// relays, so the client's path ends at the streamer's relay candidate.
func TestRelayOnlyStreamerProcess(t *testing.T) {
	checkLeaks(t)
	st := startTURNStack(t, turnStack{
		turn:        localstack.TURNOptions{Embedded: embeddedTURN()},
		streamerEnv: []string{"STREAMSTACK_ICE_RELAY_ONLY=true"},
	})
	ctx := testCtx(t)
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &turnScreen})
	if err != nil {
		t.Fatal(err)
	}
	peer := st.connect(t, ctx, info, client.Options{ICEServers: info.ICEServers()})
	if err := peer.WaitFrames(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if path := peer.Path(); !strings.Contains(path, "-> relay ") {
		t.Errorf("client path %q, want the streamer's relay candidate", path)
	}
}

// coturn is a running Debian turnserver.
type coturn struct {
	addr   netip.AddrPort
	secret string
	relays [2]int // min and max relay port
	out    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startCoturn runs turnserver on loopback with docs/turn.md's credential
// and peer settings, allowing 127.0.0.1 alone as a peer; it is stopped,
// and reaped, at cleanup. Without turnserver the test is skipped.
func startCoturn(t *testing.T) *coturn {
	t.Helper()
	path, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("turnserver (Debian package coturn) is not installed: scripts/install-deps.sh installs it")
	}
	port := freeUDPTCPPort(t)
	c := &coturn{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		secret: "coturn-test-" + session.NewID(), out: &syncBuffer{}}
	c.relays = [2]int{port + 1, port + 200}
	dir := t.TempDir()
	args := []string{"-n", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp-relay", "--fingerprint",
		"--listening-ip=127.0.0.1", "--listening-port=" + strconv.Itoa(port), "--relay-ip=127.0.0.1",
		"--min-port=" + strconv.Itoa(c.relays[0]), "--max-port=" + strconv.Itoa(c.relays[1]),
		"--use-auth-secret", "--static-auth-secret=" + c.secret, "--realm=streamstack.test",
		"--no-multicast-peers", "--allow-loopback-peers", "--allowed-peer-ip=127.0.0.1",
		"--pidfile=" + filepath.Join(dir, "turnserver.pid"), "--userdb=" + filepath.Join(dir, "turndb"),
		"--log-file=stdout", "--simple-log", "--no-rfc5780"}
	for _, r := range turn.CoturnDeniedPeers() {
		args = append(args, "--denied-peer-ip="+r)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = c.out, c.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("turnserver output:\n%s", c.out.String())
		}
	})
	// Ready when it answers a STUN binding request.
	probe, err := turntest.Dial(c.addr.String(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	probe.Timeout = 200 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err = probe.Binding(); err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("turnserver does not answer on %s: %v\n%s", c.addr, err, c.out.String())
		}
	}
}

// freeUDPTCPPort finds a loopback port free for UDP and TCP.
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		_ = u.Close()
		if err == nil {
			_ = l.Close()
			if port+200 < 65536 {
				return port
			}
		}
	}
	t.Fatal("no free port")
	return 0
}

func (c *coturn) urls() []string {
	hp := c.addr.String()
	return []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// TestSessionRelaysThroughCoturn: production's setup, coturn with
// use-auth-secret, pointed at by --turn-urls and --turn-secret. A client
// forced to relay streams through it with the session's credential, and
// coturn refuses expired and forged credentials and the denied peers, as
// the embedded server does.
func TestSessionRelaysThroughCoturn(t *testing.T) {
	checkLeaks(t)
	ct := startCoturn(t)
	st := startTURNStack(t, turnStack{turn: localstack.TURNOptions{URLs: ct.urls(), Secret: ct.secret}})
	if st.TURN != nil {
		t.Fatal("an embedded server runs although --turn-urls names coturn")
	}
	ctx := testCtx(t)
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &turnScreen})
	if err != nil {
		t.Fatal(err)
	}
	peer := st.connect(t, ctx, info, relayOnly(info))
	if err := peer.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	path := peer.Path()
	var port int
	if _, err := fmt.Sscanf(path, "relay udp 127.0.0.1:%d", &port); err != nil || port < ct.relays[0] || port > ct.relays[1] {
		t.Errorf("client path %q, want a coturn relay port in %v", path, ct.relays)
	}

	t.Run("credentials", func(t *testing.T) {
		now := time.Now()
		good := turn.NewCredential(ct.secret, info.ID, time.Minute, now)
		expired := turn.NewCredential(ct.secret, info.ID, -time.Second, now)
		forged := turn.NewCredential("not-the-coturn-secret", info.ID, time.Minute, now)
		for name, c := range map[string]turn.Credential{"expired": expired, "forged": forged} {
			cl, err := turntest.Dial(ct.addr.String(), c.Username, c.Password)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Allocate()
			_ = cl.Close()
			if turntest.Code(err) != stun.CodeUnauthorized {
				t.Errorf("%s credential: %v, want 401", name, err)
			}
		}
		cl, err := turntest.Dial(ct.addr.String(), good.Username, good.Password)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if _, err := cl.Allocate(); err != nil {
			t.Fatalf("good credential: %v", err)
		}
		t.Run("denied peers", func(t *testing.T) {
			ch := uint16(0x4000)
			for _, s := range []string{"127.0.0.2", "0.0.0.0", "10.0.0.1", "169.254.169.254", "192.168.1.1", "::", "::1"} {
				peer := netip.MustParseAddr(s)
				if err := cl.CreatePermission(peer); turntest.Code(err) == 0 {
					t.Errorf("CreatePermission %s: %v, want refused", s, err)
				}
				if err := cl.ChannelBind(netip.AddrPortFrom(peer, 5000), ch); turntest.Code(err) == 0 {
					t.Errorf("ChannelBind %s: %v, want refused", s, err)
				}
				ch++
			}
			if err := cl.CreatePermission(netip.MustParseAddr("127.0.0.1")); err != nil {
				t.Errorf("the allowed peer: %v", err)
			}
		})
	})
}
