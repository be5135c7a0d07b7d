package gateway

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// The per-IP connection cap (Config.HTTPMaxConnsPerIP). It counts the TCP
// peer's address, the only one a listener knows: behind a reverse proxy
// every client is the proxy, so such a gateway needs a cap above what the
// proxy opens (or none) until forwarded addresses from trusted proxies are
// read. IPv4-mapped IPv6 addresses count as their IPv4 address.

// perIPListener closes a connection as soon as it is accepted when its
// peer's address already has max connections open. A connection counts
// until it is closed, whoever closes it: the HTTP server, or a websocket
// after the server handed the connection over.
type perIPListener struct {
	net.Listener
	max     int
	log     *slog.Logger
	refused prometheus.Counter

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newPerIPListener(ln net.Listener, maxConns int, log *slog.Logger, refused prometheus.Counter) *perIPListener {
	return &perIPListener{Listener: ln, max: maxConns, log: log, refused: refused, open: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the cap; those over it are
// closed here and never reach the HTTP server.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, ok := peerIP(c)
		if !ok {
			return c, nil // not an IP peer (a Unix socket): nothing to count
		}
		if l.acquire(ip) {
			return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		l.refused.Inc()
		l.log.Debug("connection refused: too many open from one address", "ip", ip, "max", l.max)
		_ = c.Close()
	}
}

func (l *perIPListener) acquire(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.max {
		return false
	}
	l.open[ip]++
	return true
}

func (l *perIPListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] <= 1 {
		delete(l.open, ip)
		return
	}
	l.open[ip]--
}

// peerIP is a connection's remote IP address, if it has one.
func peerIP(c net.Conn) (netip.Addr, bool) {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip := a.AddrPort().Addr().Unmap()
		return ip, ip.IsValid()
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}, false
		}
		return ap.Addr().Unmap(), true
	}
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite passes the half-close through: the HTTP server uses it to end
// a connection it answered with "Connection: close" without resetting it
// while the client may still be sending.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
