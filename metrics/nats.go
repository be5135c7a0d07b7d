package metrics

import (
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	natsReconnectsDesc = prometheus.NewDesc("streamstack_nats_reconnects_total",
		"Times the NATS connection reconnected.", []string{"conn"}, nil)
	natsConnectedDesc = prometheus.NewDesc("streamstack_nats_connected",
		"1 while the NATS connection is connected.", []string{"conn"}, nil)
)

// NATSCollector reports NATS connections, read from their statistics at
// each scrape: reconnects (a counter) and whether each is connected.
type NATSCollector struct {
	conns map[string]*nats.Conn
}

// NewNATSCollector reports conns, labelled conn=<key>.
func NewNATSCollector(conns map[string]*nats.Conn) *NATSCollector {
	return &NATSCollector{conns: conns}
}

// Describe implements prometheus.Collector.
func (c *NATSCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- natsReconnectsDesc
	ch <- natsConnectedDesc
}

// Collect implements prometheus.Collector.
func (c *NATSCollector) Collect(ch chan<- prometheus.Metric) {
	for name, nc := range c.conns {
		ch <- prometheus.MustNewConstMetric(natsReconnectsDesc, prometheus.CounterValue, float64(nc.Stats().Reconnects), name)
		connected := 0.0
		if nc.IsConnected() {
			connected = 1
		}
		ch <- prometheus.MustNewConstMetric(natsConnectedDesc, prometheus.GaugeValue, connected, name)
	}
}
