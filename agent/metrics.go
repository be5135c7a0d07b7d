package agent

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	unitsUsedDesc = prometheus.NewDesc("streamstack_agent_encoder_units_used",
		"Encoder units the agent's sessions hold, by backend and codec (one 720p30 stream is one unit; a backend's codecs share its units, so aggregate codecs with max).",
		[]string{"agent", "backend", "codec"}, nil)
	unitsFreeDesc = prometheus.NewDesc("streamstack_agent_encoder_units_free",
		"Encoder units the agent can still admit, by backend and codec (a backend's codecs share its units).",
		[]string{"agent", "backend", "codec"}, nil)
	agentSessionsDesc = prometheus.NewDesc("streamstack_agent_sessions",
		"Sessions placed on the agent now.", []string{"agent"}, nil)
	agentMaxSessionsDesc = prometheus.NewDesc("streamstack_agent_max_sessions",
		"Most sessions the agent runs at once.", []string{"agent"}, nil)
	appCPUReservedDesc = prometheus.NewDesc("streamstack_agent_app_cpu_reserved_cores",
		"CPU in cores the X11 apps of the agent's sessions hold of its app budget (the sum of their containers' CPU quotas).",
		[]string{"agent"}, nil)
	appCPUBudgetDesc = prometheus.NewDesc("streamstack_agent_app_cpu_budget_cores",
		"CPU in cores the agent's X11 apps may have in total (--app-cpu).", []string{"agent"}, nil)
	appMemoryReservedDesc = prometheus.NewDesc("streamstack_agent_app_memory_reserved_bytes",
		"Memory the X11 apps of the agent's sessions hold of its app budget (the sum of their containers' memory limits).",
		[]string{"agent"}, nil)
	appMemoryBudgetDesc = prometheus.NewDesc("streamstack_agent_app_memory_budget_bytes",
		"Memory the agent's X11 apps may have in total (--app-memory-mb).", []string{"agent"}, nil)
	hostsDesc = prometheus.NewDesc("streamstack_agent_streamer_hosts",
		"Streamer host processes the agent runs (--streamer-host-sessions), busy or spare.", []string{"agent"}, nil)
	hostFreeSlotsDesc = prometheus.NewDesc("streamstack_agent_streamer_host_free_slots",
		"Sessions the agent's warmed-up streamer hosts can take now, without a process start.", []string{"agent"}, nil)
	warmDesc = prometheus.NewDesc("streamstack_agent_warm_apps",
		"Warm apps (started ahead of their sessions, not yet taken) the agent keeps, by app.", []string{"agent", "app"}, nil)
	warmReadyDesc = prometheus.NewDesc("streamstack_agent_warm_apps_ready",
		"Warm apps that have started and wait for a session, by app.", []string{"agent", "app"}, nil)
	warmTakenDesc = prometheus.NewDesc("streamstack_agent_warm_apps_taken_total",
		"Sessions that took a warm app instead of starting theirs, by app.", []string{"agent", "app"}, nil)
	fallbacksDesc = prometheus.NewDesc("streamstack_encoder_fallbacks_total",
		"Sessions whose hardware encoder failed or stalled and that moved to software, by backend from and to.",
		[]string{"agent", "from", "to"}, nil)
)

// Collector reports the agent's capacity from its own state at each
// scrape. Register it on the process's registry.
func (a *Agent) Collector() prometheus.Collector { return collector{a} }

type collector struct{ a *Agent }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- unitsUsedDesc
	ch <- unitsFreeDesc
	ch <- agentSessionsDesc
	ch <- agentMaxSessionsDesc
	ch <- fallbacksDesc
	ch <- appCPUReservedDesc
	ch <- appCPUBudgetDesc
	ch <- appMemoryReservedDesc
	ch <- appMemoryBudgetDesc
	ch <- hostsDesc
	ch <- hostFreeSlotsDesc
	ch <- warmDesc
	ch <- warmReadyDesc
	ch <- warmTakenDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	backends := a.backends()
	a.mu.Lock()
	n := len(a.running)
	fallbacks := maps.Clone(a.fallbacks)
	app := a.appsLocked()
	warm, ready := map[string]float64{}, map[string]float64{}
	for _, w := range a.warm {
		warm[w.app]++
		if w.ready {
			ready[w.app]++
		}
	}
	taken := maps.Clone(a.warmTakenTotal)
	a.mu.Unlock()
	id := a.cfg.ID
	for k, v := range fallbacks {
		ch <- prometheus.MustNewConstMetric(fallbacksDesc, prometheus.CounterValue, v, id, k.from, k.to)
	}
	for _, b := range backends {
		for _, codec := range b.Codecs {
			ch <- prometheus.MustNewConstMetric(unitsUsedDesc, prometheus.GaugeValue, b.UsedUnits, id, b.Name, codec)
			ch <- prometheus.MustNewConstMetric(unitsFreeDesc, prometheus.GaugeValue, b.FreeUnits, id, b.Name, codec)
		}
	}
	ch <- prometheus.MustNewConstMetric(agentSessionsDesc, prometheus.GaugeValue, float64(n), id)
	ch <- prometheus.MustNewConstMetric(agentMaxSessionsDesc, prometheus.GaugeValue, float64(a.cfg.MaxSessions), id)
	const mib = 1 << 20
	ch <- prometheus.MustNewConstMetric(appCPUReservedDesc, prometheus.GaugeValue, app.used.cpu, id)
	ch <- prometheus.MustNewConstMetric(appCPUBudgetDesc, prometheus.GaugeValue, app.total.cpu, id)
	ch <- prometheus.MustNewConstMetric(appMemoryReservedDesc, prometheus.GaugeValue, float64(app.used.memoryMB)*mib, id)
	ch <- prometheus.MustNewConstMetric(appMemoryBudgetDesc, prometheus.GaugeValue, float64(app.total.memoryMB)*mib, id)
	for _, app := range a.catalog.List() {
		if app.Warm > 0 {
			ch <- prometheus.MustNewConstMetric(warmDesc, prometheus.GaugeValue, warm[app.Name], id, app.Name)
			ch <- prometheus.MustNewConstMetric(warmReadyDesc, prometheus.GaugeValue, ready[app.Name], id, app.Name)
			ch <- prometheus.MustNewConstMetric(warmTakenDesc, prometheus.CounterValue, taken[app.Name], id, app.Name)
		}
	}
	if a.hosts != nil {
		hosts, free := a.hosts.stats()
		ch <- prometheus.MustNewConstMetric(hostsDesc, prometheus.GaugeValue, float64(hosts), id)
		ch <- prometheus.MustNewConstMetric(hostFreeSlotsDesc, prometheus.GaugeValue, float64(free), id)
	}
}
