package turn

import "net/netip"

// CoturnDeniedPeers renders DefaultDeniedPeers as coturn's denied-peer-ip
// values (coturn takes an address or a first-last range, not CIDR), so
// that coturn and the embedded server refuse the same peers. docs/turn.md
// lists them; a test keeps it in step.
func CoturnDeniedPeers() []string {
	var out []string
	for _, p := range DefaultDeniedPeers() {
		first, last := p.Masked().Addr(), lastAddr(p)
		if first == last {
			out = append(out, first.String())
		} else {
			out = append(out, first.String()+"-"+last.String())
		}
	}
	return out
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(b)
	return last
}
