package turn

import (
	"net/netip"
	"testing"
)

func TestPeerPolicyDefaults(t *testing.T) {
	var p PeerPolicy
	for _, s := range []string{
		"127.0.0.1", "127.1.2.3", "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.1.1",
		"192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.100.100.200", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "198.18.0.1", "192.0.2.1",
		"::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b::7f00:1",
	} {
		if p.Permitted(netip.MustParseAddr(s)) {
			t.Errorf("%s is permitted by default", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808", "172.32.0.1", "100.128.0.1"} {
		if !p.Permitted(netip.MustParseAddr(s)) {
			t.Errorf("%s is refused by default", s)
		}
	}
	if p.Permitted(netip.Addr{}) {
		t.Error("the zero address is permitted")
	}
}

func TestPeerPolicyAllow(t *testing.T) {
	allow, err := ParsePrefixes("10.213.0.0/16, 127.0.0.1 ,::1")
	if err != nil {
		t.Fatal(err)
	}
	p := PeerPolicy{Allow: allow}
	for s, want := range map[string]bool{
		"10.213.2.2": true, "10.214.0.1": false, "127.0.0.1": true, "127.0.0.2": false,
		"::1": true, "::ffff:10.213.0.1": true, "169.254.169.254": false,
	} {
		if got := p.Permitted(netip.MustParseAddr(s)); got != want {
			t.Errorf("%s: permitted %v, want %v", s, got, want)
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
	if _, err := ParsePrefixes("not-an-ip"); err == nil {
		t.Error("bad address accepted")
	}
}
