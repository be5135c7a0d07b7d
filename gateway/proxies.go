package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// peerAddr is the address of the TCP peer of r.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}

// trusted reports whether a is one of Config.TrustedProxies.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether r came from a trusted proxy, whose
// X-Forwarded-* headers may be believed.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	a, ok := peerAddr(r)
	return ok && s.trusted(a)
}

// clientAddr is the address of the client behind r: the TCP peer, or,
// when that is a trusted proxy, the last address in X-Forwarded-For that
// is not one too (proxies append what they saw; what is left of it came
// from the client and may be forged).
func (s *Server) clientAddr(r *http.Request) string {
	a, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if !s.trusted(a) {
		return a.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: the chain cannot be followed past it
		}
		if h = h.Unmap(); !s.trusted(h) {
			return h.String()
		}
		a = h
	}
	return a.String()
}
