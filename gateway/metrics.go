package gateway

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/internal/ops"
	"github.com/streamstack/streamstack/subjects"
)

// gatewayMetrics are what only the gateway can see: its websockets, the
// signaling relay's latency, the connections its per-IP cap refused, the
// websockets its per-session cap refused and those it closed as idle.
type gatewayMetrics struct {
	websockets     prometheus.Gauge
	relay          prometheus.Histogram
	refused        prometheus.Counter
	socketsRefused prometheus.Counter
	socketsIdle    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*gatewayMetrics, error) {
	m := &gatewayMetrics{
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamstack_gateway_websockets",
			Help: "Signaling websockets open on this gateway.",
		}),
		relay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_gateway_signal_relay_seconds",
			Help:    "Time from reading a client's signaling frame off its websocket to JetStream's ack of it.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_gateway_connections_refused_total",
			Help: "Connections closed as soon as accepted because their IP address had HTTPMaxConnsPerIP (--http-max-conns-per-ip) open.",
		}),
		socketsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_gateway_websockets_refused_total",
			Help: "Signaling websockets refused (429) because their session had WSMaxPerSession (--ws-max-per-session) open.",
		}),
		socketsIdle: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_gateway_websockets_idle_closed_total",
			Help: "Signaling websockets closed because no pong or frame came from the client within WSIdleTimeout (--ws-idle-timeout).",
		}),
	}
	for _, c := range []prometheus.Collector{m.websockets, m.relay, m.refused, m.socketsRefused, m.socketsIdle} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("gateway: metrics: %w", err)
		}
	}
	return m, nil
}

// newOps serves /metrics from reg, /healthz, and /readyz: ready when this
// gateway can create a session, which needs NATS, the tokens bucket (the
// caller's token), the sessions bucket (the record) and the requests
// stream (the placement request) answering. Signaling and events are not
// probed: a gateway that cannot create is of no use to a load balancer,
// one whose events lag still is.
func (s *Server) newOps(reg *prometheus.Registry) http.Handler {
	js := s.res.JS
	return ops.Handler(reg, ops.NewChecker(s.cfg.ReadyCacheTTL,
		ops.Connected(s.nc),
		ops.Stream(js, subjects.StreamRequests),
		ops.Bucket(js, subjects.BucketSessions),
		ops.Bucket(js, subjects.BucketTokens)))
}
