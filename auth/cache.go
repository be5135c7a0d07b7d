package auth

import (
	"context"
	"strings"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

// Every API call and every NATS client's request checks its token: read
// from the tokens bucket each time, that bucket is on every call's path,
// and a node holding it down fails them all. The cache keeps what a lookup
// found for a short TTL; a watch on the bucket's api.* keys drops a token
// from it the moment it is revoked or changed, on every process that
// watches, so the TTL only bounds what a missed watch could keep. A token
// that is not there is never cached (a token just made works at once), and
// while the bucket does not answer a cached token is served past its TTL:
// a revocation needs that bucket too, so none can be missed meanwhile.

// tokenCache holds API tokens' info by id.
type tokenCache struct {
	ttl time.Duration

	mu       sync.Mutex
	entries  map[string]cachedInfo
	gen      uint64 // bumped by every invalidation, so a lookup racing one stores nothing
	watching bool
	hits     uint64
	stale    uint64
	dropped  uint64
}

type cachedInfo struct {
	info Info
	at   time.Time
}

// CacheStats are the token cache's counters.
type CacheStats struct {
	// Entries are the tokens held.
	Entries int
	// Watching: the watch on the bucket runs, so a revocation drops a
	// token at once; without it, only the TTL does.
	Watching bool
	// Hits are lookups answered from the cache within the TTL; Stale ones
	// were answered past it because the bucket did not answer.
	Hits, Stale uint64
	// Invalidations are the tokens dropped by the watch or a Revoke.
	Invalidations uint64
}

// EnableCache makes Verify, Get and CheckNATS answer a token's info from
// memory for ttl after it was read (0: no cache). Run WatchRevocations
// beside it, so a revocation is seen at once.
func (t *Tokens) EnableCache(ttl time.Duration) {
	if ttl <= 0 {
		t.cache.Store(nil)
		return
	}
	t.cache.Store(&tokenCache{ttl: ttl, entries: map[string]cachedInfo{}})
}

// CacheStats reports the cache's counters; zero without a cache.
func (t *Tokens) CacheStats() CacheStats {
	c := t.cache.Load()
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.entries), Watching: c.watching, Hits: c.hits, Stale: c.stale, Invalidations: c.dropped}
}

// fresh answers id's info when it was read within the TTL, and the
// generation a lookup must still see to store what it reads.
func (c *tokenCache) fresh(id string, now time.Time) (Info, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if ok && now.Sub(e.at) < c.ttl {
		c.hits++
		return e.info, true, c.gen
	}
	return Info{}, false, c.gen
}

// staleInfo answers id's info however old, for a lookup the bucket did
// not answer.
func (c *tokenCache) staleInfo(id string) (Info, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if ok {
		c.stale++
	}
	return e.info, ok
}

// put stores info read at generation gen, unless an invalidation came
// since: what was read may be what that one removed.
func (c *tokenCache) put(id string, info Info, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.entries[id] = cachedInfo{info: info, at: now}
	}
}

// invalidate drops id ("" drops every token).
func (c *tokenCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if id == "" {
		c.dropped += uint64(len(c.entries))
		clear(c.entries)
		return
	}
	if _, ok := c.entries[id]; ok {
		c.dropped++
		delete(c.entries, id)
	}
}

func (c *tokenCache) setWatching(on bool) {
	c.mu.Lock()
	c.watching = on
	c.mu.Unlock()
}

// WatchRevocations drops tokens from the cache as the bucket's api.* keys
// change (a revoke deletes one), until ctx ends; it answers nil then. A
// watch that cannot start or stops is started again after retry, and
// every start empties the cache: what changed while none ran is unknown.
func (t *Tokens) WatchRevocations(ctx context.Context, retry time.Duration) error {
	c := t.cache.Load()
	if c == nil {
		<-ctx.Done()
		return nil
	}
	for {
		t.watchOnce(ctx, c)
		timer := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// watchOnce runs one watch until it ends or ctx does.
func (t *Tokens) watchOnce(ctx context.Context, c *tokenCache) {
	w, err := t.kv.Watch(ctx, keyPrefix+"*", njs.UpdatesOnly())
	if err != nil {
		return
	}
	defer func() { _ = w.Stop() }()
	c.invalidate("")
	c.setWatching(true)
	defer c.setWatching(false)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e != nil {
				c.invalidate(strings.TrimPrefix(e.Key(), keyPrefix))
			}
		}
	}
}
