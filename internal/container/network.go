package container

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// An outbound network is a network namespace whose only way out is
// pasta (passt's user-mode network stack): the app's packets reach pasta
// through a tap device, and pasta makes ordinary TCP, UDP and ping
// sockets on the host for them. pasta cannot be told which destinations
// to refuse, so the refusing is the kernel's: pasta runs as a host uid of
// its own (NetworkConfig.UID), and an nftables table of ours rejects,
// on the host's output hook, every packet of that uid's sockets bound for
// the host itself (its loopback and every address it has: fib daddr type
// local), private, shared and link-local ranges (169.254.169.254, the
// cloud's metadata, among them), multicast and broadcast. Whatever pasta
// does, it cannot reach what its uid may not.
//
// pasta runs as it does for an unprivileged user: in a user namespace of
// its own (owned by UID, mapping only UID), with the network namespace
// owned by it; its capabilities (it keeps CAP_SYS_ADMIN to enter the
// namespace) are that namespace's, none of the host's. It maps nothing onto the host's loopback (--no-map-gw) and
// forwards no port either way (-t/-u/-T/-U none): nothing outside can
// connect in, and the app's own loopback is its own.

// The network inside: the app's address, its gateway (pasta) and the
// address pasta answers DNS on, slirp4netns' well-known choices. None is
// the host's: the host's own addresses lie beyond the gateway, where the
// filter refuses them.
var (
	nsAddr    = netip.MustParseAddr("10.0.2.100")
	nsGateway = netip.MustParseAddr("10.0.2.2")
	nsDNS     = netip.MustParseAddr("10.0.2.3")
)

const nsPrefixLen = 24

// NetworkConfig is an outbound network.
type NetworkConfig struct {
	// Pasta is the pasta binary (its name must contain "pasta"); empty:
	// "pasta" from PATH.
	Pasta string
	// UID and GID are the host ids pasta runs as; the filter holds every
	// socket of UID to public destinations. A uid of the session's slot
	// that the app does not run as (slot.HostUID(slot.Size-1), say):
	// nothing else on the host may run as it.
	UID, GID uint32
	// DNS lets the app resolve names: pasta forwards UDP queries sent to
	// Nameserver to the host's first resolver, and the filter lets UID
	// reach port 53 (and only it) of the resolvers /etc/resolv.conf
	// names, private or loopback ones included.
	DNS bool
}

func (c NetworkConfig) validate() error {
	switch {
	case c.UID < 65536 || c.GID < 65536:
		return fmt.Errorf("%w: network uid %d gid %d overlap the host's own users", ErrSpec, c.UID, c.GID)
	case c.UID == 1<<32-1 || c.GID == 1<<32-1:
		return fmt.Errorf("%w: network uid %d gid %d", ErrSpec, c.UID, c.GID)
	}
	return nil
}

func (c NetworkConfig) pasta() string {
	if c.Pasta == "" {
		return "pasta"
	}
	return c.Pasta
}

// Network is a running outbound network.
type Network struct {
	cfg    NetworkConfig
	cmd    *exec.Cmd
	stdin  *os.File // the holder's stdin: closing it ends the network
	ns     *os.File // the network namespace, held open for NSPath
	nsPath string
	holder int // pidfd of the process inside, whose namespace it is
	done   chan struct{}
	log    *tailWriter
	once   sync.Once
	err    error
}

// liveUIDs are the UIDs of this process's networks: two networks on one
// uid would share one filter table, and closing one would drop the
// other's.
var liveUIDs = struct {
	sync.Mutex
	m map[uint32]bool
}{m: map[uint32]bool{}}

// StartOutbound makes a network namespace whose way out is pasta, behind
// the filter of cfg.UID; ctx bounds only the start. It needs root, pasta,
// nft, util-linux's unshare and setpriv, and /dev/net/tun. The network
// ends with Close, or with the caller: pasta's parent-death signal, and
// the end of the holder's stdin, which only the caller writes to.
func StartOutbound(ctx context.Context, cfg NetworkConfig) (_ *Network, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tun, err := networkTools(cfg)
	if err != nil {
		return nil, err
	}
	liveUIDs.Lock()
	if liveUIDs.m[cfg.UID] {
		liveUIDs.Unlock()
		return nil, fmt.Errorf("%w: uid %d already has a network", ErrSpec, cfg.UID)
	}
	liveUIDs.m[cfg.UID] = true
	liveUIDs.Unlock()
	n := &Network{cfg: cfg, holder: -1, done: make(chan struct{}), log: &tailWriter{max: 4096}}
	defer func() {
		if err != nil {
			_ = n.Close()
		}
	}()
	var resolvers []netip.Addr
	if cfg.DNS {
		resolvers = hostResolvers("/etc/resolv.conf")
	}
	if err := n.start(ctx, tun, filterRules(cfg.UID, resolvers)); err != nil {
		return nil, err
	}
	return n, nil
}

// networkTools checks what StartOutbound needs and returns the tun
// device's number.
func networkTools(cfg NetworkConfig) (uint64, error) {
	if os.Geteuid() != 0 {
		return 0, fmt.Errorf("%w: an outbound network needs root (a filter table, a uid of its own)", ErrUnavailable)
	}
	for _, bin := range []string{cfg.pasta(), "nft", "unshare", "setpriv"} {
		if _, err := exec.LookPath(bin); err != nil {
			return 0, fmt.Errorf("%w: %s not found: %w (install passt, nftables, util-linux)", ErrUnavailable, bin, err)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/dev/net/tun", &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR {
		return 0, fmt.Errorf("%w: no /dev/net/tun (%v)", ErrUnavailable, err)
	}
	return st.Rdev, nil
}

// tunScript runs as root in a mount namespace of pasta's own: pasta runs
// as UID, which may not open the host's /dev/net/tun (root's, 0600 where
// no udev made it 0666), so a node of the same device that it may open
// takes its place there, and only there: in that namespace are only
// pasta (until it moves to an empty one of its own) and the holder, both
// UID's. Then setpriv drops to UID.
const tunScript = `mount -t tmpfs -o size=16k,mode=0755 streamstack-tun /dev/net &&
mknod -m 0666 /dev/net/tun c "$1" "$2" && shift 2 && exec "$@"`

// holderReady is what the holder, cat(1), which pasta runs in the
// namespace once the network is up, echoes from its stdin: the network
// is ready. It then holds the namespace until its stdin ends.
const holderReady = "ready\n"

// start runs pasta and, meanwhile, makes the filter: pasta sends
// nothing of its own, only what the app sends, and the app runs only
// once StartOutbound has returned, with both done.
func (n *Network) start(ctx context.Context, tun uint64, rules string) error {
	filtered := make(chan error, 1)
	go func() { filtered <- applyRules(ctx, rules) }()
	err := n.startPasta(ctx, tun)
	if ferr := <-filtered; err == nil {
		err = ferr
	}
	return err
}

func (n *Network) startPasta(ctx context.Context, tun uint64) error {
	cfg := n.cfg
	uid, gid := strconv.FormatUint(uint64(cfg.UID), 10), strconv.FormatUint(uint64(cfg.GID), 10)
	args := []string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", tunScript, "sh",
		strconv.FormatUint(uint64(unix.Major(tun)), 10), strconv.FormatUint(uint64(unix.Minor(tun)), 10),
		"setpriv", "--reuid", uid, "--regid", gid, "--clear-groups", "--inh-caps", "-all", "--bounding-set", "-all",
		"--nnp", "--pdeathsig", "KILL", "--",
		cfg.pasta(), "--foreground", "--quiet", "--config-net", "--no-map-gw",
		"--tcp-ports", "none", "--udp-ports", "none", "--tcp-ns", "none", "--udp-ns", "none",
		"--no-dhcp", "--no-dhcpv6",
		"--address", nsAddr.String(), "--netmask", strconv.Itoa(nsPrefixLen), "--gateway", nsGateway.String()}
	if cfg.DNS {
		args = append(args, "--dns-forward", nsDNS.String())
	}
	args = append(args, "--", "cat")
	cmd := exec.Command("unshare", args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	// Until setpriv: setpriv sets it again as UID, whose change of
	// credentials clears it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	n.stdin = inW
	if _, err := inW.WriteString(holderReady); err != nil {
		_ = inR.Close()
		return fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		_ = inR.Close()
		return fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = inR.Close()
		_, _ = outR.Close(), outW.Close()
		return fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	_, _, _ = inR.Close(), outW.Close(), errW.Close()
	if err != nil {
		_, _ = outR.Close(), errR.Close()
		return fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	n.cmd = cmd
	go func() { _ = cmd.Wait(); close(n.done) }()
	go func() { _, _ = io.Copy(n.log, errR); _ = errR.Close() }()
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(outR).ReadString('\n')
		ready <- line == holderReady
		_, _ = io.Copy(io.Discard, outR)
		_ = outR.Close()
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case ok := <-ready:
		if !ok {
			select { // for the last of its complaints
			case <-n.done:
			case <-time.After(5 * time.Second):
			}
			return fmt.Errorf("%w: pasta: %s", ErrRuntime, n.log)
		}
	case <-ctx.Done():
		return fmt.Errorf("%w: pasta: %w", ErrRuntime, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w: pasta not ready after 30s: %s", ErrRuntime, n.log)
	}
	return n.openNamespace()
}

// openNamespace opens the holder's network namespace, to be named by
// NSPath for as long as the network lives, whatever becomes of the
// holder's pid.
func (n *Network) openNamespace() error {
	pasta := n.cmd.Process.Pid
	holder, err := childOf(pasta)
	if err != nil {
		return err
	}
	fd, err := unix.PidfdOpen(holder, 0)
	if err != nil {
		return fmt.Errorf("%w: pidfd of the holder: %w", ErrRuntime, err)
	}
	n.holder = fd
	if parentOf(holder) != pasta {
		return fmt.Errorf("%w: the holder exited: %s", ErrRuntime, n.log)
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", holder))
	if err != nil {
		return fmt.Errorf("%w: holder's namespace: %w", ErrRuntime, err)
	}
	n.ns = ns
	n.nsPath = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), ns.Fd())
	// The pidfd, taken (and checked to be pasta's child's) before the
	// namespace was opened, still names a live process: the pid was not
	// reused in between.
	if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != nil {
		return fmt.Errorf("%w: the holder exited: %s", ErrRuntime, n.log)
	}
	var self, got syscall.Stat_t
	if syscall.Stat("/proc/self/ns/net", &self) != nil || syscall.Fstat(int(ns.Fd()), &got) != nil ||
		self.Ino == got.Ino && self.Dev == got.Dev {
		return fmt.Errorf("%w: the holder is not in a network namespace of its own", ErrRuntime)
	}
	return nil
}

// childOf is pid's only child: from the kernel's lists of its threads'
// children where it keeps them (CONFIG_PROC_CHILDREN), else from every
// process's parent.
func childOf(pid int) (int, error) {
	var kids []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			kids, tasks = nil, nil
			break
		}
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(tasks) == 0 {
		kids = scanChildren(pid)
	}
	if len(kids) != 1 {
		return 0, fmt.Errorf("%w: pasta has %d children", ErrRuntime, len(kids))
	}
	return strconv.Atoi(kids[0])
}

// scanChildren are the processes whose parent is pid.
func scanChildren(pid int) []string {
	var kids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if c, err := strconv.Atoi(e.Name()); err == nil && parentOf(c) == pid {
			kids = append(kids, e.Name())
		}
	}
	return kids
}

// parentOf is pid's parent; 0 when pid is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may hold anything, ')' too.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// NSPath names the network namespace for the OCI runtime (Spec.NetNS):
// a descriptor of this process's, valid until Close.
func (n *Network) NSPath() string { return n.nsPath }

// Nameserver is where the app's DNS queries go (a resolv.conf naming it
// bound over the container's /etc/resolv.conf); invalid without
// NetworkConfig.DNS.
func (n *Network) Nameserver() netip.Addr {
	if !n.cfg.DNS {
		return netip.Addr{}
	}
	return nsDNS
}

// Done is closed when pasta has exited: the app has no network any more.
func (n *Network) Done() <-chan struct{} { return n.done }

// Close ends pasta and the holder and removes the filter: nothing of the
// network is left when it returns. Safe to call twice.
func (n *Network) Close() error {
	n.once.Do(func() {
		if n.stdin != nil {
			_ = n.stdin.Close() // the holder exits; pasta with its child
		}
		if n.cmd != nil {
			t := time.NewTimer(5 * time.Second)
			select {
			case <-n.done:
			case <-t.C:
				_ = n.cmd.Process.Kill()
				<-n.done
			}
			t.Stop()
		}
		if n.holder >= 0 {
			_ = unix.PidfdSendSignal(n.holder, syscall.SIGKILL, nil, 0)
			_ = unix.Close(n.holder)
		}
		if n.ns != nil {
			_ = n.ns.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.err = deleteRules(ctx, n.cfg.UID)
		liveUIDs.Lock()
		delete(liveUIDs.m, n.cfg.UID)
		liveUIDs.Unlock()
	})
	return n.err
}

// tailWriter keeps the last max bytes written, but for the complaints
// pasta makes when it finds no syslog.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if !bytes.Contains(line, []byte("to syslog")) {
			w.b = append(w.b, line...)
		}
	}
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.b))
}

// refusedV4 are the IPv4 destinations pasta's uid may not reach: this
// host, private, shared (CGNAT) and link-local ranges, IETF protocol
// assignments, benchmarking, multicast, reserved and broadcast.
var refusedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"),
}

// refusedV6 are the IPv6 ones: unspecified and loopback, IPv4-mapped,
// NAT64's local-use prefix, unique-local, link-local, site-local,
// multicast; and every refused IPv4 range as NAT64's well-known prefix
// (64:ff9b::/96) and 6to4 (2002::/16) embed it.
var refusedV6 = func() []netip.Prefix {
	out := []netip.Prefix{
		netip.MustParsePrefix("::/127"),
		netip.MustParsePrefix("::ffff:0:0/96"),
		netip.MustParsePrefix("64:ff9b:1::/48"),
		netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("fec0::/10"),
		netip.MustParsePrefix("ff00::/8"),
	}
	for _, p := range refusedV4 {
		v4 := p.Addr().As4()
		nat64 := [16]byte{0, 0x64, 0xff, 0x9b, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]}
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(nat64), 96+p.Bits()))
		sixToFour := [16]byte{0x20, 0x02, v4[0], v4[1], v4[2], v4[3]}
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(sixToFour), 16+p.Bits()))
	}
	return out
}()

// filterTable is uid's table: one per uid, so that a table a killed
// caller left is replaced by the next network on that uid.
func filterTable(uid uint32) string { return filterTablePrefix + strconv.FormatUint(uint64(uid), 10) }

// filterTablePrefix starts every filter table's name.
const filterTablePrefix = "streamstack_net_"

// filterRules is the nft script that makes (or replaces, at once) uid's
// table: packets of uid's sockets to a refused destination are counted
// and rejected before they leave (a TCP reset, else ICMP
// administratively prohibited), so pasta's connect fails at once.
// Packets without a socket (those resets, ICMP errors) do not match
// skuid and pass.
func filterRules(uid uint32, resolvers []netip.Addr) string {
	t := filterTable(uid)
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\ntable inet %s {\n", t, t, t)
	fmt.Fprintf(&b, "\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n")
	fmt.Fprintf(&b, "\t\tmeta skuid %d jump app\n\t}\n", uid)
	b.WriteString("\tchain app {\n")
	var r4, r6 []string
	for _, a := range resolvers {
		if a.Is4() {
			r4 = append(r4, a.String())
		} else {
			r6 = append(r6, a.String())
		}
	}
	if len(r4) > 0 {
		fmt.Fprintf(&b, "\t\tip daddr { %s } meta l4proto { tcp, udp } th dport 53 accept\n", strings.Join(r4, ", "))
	}
	if len(r6) > 0 {
		fmt.Fprintf(&b, "\t\tip6 daddr { %s } meta l4proto { tcp, udp } th dport 53 accept\n", strings.Join(r6, ", "))
	}
	b.WriteString("\t\tfib daddr type { local, broadcast, anycast, multicast } jump refuse\n")
	fmt.Fprintf(&b, "\t\tip daddr { %s } jump refuse\n", joinPrefixes(refusedV4))
	fmt.Fprintf(&b, "\t\tip6 daddr { %s } jump refuse\n\t}\n", joinPrefixes(refusedV6))
	b.WriteString("\tchain refuse {\n\t\tcounter\n\t\tmeta l4proto tcp reject with tcp reset\n\t\treject with icmpx admin-prohibited\n\t}\n}\n")
	return b.String()
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Masked().String()
	}
	return strings.Join(s, ", ")
}

func applyRules(ctx context.Context, script string) error {
	cmd := exec.CommandContext(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: nft: %w: %s", ErrRuntime, err, bytes.TrimSpace(out))
	}
	return nil
}

// deleteRules removes uid's table; one that is not there is no error.
func deleteRules(ctx context.Context, uid uint32) error {
	t := filterTable(uid)
	return applyRules(ctx, fmt.Sprintf("table inet %s\ndelete table inet %s\n", t, t))
}

// RemoveNetworkFilter removes the filter table of uid, which a caller
// killed outright leaves behind (its pasta dies with it): what a
// supervisor calls after such a caller. A table left is harmless (it
// only refuses), and the next network on uid replaces it.
func RemoveNetworkFilter(ctx context.Context, uid uint32) error {
	liveUIDs.Lock()
	live := liveUIDs.m[uid]
	liveUIDs.Unlock()
	if live {
		return fmt.Errorf("%w: uid %d has a live network", ErrSpec, uid)
	}
	return deleteRules(ctx, uid)
}

// hostResolvers are the nameservers of a resolv.conf.
func hostResolvers(path string) []netip.Addr {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		if a, err := netip.ParseAddr(f[1]); err == nil {
			out = append(out, a.WithZone("").Unmap())
		}
	}
	return out
}
