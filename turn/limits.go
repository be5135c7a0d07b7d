package turn

import (
	"net"
	"strings"
	"sync"
	"time"

	pturn "github.com/pion/turn/v5"
	"golang.org/x/time/rate"
)

// Defaults of the server's per-credential limits.
const (
	// DefaultMaxAllocations: a WebRTC peer makes one allocation per
	// transport it gathers on (UDP, TCP) and again after an ICE restart;
	// eight is room for that, not for a relay farm on one credential.
	DefaultMaxAllocations = 8
	// DefaultAllocationLifetime: how long an allocation lives between the
	// client's refreshes. Every refresh is authenticated, so a credential
	// revoked (its session ended) stops relaying within this time.
	DefaultAllocationLifetime = 2 * time.Minute
	// DefaultMaxRelayKbps: each relay's traffic in each direction; a
	// session's video goes up to 8 Mbit/s (--max-bitrate-kbps) with audio
	// and retransmissions on top.
	DefaultMaxRelayKbps = 20_000
)

// userOf is the user part of a TURN REST API username
// ("<expiry>:<user>"): the session the credential was issued for.
func userOf(username string) string {
	_, user, _ := strings.Cut(username, ":")
	return user
}

// quota counts live allocations per username.
type quota struct {
	mu   sync.Mutex
	max  int
	live map[string]int
}

// allow is pion's QuotaHandler: a new allocation while the credential
// holds fewer than max. Counted when pion reports an allocation made, so
// simultaneous requests may pass max by at most their number.
func (q *quota) allow(username, _ string, _ net.Addr) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.max <= 0 || q.live[username] < q.max
}

func (q *quota) add(username string, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.live[username] += n; q.live[username] <= 0 {
		delete(q.live, username)
	}
}

// limitedRelays caps every relay's bitrate: a packet over the budget is
// dropped, as a congested path would (UDP media adapts to loss).
type limitedRelays struct {
	pturn.RelayAddressGenerator
	kbps    int
	dropped func()
}

func (g limitedRelays) AllocatePacketConn(c pturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGenerator.AllocatePacketConn(c)
	if err != nil || g.kbps <= 0 {
		return pc, addr, err
	}
	bytesPerSec := float64(g.kbps) * 1000 / 8
	burst := max(int(bytesPerSec/10), 64<<10) // 100 ms, at least a keyframe's burst of packets
	return &limitedConn{PacketConn: pc, dropped: g.dropped,
		in: rate.NewLimiter(rate.Limit(bytesPerSec), burst), out: rate.NewLimiter(rate.Limit(bytesPerSec), burst)}, addr, nil
}

// limitedConn is one relay with a token bucket each way.
type limitedConn struct {
	net.PacketConn
	in, out *rate.Limiter
	dropped func()
}

// WriteTo sends to the peer what the client relays, within the budget.
func (c *limitedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.out.AllowN(time.Now(), len(p)) {
		c.dropped()
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}

// ReadFrom reads what the peer sends towards the client, dropping what is
// over the budget.
func (c *limitedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.in.AllowN(time.Now(), n) {
			return n, addr, err
		}
		c.dropped()
	}
}
