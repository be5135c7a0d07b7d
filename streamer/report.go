package streamer

import (
	"context"
	"time"
)

// reportStats publishes the counters as a session.stats event every
// StatsInterval while a client is connected, until ctx ends. Event
// consumers (metrics, dashboards) and GET /1.0/sessions/{id} read them.
func (s *server) reportStats(ctx context.Context) {
	if s.cfg.StatsInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.StatsInterval)
	defer t.Stop()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.stats.connected.Load() {
			continue
		}
		seq++
		pubCtx, cancel := context.WithTimeout(ctx, s.cfg.StatusTimeout)
		if err := s.deps.Sessions.PublishStats(pubCtx, s.cfg.SessionID, seq, s.snapshot()); err != nil && ctx.Err() == nil {
			s.log.Warn("stats event", "err", err)
		}
		cancel()
	}
}
