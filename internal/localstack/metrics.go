package localstack

import (
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/metrics"
)

// startMetrics makes the stack's registry, with the NATS connection, the
// in-process agent and the metrics projector on it; the gateway adds its own
// and serves it all at /metrics. The projector follows the event stream on
// a connection of its own (Run starts it).
func (s *Stack) startMetrics(opts Options, log *slog.Logger) error {
	s.Metrics = metrics.NewRegistry()
	if err := s.Metrics.Register(metrics.NewNATSCollector(map[string]*nats.Conn{"main": s.Conn})); err != nil {
		return err
	}
	if s.ag != nil {
		if err := s.Metrics.Register(s.ag.Collector()); err != nil {
			return err
		}
	}
	cfg := metrics.DefaultProjectorConfig()
	cfg.JS, cfg.Sessions, cfg.Log = s.Res.JS, s.Res.Sessions, log
	if s.Server != nil {
		cfg.Events.Dial = func(o ...nats.Option) (*nats.Conn, error) { return s.Server.Connect(cfg.Events.Name, o...) }
	} else {
		cfg.Events.URL, cfg.Events.NATSOptions = opts.NATSURL, opts.NATSOptions
	}
	var err error
	s.proj, err = metrics.NewProjector(s.Metrics, cfg)
	return err
}
