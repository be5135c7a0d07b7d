package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/streamstack/streamstack/auth"
)

// maxQuotaKeys bounds the addresses and tokens a gateway keeps buckets
// for: past it, idle ones are dropped first, and a flood of addresses
// cannot grow the map without end.
const maxQuotaKeys = 100_000

// buckets are token buckets by key (a client address, a token id).
type buckets struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	m     map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newBuckets(limit rate.Limit, burst int) *buckets {
	return &buckets{limit: limit, burst: burst, m: map[string]*bucket{}}
}

// allow takes one from key's bucket.
func (b *buckets) allow(key string, now time.Time) bool {
	if b == nil || b.limit <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.m[key]
	if !ok {
		if len(b.m) >= maxQuotaKeys {
			b.sweep(now)
		}
		k = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.m[key] = k
	}
	k.used = now
	return k.lim.AllowN(now, 1)
}

// sweep drops the buckets that are full again (idle long enough to have
// refilled): forgetting them changes nothing.
func (b *buckets) sweep(now time.Time) {
	full := time.Duration(float64(b.burst) / float64(b.limit) * float64(time.Second))
	for key, k := range b.m {
		if now.Sub(k.used) > full {
			delete(b.m, key)
		}
	}
}

// quotas hold a gateway's create limits (Config's Creates* and
// MaxActiveSessionsPerToken).
type quotas struct {
	perIP    *buckets
	perToken *buckets
}

func newQuotas(c Config) *quotas {
	q := &quotas{}
	if c.CreatesPerIPPerSecond > 0 {
		q.perIP = newBuckets(rate.Limit(c.CreatesPerIPPerSecond), c.CreateBurstPerIP)
	}
	if c.CreatesPerTokenPerMinute > 0 {
		q.perToken = newBuckets(rate.Limit(float64(c.CreatesPerTokenPerMinute)/60), c.CreatesPerTokenPerMinute)
	}
	return q
}

// checkCreate refuses a create over a quota with ErrQuota, saying which:
// the client's address first (cheapest, and it holds across the tokens
// one client may hold), then the token's rate and its sessions that have
// not ended. An admin token is the operator's own (benchmarks, scripts):
// none applies to it. host is "" over NATS, whose clients have no
// address the gateway sees: their token's quotas are all there is.
func (s *Server) checkCreate(ctx context.Context, tok auth.Info, host string) error {
	if tok.Scoped() == auth.ScopeAdmin {
		return nil
	}
	now := time.Now()
	if host != "" && !s.quotas.perIP.allow(host, now) {
		return fmt.Errorf("%w: more than %g session creates a second from %s (--creates-per-ip-per-second)",
			ErrQuota, s.cfg.CreatesPerIPPerSecond, host)
	}
	if !s.quotas.perToken.allow(tok.ID, now) {
		return fmt.Errorf("%w: token %s created more than %d sessions in a minute (--creates-per-token-per-minute)",
			ErrQuota, tok.ID, s.cfg.CreatesPerTokenPerMinute)
	}
	if max := s.cfg.MaxActiveSessionsPerToken; max > 0 {
		n, err := s.index.active(ctx, tok.ID)
		if err != nil {
			return err
		}
		if n >= max {
			return fmt.Errorf("%w: token %s has %d sessions that have not ended, its most (--max-sessions-per-token); delete one first",
				ErrQuota, tok.ID, n)
		}
	}
	return nil
}
