package turn

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// deniedPeers are the ranges a relay must never reach unless allowed: a
// TURN server sits at the edge with a foot in the internal network, and a
// client holding a credential could otherwise relay into it (the cloud
// metadata service at 169.254.169.254, NATS, an admin API). The list is
// docs/turn.md's coturn denied-peer-ip, so the embedded server and coturn
// enforce the same policy.
var deniedPeers = []string{
	// IPv4
	"0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the host itself
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT; Alibaba's metadata at 100.100.100.200
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local; the metadata service 169.254.169.254
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and broadcast 255.255.255.255
	// IPv6
	"::/128",         // unspecified
	"::1/128",        // loopback
	"::ffff:0:0/96",  // IPv4-mapped (checked as IPv4 too)
	"64:ff9b:1::/48", // local-use NAT64
	"100::/64",       // discard-only
	"2001:db8::/32",  // documentation
	"fc00::/7",       // unique local; AWS's metadata at fd00:ec2::254
	"fe80::/10",      // link-local
	"fec0::/10",      // deprecated site-local
	"ff00::/8",       // multicast
}

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4
// address in their last 32 bits, which is checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// DefaultDeniedPeers returns the ranges a relay refuses by default.
func DefaultDeniedPeers() []netip.Prefix {
	out := make([]netip.Prefix, len(deniedPeers))
	for i, s := range deniedPeers {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// PeerPolicy decides which peers an allocation may get a permission or a
// channel for. Allow wins over Deny.
type PeerPolicy struct {
	// Deny lists refused ranges; nil is DefaultDeniedPeers.
	Deny []netip.Prefix
	// Allow lists ranges permitted even inside Deny: a deployment's own
	// streamer network, or the namespaces and loopback of tests.
	Allow []netip.Prefix
}

// Permitted reports whether a relay may send to ip.
func (p PeerPolicy) Permitted(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("")
	candidates := []netip.Addr{ip}
	if ip.Is4In6() {
		candidates = append(candidates, ip.Unmap())
	} else if nat64.Contains(ip) {
		b := ip.As16()
		candidates = append(candidates, netip.AddrFrom4([4]byte(b[12:])))
	}
	deny := p.Deny
	if deny == nil {
		deny = DefaultDeniedPeers()
	}
	// Every form of the address must pass; an allowed form is enough.
	for _, a := range candidates {
		if contains(p.Allow, a) {
			return true
		}
	}
	for _, a := range candidates {
		if contains(deny, a) {
			return false
		}
	}
	return true
}

// permissionHandler adapts the policy to pion's PermissionHandler.
func (p PeerPolicy) permissionHandler(onDeny func(client net.Addr, peer net.IP)) func(net.Addr, net.IP) bool {
	if p.Deny == nil {
		p.Deny = DefaultDeniedPeers() // once, not per request
	}
	return func(client net.Addr, peer net.IP) bool {
		a, ok := netip.AddrFromSlice(peer)
		if ok && p.Permitted(a) {
			return true
		}
		if onDeny != nil {
			onDeny(client, peer)
		}
		return false
	}
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes parses a comma-separated list of CIDR ranges; a bare
// address stands for itself alone (/32 or /128).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range SplitList(s) {
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%w: peer range %q: %v", ErrConfig, f, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%w: peer range %q: %v", ErrConfig, f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
