package turn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pturn "github.com/pion/turn/v5"

	"github.com/streamstack/streamstack/internal/pionlog"
)

// Config configures the embedded STUN/TURN server. DefaultConfig fills it.
type Config struct {
	// Listen is the host:port the server answers on, over UDP and TCP
	// (the same port). Port 0 picks a free one.
	Listen string
	// PublicIP is the address clients reach the server and its relays at,
	// in URLs and relay candidates. Empty: the Listen host when it is a
	// specific address, else this host's first non-loopback IPv4, else
	// 127.0.0.1. Behind a 1:1 NAT (a cloud floating IP) set it.
	PublicIP string
	// RelayPortMin and RelayPortMax bound the UDP ports relays bind (what
	// a firewall must open besides Listen); both zero lets the OS choose.
	RelayPortMin, RelayPortMax uint16
	// Realm is the TURN realm; clients echo it.
	Realm string
	// Secret is the shared secret credentials are checked against
	// (LoadSecret).
	Secret string
	// Peers decides which peers relays may reach; its zero value refuses
	// DefaultDeniedPeers.
	Peers PeerPolicy
	// RelayToSelf lets relays reach the public IP itself when the policy
	// would refuse it (a private address on a LAN or cloud network): the
	// server's other relays and the streamers on its host live there, and
	// without it nothing could relay on such a host. Loopback is never
	// allowed this way. UDP services bound to every interface of the host
	// become reachable to credential holders: bind them to loopback.
	RelayToSelf bool
	// TLSListen, when set, also serves TURN over TLS (turns:, RFC 7065)
	// on this host:port, with Certificate's certificate: for clients
	// whose firewall passes only TLS. TLSHost is the name in the turns:
	// URL, which the certificate must cover; empty: the public IP.
	TLSListen   string
	TLSHost     string
	Certificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// MaxAllocations is the most live allocations one credential may
	// hold; 0: no limit.
	MaxAllocations int
	// AllocationLifetime is how long an allocation lives between
	// refreshes; each refresh is checked against Active.
	AllocationLifetime time.Duration
	// MaxRelayKbps caps each relay's bitrate, each way; packets over it
	// are dropped. 0: no cap.
	MaxRelayKbps int
	// Active, when set, says whether the session a credential was issued
	// for (its username's user part) still runs: a credential of an ended
	// session is refused on its next request, so its relays end within
	// AllocationLifetime. Nil: every unexpired credential is good.
	Active func(sessionID string) bool
}

// DefaultConfig listens on every interface at 3478, the standard STUN/TURN
// port, with coturn's default relay ports.
func DefaultConfig() Config {
	return Config{
		Listen:       "0.0.0.0:3478",
		RelayPortMin: 49152,
		RelayPortMax: 65535,
		Realm:        "streamstack",
		RelayToSelf:  true,

		MaxAllocations:     DefaultMaxAllocations,
		AllocationLifetime: DefaultAllocationLifetime,
		MaxRelayKbps:       DefaultMaxRelayKbps,
	}
}

// Validate reports every setting out of range at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if _, _, err := splitListen(c.Listen); err != nil {
		bad("listen address %q: %v", c.Listen, err)
	}
	if c.PublicIP != "" {
		if a, err := netip.ParseAddr(c.PublicIP); err != nil || a.IsUnspecified() {
			bad("public IP %q must be an address clients can reach", c.PublicIP)
		}
	}
	if (c.RelayPortMin == 0) != (c.RelayPortMax == 0) || c.RelayPortMin > c.RelayPortMax {
		bad("relay port range %d-%d", c.RelayPortMin, c.RelayPortMax)
	}
	if c.Realm == "" {
		bad("empty realm")
	}
	if len(c.Secret) < MinSecretLen {
		bad("secret shorter than %d characters", MinSecretLen)
	}
	if c.TLSListen != "" {
		if _, _, err := splitListen(c.TLSListen); err != nil {
			bad("TLS listen address %q: %v", c.TLSListen, err)
		}
		if c.Certificate == nil {
			bad("a TLS listener needs a certificate")
		}
	}
	if c.MaxAllocations < 0 || c.MaxRelayKbps < 0 || c.AllocationLifetime < 0 {
		bad("negative allocation limit")
	}
	return errors.Join(errs...)
}

func splitListen(listen string) (netip.Addr, uint16, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port %q", port)
	}
	if host == "" {
		return netip.IPv4Unspecified(), uint16(p), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("host %q must be an IP address", host)
	}
	return a, uint16(p), nil
}

// Stats are the server's counters.
type Stats struct {
	// Allocations is the number of live allocations.
	Allocations int
	// AllocationsCreated counts every allocation made.
	AllocationsCreated int64
	// AuthFailures counts requests refused for a bad credential.
	AuthFailures int64
	// PeersDenied counts permissions and channels refused by the peer
	// policy.
	PeersDenied int64
	// Revoked counts requests refused because the credential's session
	// has ended.
	Revoked int64
	// RelayDrops counts packets dropped over a relay's bitrate cap.
	RelayDrops int64
}

// Server is a running embedded STUN/TURN server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	srv    *pturn.Server
	udp    net.PacketConn
	tcp    *trackingListener
	tls    *trackingListener // nil without Config.TLSListen
	addr   netip.AddrPort
	public netip.Addr

	quota                         *quota
	revoked, relayDrops           atomic.Int64
	created, authFailures, denied atomic.Int64
	closeOnce                     sync.Once
	closeErr                      error
}

// Start listens and serves until Close.
func Start(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "turn")
	host, port, _ := splitListen(cfg.Listen)
	public, err := publicIP(cfg.PublicIP, host)
	if err != nil {
		return nil, err
	}
	udp, tcp, err := listenBoth(host, port)
	if err != nil {
		return nil, fmt.Errorf("turn: listen on %s: %w", cfg.Listen, err)
	}
	s := &Server{cfg: cfg, log: log, udp: udp, tcp: &trackingListener{Listener: tcp, conns: map[*trackedConn]struct{}{}},
		public: public, quota: &quota{max: cfg.MaxAllocations, live: map[string]int{}}}
	if cfg.TLSListen != "" {
		ln, err := net.Listen("tcp", cfg.TLSListen)
		if err != nil {
			_ = udp.Close()
			_ = tcp.Close()
			return nil, fmt.Errorf("turn: listen for TLS on %s: %w", cfg.TLSListen, err)
		}
		s.tls = &trackingListener{Listener: tls.NewListener(ln, &tls.Config{GetCertificate: cfg.Certificate,
			MinVersion: tls.VersionTLS12}), conns: map[*trackedConn]struct{}{}}
	}
	s.addr = udp.LocalAddr().(*net.UDPAddr).AddrPort()

	var gen pturn.RelayAddressGenerator
	relayBind := host.String()
	if cfg.RelayPortMin != 0 {
		gen = &pturn.RelayAddressGeneratorPortRange{RelayAddress: public.AsSlice(), Address: relayBind,
			MinPort: cfg.RelayPortMin, MaxPort: cfg.RelayPortMax, MaxRetries: 32}
	} else {
		gen = &pturn.RelayAddressGeneratorStatic{RelayAddress: public.AsSlice(), Address: relayBind}
	}
	gen = udpOnly{limitedRelays{RelayAddressGenerator: gen, kbps: cfg.MaxRelayKbps, dropped: func() { s.relayDrops.Add(1) }}}
	peers := cfg.Peers
	if cfg.RelayToSelf && !public.IsLoopback() && !peers.Permitted(public) {
		peers.Allow = append(slices.Clone(peers.Allow), netip.PrefixFrom(public, public.BitLen()))
	}
	perm := peers.permissionHandler(func(client net.Addr, peer net.IP) {
		s.denied.Add(1)
		log.Info("relay to a denied peer refused", "client", client.String(), "peer", peer.String())
	})
	s.srv, err = pturn.NewServer(pturn.ServerConfig{
		Realm:              cfg.Realm,
		AuthHandler:        s.authenticate,
		QuotaHandler:       s.quota.allow,
		AllocationLifetime: cfg.AllocationLifetime,
		LoggerFactory:      pionlog.Factory{Log: log},
		PacketConnConfigs:  []pturn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: perm}},
		ListenerConfigs:    s.listenerConfigs(gen, perm),
		EventHandler: pturn.EventHandler{
			// authenticate refuses malformed and expired credentials; a
			// forged one fails MESSAGE-INTEGRITY and is reported here.
			OnAuth: func(src, _ net.Addr, _, user, _, method string, ok bool) {
				if !ok {
					s.authFailures.Add(1)
					log.Info("TURN credential refused", "client", src.String(), "username", user, "method", method,
						"err", "message integrity does not match (forged or wrong secret)")
				}
			},
			OnAllocationCreated: func(src, _ net.Addr, proto, user, _ string, relay net.Addr, _ int) {
				s.created.Add(1)
				s.quota.add(user, 1)
				log.Debug("allocation created", "client", src.String(), "transport", proto, "user", user, "relay", relay.String())
			},
			OnAllocationDeleted: func(src, _ net.Addr, proto, user, _ string) {
				s.quota.add(user, -1)
				log.Debug("allocation deleted", "client", src.String(), "transport", proto, "user", user)
			},
		},
	})
	if err != nil {
		_ = udp.Close()
		_ = s.tcp.Close()
		if s.tls != nil {
			_ = s.tls.Close()
		}
		return nil, fmt.Errorf("turn: %w", err)
	}
	// Debug: serve's ready line must be the first one logged; it names
	// the server's URLs.
	log.Debug("STUN/TURN server listening", "addr", s.addr.String(), "public_ip", public.String(),
		"relay_ports", fmt.Sprintf("%d-%d", cfg.RelayPortMin, cfg.RelayPortMax))
	return s, nil
}

// authenticate checks a TURN REST API credential: pion asks on every
// authenticated request (allocate, refresh, permission, channel), so an
// expired credential also stops an allocation's refreshes, as in coturn.
// The password itself is proved by MESSAGE-INTEGRITY with the key returned.
func (s *Server) authenticate(ra *pturn.RequestAttributes) (string, []byte, bool) {
	exp, err := Expiry(ra.Username)
	if err == nil && !time.Now().Before(exp) {
		err = fmt.Errorf("%w: expired at %s", ErrCredential, exp.UTC().Format(time.RFC3339))
	}
	if err == nil && s.cfg.Active != nil && !s.cfg.Active(userOf(ra.Username)) {
		s.revoked.Add(1)
		err = fmt.Errorf("%w: its session has ended", ErrCredential)
	}
	if err != nil {
		s.authFailures.Add(1)
		s.log.Info("TURN credential refused", "client", ra.SrcAddr.String(), "username", ra.Username, "err", err)
		return "", nil, false
	}
	return ra.Username, pturn.GenerateAuthKey(ra.Username, ra.Realm, password(s.cfg.Secret, ra.Username)), true
}

// Addr is where the server listens (UDP and TCP).
func (s *Server) Addr() netip.AddrPort { return s.addr }

// PublicIP is the address the server and its relays are advertised at.
func (s *Server) PublicIP() netip.Addr { return s.public }

// URLs are the server's STUN and TURN (UDP and TCP) URLs at PublicIP.
func (s *Server) URLs() []string {
	hp := net.JoinHostPort(s.public.String(), strconv.Itoa(int(s.addr.Port())))
	urls := []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
	if s.tls != nil {
		host := s.cfg.TLSHost
		if host == "" {
			host = s.public.String()
		}
		port := s.tls.Addr().(*net.TCPAddr).Port
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(port))+"?transport=tcp")
	}
	return urls
}

// listenerConfigs are the TCP listeners: plain, and TLS when configured.
func (s *Server) listenerConfigs(gen pturn.RelayAddressGenerator, perm pturn.PermissionHandler) []pturn.ListenerConfig {
	out := []pturn.ListenerConfig{{Listener: s.tcp, RelayAddressGenerator: gen, PermissionHandler: perm}}
	if s.tls != nil {
		out = append(out, pturn.ListenerConfig{Listener: s.tls, RelayAddressGenerator: gen, PermissionHandler: perm})
	}
	return out
}

// Stats reads the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Allocations:        s.srv.AllocationCount(),
		AllocationsCreated: s.created.Load(),
		AuthFailures:       s.authFailures.Load(),
		PeersDenied:        s.denied.Load(),
		Revoked:            s.revoked.Load(),
		RelayDrops:         s.relayDrops.Load(),
	}
}

// Close stops listening, ends every allocation and closes every TCP
// connection. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.srv.Close() })
	return s.closeErr
}

// publicIP resolves Config.PublicIP's default.
func publicIP(chosen string, listen netip.Addr) (netip.Addr, error) {
	if chosen != "" {
		return netip.ParseAddr(chosen)
	}
	if !listen.IsUnspecified() {
		return listen.Unmap(), nil
	}
	return FirstNonLoopbackIPv4(), nil
}

// FirstNonLoopbackIPv4 is this host's first IPv4 address that is not
// loopback (nor link-local), or 127.0.0.1 when it has none.
func FirstNonLoopbackIPv4() netip.Addr {
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(n.IP)
			if ok && ip.Unmap().Is4() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip.Unmap()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// listenBoth binds UDP and TCP on the same port; with port 0 it retries
// until a free UDP port is free for TCP too.
func listenBoth(host netip.Addr, port uint16) (net.PacketConn, net.Listener, error) {
	network := "4"
	if host.Is6() && !host.Is4In6() {
		network = "6"
	}
	var lastErr error
	for range 16 {
		udp, err := net.ListenUDP("udp"+network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(host, port)))
		if err != nil {
			return nil, nil, err
		}
		bound := udp.LocalAddr().(*net.UDPAddr).AddrPort()
		tcp, err := net.ListenTCP("tcp"+network, net.TCPAddrFromAddrPort(netip.AddrPortFrom(host, bound.Port())))
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = err
		if port != 0 {
			break
		}
	}
	return nil, nil, lastErr
}

// udpOnly refuses TCP relay allocations (RFC 6062): WebRTC never asks for
// them, and a TCP relay could reach TCP services (NATS, the gateway) at
// addresses the peer policy must allow for UDP media.
type udpOnly struct{ pturn.RelayAddressGenerator }

func (udpOnly) AllocateListener(pturn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelay
}

func (udpOnly) AllocateConn(pturn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelay
}

// trackingListener closes the TCP connections it accepted when it is
// closed: pion's server closes only the listener, and a client's
// connection would keep its goroutine alive.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	closed bool
	conns  map[*trackedConn]struct{}
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[*trackedConn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
	return err
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
