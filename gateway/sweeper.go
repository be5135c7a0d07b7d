package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/streamstack/streamstack/session"
)

// startBackground starts the gateway's own loops (the sweeper of ended
// records, the quota index, the token cache's revocation watch) and
// returns the func that stops them and waits for them to return.
func (s *Server) startBackground() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if s.cfg.EndedRetention > 0 {
		wg.Go(func() { s.runSweeper(ctx) })
	}
	if s.index != nil {
		wg.Go(func() { s.index.run(ctx) })
	}
	if s.cfg.TokenCacheTTL > 0 {
		wg.Go(func() { _ = s.tokens.WatchRevocations(ctx, tokenWatchRetry) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// tokenWatchRetry is how soon a token watch that could not start or
// stopped is tried again; meanwhile Config.TokenCacheTTL bounds the cache.
const tokenWatchRetry = time.Second

// runSweeper removes ended sessions' records past Config.EndedRetention
// every SweepInterval, until ctx ends. Each sweep reads at most
// SweepMaxReads records and the next resumes after the last key it looked
// at, so a large bucket is gone over in several sweeps of bounded work.
// Other gateways sweep the same bucket at the same time without harm
// (session.Store.SweepEnded).
func (s *Server) runSweeper(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	cursor := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A sweep never outlasts its interval: the next one takes over.
		sweepCtx, cancel := context.WithTimeout(ctx, s.cfg.SweepInterval)
		res, err := s.sessions.SweepEnded(sweepCtx, session.SweepQuery{
			Retention: s.cfg.EndedRetention, MaxReads: s.cfg.SweepMaxReads, Cursor: cursor,
		})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("sweep of ended sessions' records failed; the next one retries", "err", err)
			}
			continue
		}
		cursor = res.Next
		if len(res.Removed) > 0 {
			s.log.Info("ended sessions' records removed", "removed", len(res.Removed), "read", res.Read,
				"retention", s.cfg.EndedRetention)
		}
	}
}
