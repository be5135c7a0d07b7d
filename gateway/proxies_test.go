package gateway

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The client address is the TCP peer unless that is a trusted proxy; then
// the last X-Forwarded-For hop that is not a trusted proxy, so that a
// client cannot forge its way past the proxies' own entries.
func TestClientAddr(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"192.0.2.7:5000", "", "192.0.2.7"},
		{"192.0.2.7:5000", "198.51.100.1", "192.0.2.7"},                      // not from a proxy: ignored
		{"10.1.1.1:5000", "198.51.100.1", "198.51.100.1"},                    // one proxy
		{"10.1.1.1:5000", "6.6.6.6, 198.51.100.1, 10.2.2.2", "198.51.100.1"}, // forged head, two proxies
		{"10.1.1.1:5000", "", "10.1.1.1"},                                    // the proxy itself asks
		{"10.1.1.1:5000", "junk, 198.51.100.1", "198.51.100.1"},
		{"[::1]:5000", "[::ffff:203.0.113.9]", "::1"},            // unparsable hop: stop at the proxy
		{"[::ffff:10.1.1.1]:5000", "203.0.113.9", "203.0.113.9"}, // a mapped peer counts as IPv4
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.clientAddr(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
