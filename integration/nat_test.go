package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/turn"
)

// natLab is a real NAT built from network namespaces:
//
//	client ns (10.N.1.2) ─┐                        ┌─ this namespace (10.N.0.1):
//	                        ├─ router ns ── wan ───┤  NATS, gateway, STUN/TURN
//	server ns (10.N.2.2) ─┘  10.N.0.2, masquerades
//
// The router masquerades both LANs behind 10.N.0.2 and forwards nothing
// between them, and Linux NAT does not hairpin: client and streamer can
// reach this namespace but never each other, directly or through their
// server-reflexive addresses. Only a relay here connects them.
type natLab struct {
	client, server, router string       // namespace names
	public                 netip.Addr   // this namespace's address on the link
	lan                    netip.Prefix // every address of the lab
}

const natPrefix = "sst" // namespaces and links of these tests

// newNATLab builds the lab, removed at cleanup even when the test fails.
// It skips, saying why, only without root or without ip netns.
func newNATLab(t testing.TB) *natLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the NAT tests need root for network namespaces (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the NAT tests need ip (iproute2) for network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatal("nft is not installed: scripts/install-deps.sh installs nftables")
	}
	removeStaleNamespaces(t)
	id := natPrefix + strconv.Itoa(os.Getpid()%100000)
	l := &natLab{client: id + "c", server: id + "s", router: id + "r"}
	net := freeLabNet(t) // 10.N
	l.public, l.lan = netip.MustParseAddr(net+".0.1"), netip.MustParsePrefix(net+".0.0/16")
	if err := exec.Command("ip", "netns", "add", l.router).Run(); err != nil {
		t.Skipf("ip netns is unavailable here: %v", err)
	}
	t.Cleanup(l.remove)
	uplink := id + "u"
	for _, cmd := range [][]string{
		{"ip", "netns", "add", l.client},
		{"ip", "netns", "add", l.server},
		// this namespace ↔ router
		{"ip", "link", "add", uplink, "type", "veth", "peer", "name", "wan", "netns", l.router},
		{"ip", "addr", "add", net + ".0.1/24", "dev", uplink},
		{"ip", "link", "set", uplink, "up"},
		{"ip", "-n", l.router, "addr", "add", net + ".0.2/24", "dev", "wan"},
		{"ip", "-n", l.router, "link", "set", "wan", "up"},
		{"ip", "-n", l.router, "link", "set", "lo", "up"},
		// router ↔ client LAN, router ↔ server LAN
		{"ip", "-n", l.router, "link", "add", "lc", "type", "veth", "peer", "name", "eth0", "netns", l.client},
		{"ip", "-n", l.router, "link", "add", "ls", "type", "veth", "peer", "name", "eth0", "netns", l.server},
		{"ip", "-n", l.router, "addr", "add", net + ".1.1/24", "dev", "lc"},
		{"ip", "-n", l.router, "addr", "add", net + ".2.1/24", "dev", "ls"},
		{"ip", "-n", l.router, "link", "set", "lc", "up"},
		{"ip", "-n", l.router, "link", "set", "ls", "up"},
		{"ip", "netns", "exec", l.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
	} {
		run(t, cmd...)
	}
	for ns, addr := range map[string]string{l.client: net + ".1", l.server: net + ".2"} {
		run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
		run(t, "ip", "-n", ns, "addr", "add", addr+".2/24", "dev", "eth0")
		run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", addr+".1")
	}
	rules := `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
	}
}
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname { "lc", "ls" } oifname "wan" accept
		iifname "wan" ct state established,related accept
	}
}
`
	cmd := exec.Command("ip", "netns", "exec", l.router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	return l
}

// freeLabNet picks a 10.N.0.0/16 no interface here uses (another test
// process's lab included), starting from one derived from the pid.
func freeLabNet(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil {
		t.Fatalf("ip addr: %v", err)
	}
	for i := range 50 {
		net := "10." + strconv.Itoa(200+(os.Getpid()+i)%50)
		if !bytes.Contains(out, []byte(" "+net+".")) {
			return net
		}
	}
	t.Fatalf("no free 10.200-249.0.0/16 network for the NAT lab:\n%s", out)
	return ""
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// remove deletes the namespaces; the veth pairs go with them.
func (l *natLab) remove() {
	for _, ns := range []string{l.client, l.server, l.router} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// removeStaleNamespaces deletes the namespaces of earlier test processes
// that were killed before their cleanup ran.
func removeStaleNamespaces(t testing.TB) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], natPrefix) || len(f[0]) < len(natPrefix)+2 {
			continue
		}
		pid, err := strconv.Atoi(f[0][len(natPrefix) : len(f[0])-1])
		if err != nil || pid == os.Getpid()%100000 {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // that test process still runs
		}
		t.Logf("removing stale network namespace %s", f[0])
		_ = exec.Command("ip", "netns", "del", f[0]).Run()
	}
}

// probeResult is streamstack probe --json's output.
type probeResult struct {
	Session       string  `json:"session"`
	FirstFrameMS  float64 `json:"first_frame_ms"`
	FramesDecoded uint64  `json:"frames_decoded"`
	ICEPath       string  `json:"ice_path"`
}

// probe runs `streamstack probe` in the client namespace: the Go client
// lives in this process, so the client side of the NAT is a helper
// process, which creates a session through the API and prints what
// arrived.
func (l *natLab) probe(t testing.TB, st *stack, extra ...string) (probeResult, string, error) {
	t.Helper()
	args := append([]string{"netns", "exec", l.client, binary, "probe", "--url", st.baseURL, "--token", st.token,
		"--width", "640", "--height", "360", "--duration", "300ms", "--json"}, extra...)
	cmd := exec.Command("ip", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var res probeResult
	if err == nil {
		if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
			return res, stderr.String(), fmt.Errorf("probe printed %q: %w", stdout.String(), jerr)
		}
	}
	return res, stderr.String(), err
}

// TestStreamingThroughRealNAT: client and streamer behind a NAT that
// keeps them apart stream through the embedded TURN server, and without
// TURN (STUN alone) the client reports a clear ICE failure.
func TestStreamingThroughRealNAT(t *testing.T) {
	checkLeaks(t)
	lab := newNATLab(t)
	streamerInLab := []string{"ip", "netns", "exec", lab.server}

	t.Run("through TURN", func(t *testing.T) {
		emb := turn.DefaultConfig()
		emb.Listen = lab.public.String() + ":0"
		emb.Peers.Allow = []netip.Prefix{lab.lan} // refused by default, as private
		st := startTURNStack(t, turnStack{host: lab.public.String(), streamerPrefix: streamerInLab,
			turn: localstack.TURNOptions{Embedded: &emb}})
		res, stderr, err := lab.probe(t, st)
		if err != nil {
			t.Fatalf("probe: %v\n%s", err, stderr)
		}
		if res.FramesDecoded < 3 {
			t.Errorf("probe decoded %d frames", res.FramesDecoded)
		}
		if !strings.Contains(res.ICEPath, "relay ") {
			t.Errorf("ICE path %q does not go through the relay", res.ICEPath)
		}
		if s := st.TURN.Stats(); s.AllocationsCreated < 1 {
			t.Errorf("TURN stats %+v", s)
		}
		t.Logf("through the NAT: first frame after %.1f ms over %s", res.FirstFrameMS, res.ICEPath)
	})

	t.Run("without TURN", func(t *testing.T) {
		stunCfg := turn.DefaultConfig()
		stunCfg.Listen, stunCfg.Secret = lab.public.String()+":0", "stun-only-lab-secret"
		stunSrv, err := turn.Start(stunCfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stunSrv.Close() })
		st := startTURNStack(t, turnStack{host: lab.public.String(), streamerPrefix: streamerInLab,
			turn: localstack.TURNOptions{URLs: stunSrv.URLs()[:1]}}) // stun: only
		_, stderr, err := lab.probe(t, st, "--ice-failed-timeout", "4s")
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("probe without TURN: %v (want it to fail)\n%s", err, stderr)
		}
		if !strings.Contains(stderr, "ICE failed") || !strings.Contains(stderr, "TURN") {
			t.Errorf("probe's error does not say ICE failed for want of TURN:\n%s", stderr)
		}
		t.Logf("without TURN: %s", strings.TrimSpace(stderr))
	})
}
