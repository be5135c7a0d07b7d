package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// registerStoreMetrics exports what the session store's outbox and the
// token cache count, read when scraped: an events outage shows as pending
// events (and dropped ones once the outbox is full), a tokens-bucket
// outage as stale cache answers.
func (s *Server) registerStoreMetrics(reg prometheus.Registerer) error {
	collectors := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "streamstack_session_events_pending",
			Help: "Session events written to no stream yet: queued in this process's outbox while the events stream does not take them.",
		}, func() float64 { return float64(s.sessions.OutboxStats().Pending) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "streamstack_session_events_dropped_total",
			Help: "Session events never published: the outbox was full (--event-outbox-size) or the process was stopping.",
		}, func() float64 { return float64(s.sessions.OutboxStats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "streamstack_gateway_token_cache_hits_total",
			Help: "API token lookups answered from the cache within --token-cache-ttl.",
		}, func() float64 { return float64(s.tokens.CacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "streamstack_gateway_token_cache_stale_total",
			Help: "API token lookups answered from the cache past --token-cache-ttl because the tokens bucket did not answer.",
		}, func() float64 { return float64(s.tokens.CacheStats().Stale) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "streamstack_gateway_token_cache_watching",
			Help: "1 while the watch that drops revoked tokens from the cache runs; 0: only --token-cache-ttl bounds a revoked token.",
		}, func() float64 {
			if s.tokens.CacheStats().Watching {
				return 1
			}
			return 0
		}),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("gateway: metrics: %w", err)
		}
	}
	return nil
}
