package natstest

import (
	"net"
	"testing"
)

// NonLoopbackIPv4 is an IPv4 address of this host beside loopback: a
// client connecting to it comes "from another host" without leaving this
// one. The test is skipped, saying why, on a host that has none.
func NonLoopbackIPv4(t testing.TB) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this host has no IPv4 address beside loopback, so no client can come from elsewhere")
	return ""
}
