package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// netTestUID is the first uid the tests' networks run as: past the test
// slots, used by nothing else.
const netTestUID = 1_700_000_000

// netHelperEnv makes the test binary a caller that starts a network and
// waits to be killed. Read in init, before kill_test.go's TestMain.
const netHelperEnv = "STREAMSTACK_NETWORK_TEST_HELPER"

func init() {
	if v := os.Getenv(netHelperEnv); v != "" {
		os.Exit(netHelper(v))
	}
}

func netHelper(arg string) int {
	uid, _ := strconv.ParseUint(arg, 10, 32)
	if _, err := StartOutbound(context.Background(), NetworkConfig{UID: uint32(uid), GID: uint32(uid)}); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready")
	select {}
}

// needNetwork skips where an outbound network cannot be made, saying why.
func needNetwork(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("an outbound network needs root")
	}
	for _, bin := range []string{"pasta", "nft", "unshare", "setpriv", "bash", "timeout"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (passt, nftables, util-linux, bash, coreutils)", bin)
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no tun device: %v", err)
	}
}

func startNetwork(t testing.TB, cfg NetworkConfig) *Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := StartOutbound(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// processesOf counts the live processes whose real or effective uid is
// uid; zombies left to an init that does not reap (a container's) are
// gone but for their pid. The owner of /proc/<pid> will not do: pasta
// makes itself non-dumpable, which makes that root.
func processesOf(uid uint32) int {
	ents, _ := os.ReadDir("/proc")
	want := strconv.FormatUint(uint64(uid), 10)
	n := 0
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		var zombie, mine bool
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			switch {
			case len(f) >= 2 && f[0] == "State:":
				zombie = f[1] == "Z" || f[1] == "X"
			case len(f) >= 3 && f[0] == "Uid:":
				mine = f[1] == want || f[2] == want
			}
		}
		if mine && !zombie {
			n++
		}
	}
	return n
}

// refusals is the packet count of uid's refuse chain.
func refusals(t *testing.T, uid uint32) int {
	out, err := exec.Command("nft", "list", "chain", "inet", filterTable(uid), "refuse").CombinedOutput()
	if err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	_, after, ok := strings.Cut(string(out), "counter packets ")
	if !ok {
		t.Fatalf("no counter:\n%s", out)
	}
	n, _ := strconv.Atoi(strings.Fields(after)[0])
	return n
}

func tableExists(uid uint32) bool {
	return exec.Command("nft", "list", "table", "inet", filterTable(uid)).Run() == nil
}

// hostAddr is one of the host's own non-loopback IPv4 addresses, if it
// has one.
func hostAddr() (netip.Addr, bool) {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// listen accepts on every host address; the count is of connections
// that got through.
func listen(t *testing.T) (port int, accepted *atomic.Int32) {
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	accepted = new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, accepted
}

// dialAs connects from a host process running as uid to addr, within 2 s.
func dialAs(uid uint32, addr string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("timeout", "2", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestNetworkConfigValidate(t *testing.T) {
	for _, c := range []NetworkConfig{{}, {UID: 1000, GID: 1000}, {UID: netTestUID, GID: 0}, {UID: 1<<32 - 1, GID: netTestUID}} {
		if err := c.validate(); !errors.Is(err, ErrSpec) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := (NetworkConfig{UID: netTestUID, GID: netTestUID}).validate(); err != nil {
		t.Error(err)
	}
}

func TestFilterRules(t *testing.T) {
	r := filterRules(netTestUID, []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("fd00::53")})
	for _, want := range []string{
		"table inet streamstack_net_1700000000 {", "hook output priority filter", "meta skuid 1700000000 jump app",
		"ip daddr { 10.1.2.3 } meta l4proto { tcp, udp } th dport 53 accept",
		"ip6 daddr { fd00::53 } meta l4proto { tcp, udp } th dport 53 accept",
		"fib daddr type { local, broadcast, anycast, multicast } jump refuse",
		"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
		"::/127", "fc00::/7", "fe80::/10", "::ffff:0.0.0.0/96",
		"64:ff9b::a9fe:0/112", // 169.254.0.0/16 through NAT64
		"2002:a00::/24",       // 10.0.0.0/8 through 6to4
		"reject with tcp reset",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("want %q in:\n%s", want, r)
		}
	}
	// The accepts come before any refusal.
	if strings.Index(r, "dport 53 accept") > strings.Index(r, "jump refuse") {
		t.Errorf("resolvers after the refusals:\n%s", r)
	}
	if r := filterRules(netTestUID, nil); strings.Contains(r, "dport 53") {
		t.Errorf("no DNS, yet:\n%s", r)
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("nft"); err == nil {
			cmd := exec.Command("nft", "--check", "-f", "-")
			cmd.Stdin = strings.NewReader(filterRules(netTestUID, []netip.Addr{netip.MustParseAddr("127.0.0.53")}))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("nft --check: %v: %s", err, out)
			}
		}
	}
}

func TestHostResolvers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	conf := "# comment\nnameserver 10.255.255.53\nsearch example.org\nnameserver fe80::1%eth0\nnameserver ::ffff:127.0.0.53\nnameserver bogus\n"
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(hostResolvers(p))
	if got != "[10.255.255.53 fe80::1 127.0.0.53]" {
		t.Errorf("resolvers %s", got)
	}
	if hostResolvers(filepath.Join(t.TempDir(), "none")) != nil {
		t.Error("resolvers of a missing file")
	}
}

// The filter on the host, without a container: pasta's uid cannot
// connect to the host's loopback, its own address or the metadata
// address, and is refused at once (a reset made on the host: nothing is
// sent); another uid still reaches the loopback.
func TestOutboundFilter(t *testing.T) {
	needNetwork(t)
	port, accepted := listen(t)
	uid := uint32(netTestUID + 1)
	startNetwork(t, NetworkConfig{UID: uid, GID: uid})
	targets := []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "169.254.169.254:80"}
	if a, ok := hostAddr(); ok {
		targets = append(targets, net.JoinHostPort(a.String(), strconv.Itoa(port)))
	}
	for _, addr := range targets {
		start := time.Now()
		out, err := dialAs(uid, addr)
		if err == nil {
			t.Errorf("uid %d reached %s", uid, addr)
		} else if !strings.Contains(out, "refused") || time.Since(start) > time.Second {
			t.Errorf("%s: not refused at once (%v, %v): %s", addr, time.Since(start), err, out)
		}
	}
	if out, err := dialAs(uid+1, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Errorf("another uid cannot reach the loopback: %v: %s", err, out)
	}
	if c := refusals(t, uid); c < len(targets) {
		t.Errorf("refused %d packets, want at least %d", c, len(targets))
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections got through, want the other uid's 1", n)
	}
}

// End to end through runc: a container in the outbound network has an
// interface besides lo and a default route through pasta; it reaches
// none of the host's listeners (loopback, through the gateway that pasta
// does not map, the host's own address) nor the metadata address: pasta
// tries, our filter refuses (its counter says so), and the app's
// connect times out (this pasta gets the refusal at once but does not
// pass it on as one the app's TCP takes; TestOutboundFilter shows the
// refusal itself). The way out works: a connect to a public address goes
// out through pasta as pasta's uid, past our filter. It is not sent
// anywhere: a table of the test's, after ours on the same hook, counts
// and drops it (so the app sees a timeout, where a missing route would
// say "Network is unreachable"). 198.51.100.1 is documentation space
// (TEST-NET-2).
//
// The bundle is Runtime.Start's but for /sys, a read-only bind of the
// host's: runc cannot mount a sysfs in a network namespace that the
// container's new user namespace does not own (opencontainers/runc#3672;
// crun binds /sys then), which is what Spec.config asks for today (see
// TestOutboundRuntimeStart).
func TestOutboundContainer(t *testing.T) {
	needNetwork(t)
	rt, slots := needRuntime(t)
	slot, err := slots.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer slot.Release()
	uid := slot.HostUID(slot.Size - 1)
	port, accepted := listen(t)

	sink := fmt.Sprintf("streamstack_test_sink_%d", os.Getpid())
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(`table inet %s {
	chain output {
		type filter hook output priority filter + 10; policy accept;
		meta skuid %d ip daddr 198.51.100.1 counter drop
	}
}
`, sink, uid))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", sink).Run() })

	start := time.Now()
	n := startNetwork(t, NetworkConfig{UID: uid, GID: uid})
	t.Logf("StartOutbound: %v", time.Since(start))

	host := "none"
	if a, ok := hostAddr(); ok {
		host = a.String()
	}
	script := fmt.Sprintf(`echo links=$(ip -o link show | cut -d: -f2 | tr -d ' ' | tr '\n' ' ')
ip route show default
ip route get 198.51.100.1
try() { [ "$1" = none ] && return; timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1; echo "try $1:$2 rc=$?"; }
try 127.0.0.1 %[1]d
try %[2]s %[1]d
try %[3]s %[1]d
try 169.254.169.254 80
timeout 1 bash -c 'exec 3<>/dev/tcp/198.51.100.1/9' 2>&1; echo "public rc=$?"
exit 0`, port, nsGateway, host)
	out, err := runSysBound(t, rt, Spec{Args: []string{"/bin/sh", "-c", script}, UID: 1000, GID: 1000, Slot: slot,
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, NetNS: n.NSPath(),
		Limits: Limits{CPU: 0.5, MemoryBytes: 128 << 20, Pids: 32}})
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("container:\n%s", out)
	for _, w := range []string{"links=lo eth0\n", "default via " + nsGateway.String() + " dev eth0",
		"198.51.100.1 via " + nsGateway.String() + " dev eth0", "public rc=124"} {
		if !strings.Contains(out, w) {
			t.Errorf("want %q in:\n%s", w, out)
		}
	}
	tries := 0
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "try ") {
			tries++
			if rc := strings.TrimSpace(line[strings.LastIndex(line, "rc=")+3:]); rc != "1" && rc != "124" {
				t.Errorf("not refused: %s", line)
			}
		}
	}
	if want := map[bool]int{true: 3, false: 4}[host == "none"]; tries != want {
		t.Errorf("%d tries, want %d:\n%s", tries, want, out)
	}
	if c := refusals(t, uid); c == 0 {
		t.Error("our filter refused nothing")
	} else {
		t.Logf("refused %d packets", c)
	}
	if strings.Contains(out, "unreachable") || strings.Contains(out, "Permission denied") {
		t.Errorf("no way out:\n%s", out)
	}
	if got := accepted.Load(); got != 0 {
		t.Errorf("%d connections reached the host's listener", got)
	}
	list, err := exec.Command("nft", "list", "table", "inet", sink).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "counter packets ") || strings.Contains(string(list), "counter packets 0 ") {
		t.Errorf("pasta sent nothing to 198.51.100.1 as uid %d (%v):\n%s", uid, err, list)
	}
}

// runSysBound runs spec to its end as Runtime.Start does, but with /sys a
// read-only bind of the host's in place of a new sysfs, as crun does. A
// bind without its submounts is refused in a user namespace (it would
// uncover what they hide).
func runSysBound(t *testing.T, rt Runtime, spec Spec) (string, error) {
	t.Helper()
	spec.ID = fmt.Sprintf("test-%s-%d", t.Name(), time.Now().UnixNano())
	if err := spec.validate(); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(bundleDir(t), "container")
	if err := os.Mkdir(bundle, 0o711); err != nil {
		t.Fatal(err)
	}
	root, binds, err := spec.rootfs(bundle)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := spec.config(root, binds)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range conf.Mounts {
		if m.Destination == "/sys" {
			conf.Mounts[i] = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
				Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}}
		}
	}
	b, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := rt.command(ctx, "run", "--bundle", bundle, spec.ID).CombinedOutput()
	if err := rt.Delete(ctx, spec.ID); err != nil {
		t.Error(err)
	}
	assertGone(t, rt, spec.ID)
	return string(out), err
}

// Runtime.Start with Spec.NetNS: what the streamer will call. runc 1.1
// refuses the new sysfs that Spec.config mounts when the network
// namespace is not the container's own; until Spec binds /sys there, this
// says so and skips.
func TestOutboundRuntimeStart(t *testing.T) {
	needNetwork(t)
	rt, slots := needRuntime(t)
	n := startNetwork(t, NetworkConfig{UID: netTestUID + 5, GID: netTestUID + 5})
	out, err := run(t, rt, slots, Spec{Args: []string{"/bin/sh", "-c", "ip route show default"}, UID: 1000, GID: 1000,
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, NetNS: n.NSPath()})
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(out, "default via "+nsGateway.String()+" dev eth0") {
		t.Errorf("no default route through pasta:\n%s", out)
	}
}

// Close leaves nothing: no process of the uid, no filter table, no
// namespace path; and again is no error.
func TestOutboundClose(t *testing.T) {
	needNetwork(t)
	uid := uint32(netTestUID + 2)
	n := startNetwork(t, NetworkConfig{UID: uid, GID: uid, DNS: true})
	if processesOf(uid) == 0 || !tableExists(uid) {
		t.Fatal("no pasta or no table while the network runs")
	}
	if _, err := os.Stat(n.NSPath()); err != nil {
		t.Fatal(err)
	}
	if n.Nameserver() != nsDNS {
		t.Errorf("nameserver %v", n.Nameserver())
	}
	if _, err := StartOutbound(context.Background(), NetworkConfig{UID: uid, GID: uid}); !errors.Is(err, ErrSpec) {
		t.Errorf("a second network on uid %d: %v", uid, err)
	}
	path := n.NSPath()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.Done():
	default:
		t.Error("Done not closed")
	}
	if c := processesOf(uid); c != 0 {
		t.Errorf("%d processes of uid %d left", c, uid)
	}
	if tableExists(uid) {
		t.Error("filter table left")
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeType == 0 {
		t.Errorf("%s still names a namespace", path)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The uid serves again.
	startNetwork(t, NetworkConfig{UID: uid, GID: uid}).Close()
}

// A caller killed outright takes pasta with it; the table it leaves is
// what RemoveNetworkFilter is for (and the next network on that uid
// replaces).
func TestOutboundDiesWithCaller(t *testing.T) {
	needNetwork(t)
	uid := uint32(netTestUID + 3)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), netHelperEnv+"="+strconv.FormatUint(uint64(uid), 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	if processesOf(uid) == 0 {
		t.Fatal("no pasta")
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for processesOf(uid) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pasta outlived its caller by 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !tableExists(uid) {
		t.Error("the table went with the caller? RemoveNetworkFilter's doc is wrong")
	}
	if err := RemoveNetworkFilter(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if tableExists(uid) {
		t.Error("table left after RemoveNetworkFilter")
	}
}

func BenchmarkStartOutbound(b *testing.B) {
	needNetwork(b)
	uid := uint32(netTestUID + 4)
	for b.Loop() {
		n, err := StartOutbound(context.Background(), NetworkConfig{UID: uid, GID: uid})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func TestChildOf(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if got, err := childOf(os.Getpid()); err != nil || got != cmd.Process.Pid {
		t.Errorf("childOf: %d, %v; want %d", got, err, cmd.Process.Pid)
	}
	if got := scanChildren(os.Getpid()); fmt.Sprint(got) != fmt.Sprintf("[%d]", cmd.Process.Pid) {
		t.Errorf("scanChildren: %v; want %d", got, cmd.Process.Pid)
	}
	if got := parentOf(cmd.Process.Pid); got != os.Getpid() {
		t.Errorf("parentOf: %d", got)
	}
}
