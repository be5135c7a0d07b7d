package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/flagenv"
	"github.com/streamstack/streamstack/internal/natsurl"
	"github.com/streamstack/streamstack/streamer"
)

// common holds the settings every long-running command shares.
type common struct {
	NATSURL  string
	LogLevel string
	LogJSON  bool
}

func addCommon(fs *flag.FlagSet) *common {
	c := &common{}
	fs.StringVar(&c.NATSURL, "nats-url", "", "URL of an external NATS (with JetStream); empty runs the embedded server (serve only)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.LogJSON, "log-json", false, "log JSON lines instead of text")
	return c
}

func (c *common) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// stateDirOrDefault follows the XDG base directory spec when dir is empty.
func stateDirOrDefault(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "streamstack")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "streamstack")
	}
	return filepath.Join(os.TempDir(), "streamstack")
}

// defaultHostSessions: a crash of a streamer host ends at most this many
// sessions, and its runtime's background cost is shared by as many
// (BENCHMARKS.md, Density).
const defaultHostSessions = 4

func addAgentFlags(fs *flag.FlagSet) *agent.Config {
	c := agent.DefaultConfig()
	fs.StringVar(&c.ID, "agent-id", c.ID, "agent id in heartbeats and session records; empty: the host name and a digest of --state-dir, the same at every start, so a restarted agent ends what its previous run left (one agent of an id runs on a state dir at a time)")
	fs.StringVar(&c.Region, "region", c.Region, "region this agent serves")
	fs.IntVar(&c.MaxSessions, "max-sessions", c.MaxSessions, "most sessions one agent runs at once")
	fs.IntVar(&c.Cores, "cores", c.Cores, "CPU cores the agent may use for software encoding; 0: all")
	fs.Float64Var(&c.AppCPU, "app-cpu", c.AppCPU, "CPU cores the X11 apps of the agent's sessions may have in total (the sum of their containers' cpu limits); a session whose app does not fit waits for room; 0: all the host's cores")
	fs.IntVar(&c.AppMemoryMB, "app-memory-mb", c.AppMemoryMB, "memory in MiB the X11 apps of the agent's sessions may have in total (the sum of their containers' memory_mb limits); 0: the host's MemTotal less the larger of 512 MiB and a tenth")
	fs.Float64Var(&c.UnitsPerCore, "units-per-core", c.UnitsPerCore, "software encoder capacity per core for every codec, in 720p30 streams, used as is; 0: measured at start by a calibration encode per codec, less --headroom")
	fs.Float64Var(&c.ViewerUnits, "viewer-units", c.ViewerUnits, "capacity each peer of a session beyond its first holds, in 720p30 encodes scaled by the session's screen (docs/peers.md): the peers share the encode, each adds its sending")
	addEncoderFlags(fs, &c)
	fs.DurationVar(&c.PlacementTimeout, "placement-timeout", c.PlacementTimeout, "how long a session waits for capacity before it ends with reason \"no capacity\"")
	fs.DurationVar(&c.AckWait, "placement-ack-wait", c.AckWait, "how long a placement request an agent took may go unacknowledged before another agent is offered it (the agent says it is in progress while it works on one, so only a dead agent loses it); under --placement-timeout; 0: a sixth of --placement-timeout")
	fs.DurationVar(&c.PullExpiry, "pull-expiry", c.PullExpiry, "how long one pull for placement requests lives on NATS, its idle heartbeat half of it: how soon an agent's pull moves to a live NATS node after losing one; at least 1s")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval, "interval between agent capacity heartbeats")
	addReconcileFlags(fs, &c.ReconcileInterval, &c.ReconcileFullScan)
	fs.DurationVar(&c.ReprobeInterval, "encoder-reprobe-interval", c.ReprobeInterval, "how long a hardware encoder pool stays degraded (admits nothing) after a session's encoder on it failed or stalled, before a test encode tries it again; 0: until the agent restarts")
	// The streamers' setting, passed down to them (passDownEnv).
	fs.Duration("encoder-stall-timeout", streamer.DefaultConfig().EncoderStallTimeout, encoderStallTimeoutUsage)
	fs.DurationVar(&c.StopTimeout, "stop-timeout", c.StopTimeout, "how long a streamer gets to exit before it is signalled")
	c.HostSessions = defaultHostSessions
	fs.IntVar(&c.HostSessions, "streamer-host-sessions", c.HostSessions, "sessions one streamer host process serves: the agent keeps hosts running ahead of requests, so a session waits for no process start, and a host that crashes ends at most this many sessions; 0: a streamer process per session, started at its request (needed by --ice-tcp)")
	fs.IntVar(&c.HostProcs, "streamer-host-procs", c.HostProcs, "GOMAXPROCS of each streamer host (unless GOMAXPROCS is set for the streamers): the Go side of its sessions runs on so many threads, their encoders' C calls beside them; 1 holds the most sessions on a host's cores (BENCHMARKS.md, Density); 0: Go's default, every core")
	fs.IntVar(&c.HostSpares, "streamer-host-spares", c.HostSpares, "streamer hosts with a free slot the agent keeps running ahead of requests (with --streamer-host-sessions)")
	fs.IntVar(&c.WarmMax, "warm-max", c.WarmMax, "most warm apps (the catalogue's \"warm\": containers started ahead of their sessions) the agent keeps at once, over every app; each holds its app's limits of --app-cpu/--app-memory-mb and a streamer host slot; 0: none (needs --streamer-host-sessions)")
	fs.DurationVar(&c.WarmRetryDelay, "warm-retry-delay", c.WarmRetryDelay, "how long the agent waits before starting warm apps again after one failed to start, or after a session found no app budget free and a warm app was stopped for it")
	return &c
}

// addReconcileFlags registers the reconciler's settings (package
// reconcile), which agents and gateways both run.
func addReconcileFlags(fs *flag.FlagSet, interval, fullScan *time.Duration) {
	fs.DurationVar(interval, "reconcile-interval", *interval, "how often this component contends for the reconciler's lease and, holding it, ends the sessions of agents whose heartbeat expired (error, \"agent lost\"); under half the agents' heartbeat TTL (6s); 0: it runs no reconciler")
	fs.DurationVar(fullScan, "reconcile-full-scan", *fullScan, "how often the reconciler's lease holder reads every session record even when it saw no agent go (for agents lost while no reconciler ran)")
}

func addGatewayFlags(fs *flag.FlagSet) *gateway.Config {
	c := gateway.DefaultConfig()
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address the HTTP API and web client listen on")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "external base URL of the gateway (for websocket URLs behind a proxy); empty derives it from each request")
	fs.StringVar(&c.TLSCertFile, "tls-cert", "", "PEM certificate (chain) for the gateway to serve HTTPS and wss itself, with --tls-key; reloaded when the file changes; empty: plain HTTP (put a TLS proxy in front)")
	fs.StringVar(&c.TLSKeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.Var(prefixListFlag{&c.TrustedProxies}, "trusted-proxies", "reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-Proto, -Host and -For the gateway believes, for websocket URLs, the same-origin check and the client address of the create quotas; empty: none, the headers are ignored")
	fs.Float64Var(&c.CreatesPerIPPerSecond, "creates-per-ip-per-second", c.CreatesPerIPPerSecond, "session creates one client address may make a second with non-admin API tokens, and resumes (which need no API token) it may make, on each gateway (the TCP peer's address); 0: no limit")
	fs.IntVar(&c.CreateBurstPerIP, "create-burst-per-ip", c.CreateBurstPerIP, "creates one client address may make at once before --creates-per-ip-per-second applies")
	fs.IntVar(&c.CreatesPerTokenPerMinute, "creates-per-token-per-minute", c.CreatesPerTokenPerMinute, "session creates a non-admin API token may make a minute, on each gateway; 0: no limit")
	fs.IntVar(&c.MaxActiveSessionsPerToken, "max-sessions-per-token", c.MaxActiveSessionsPerToken, "sessions a non-admin API token may have that have not ended; 0: no limit")
	fs.IntVar(&c.ListDefaultLimit, "list-default-limit", c.ListDefaultLimit, "sessions a listing's page holds when the request names no limit")
	fs.IntVar(&c.MaxListLimit, "list-max-limit", c.MaxListLimit, "most sessions a listing's page holds, whatever limit the request names; a page answers the cursor of the next")
	fs.IntVar(&c.ListMaxReads, "list-max-reads", c.ListMaxReads, "most session records one listing reads when it filters (by status, or a sessions-scoped token's own); a page cut by it is short and answers a next cursor")
	fs.IntVar(&c.ListMaxBytes, "list-max-bytes", c.ListMaxBytes, "most bytes of records a listing's page answers (recursive=1); one record at least")
	fs.DurationVar(&c.EndedRetention, "ended-session-retention", c.EndedRetention, "how long the record of an ended session (terminated or error) stays after it ended before a sweep removes it (its events stay for the event stream's retention); 0: kept until the bucket is full")
	fs.DurationVar(&c.SweepInterval, "ended-session-sweep-interval", c.SweepInterval, "how often each gateway sweeps ended sessions' records (every gateway may: removals are conditional and idempotent)")
	fs.IntVar(&c.SweepMaxReads, "ended-session-sweep-max-reads", c.SweepMaxReads, "most session records one sweep reads; the next sweep resumes where it stopped")
	fs.StringVar(&c.MetricsAuth, "metrics-auth", c.MetricsAuth, "who may read the gateway's /metrics: token (any valid API token, a read-scoped one is enough: Prometheus's scrape authorization) or none (open: only where a private network alone reaches the listener); /healthz and /readyz stay open")
	addReadyCacheFlag(fs, &c.ReadyCacheTTL)
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest HTTP request body")
	fs.Int64Var(&c.MaxFrameBytes, "max-frame-bytes", c.MaxFrameBytes, "largest signaling websocket frame")
	fs.Float64Var(&c.MaxFramesPerSecond, "max-frames-per-second", c.MaxFramesPerSecond, "signaling frames per second one websocket may send")
	fs.DurationVar(&c.TokenCacheTTL, "token-cache-ttl", c.TokenCacheTTL, "how long a gateway reuses an API token's lookup in the tokens bucket: a watch on the bucket drops a revoked token at once on every gateway, so this only bounds what a missed watch keeps; a token that is not there is never cached, and a cached one is served past it while the bucket does not answer; 0: every call reads the bucket")
	fs.DurationVar(&c.SessionTokenTTL, "session-token-ttl", c.SessionTokenTTL, "how long a session's websocket URL stays valid")
	fs.DurationVar(&c.HTTPReadTimeout, "http-read-timeout", c.HTTPReadTimeout, "longest a client may take to send a whole HTTP request, headers and body; a slower one is cut (408 when its body is late); websockets are exempt once open")
	fs.DurationVar(&c.HTTPWriteTimeout, "http-write-timeout", c.HTTPWriteTimeout, "longest from the end of an HTTP request's headers to the last byte of its answer, the API's NATS work (up to 10s) and the client's reading included; websockets are exempt once open")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "how long a keep-alive HTTP connection may wait for its next request")
	fs.IntVar(&c.HTTPMaxConnsPerIP, "http-max-conns-per-ip", c.HTTPMaxConnsPerIP, "most connections open at once from one IP address, websockets included; more are closed as soon as accepted; the address is the TCP peer's (behind a reverse proxy, the proxy's); 0: no cap")
	fs.DurationVar(&c.WSPingInterval, "ws-ping-interval", c.WSPingInterval, "how often the gateway pings each signaling websocket's client")
	fs.DurationVar(&c.WSIdleTimeout, "ws-idle-timeout", c.WSIdleTimeout, "how long a signaling websocket may go without a pong or a frame from its client before the gateway closes it (status 4408, \"idle timeout\"); longer than --ws-ping-interval")
	fs.IntVar(&c.NATSEventSubscriptions, "nats-event-subscriptions", c.NATSEventSubscriptions, "most event subscriptions (events.subscribe over NATS) the NATS clients of one API token hold at once; one more is refused with 429")
	fs.IntVar(&c.WSMaxPerSession, "ws-max-per-session", c.WSMaxPerSession, "most signaling websockets open at once for one session, counted across every gateway on the same NATS (give them all the same value); one more is refused with 429; 0: no cap; peers that follow the session (docs/peers.md) keep theirs open, so above --max-peers")
	fs.IntVar(&c.MaxShareLinks, "share-links-max", c.MaxShareLinks, "most live share links one session may have (docs/peers.md); one more is refused with 429")
	fs.DurationVar(&c.ShareLinkTTL, "share-link-ttl", c.ShareLinkTTL, "life of a share link whose create names no expires_in")
	fs.DurationVar(&c.ShareLinkMaxTTL, "share-link-max-ttl", c.ShareLinkMaxTTL, "longest life a share link may ask for")
	fs.IntVar(&c.MaxGuestURLs, "guest-urls-max", c.MaxGuestURLs, "most websocket URLs of share-link joins one session keeps at once; one more drops the oldest, whose URL then opens nothing")
	addAppsFileFlag(fs, &c.Apps)
	fs.Func("allowed-origins", "origins (scheme://host[:port], comma-separated; wildcards in the host; a lone * allows any) whose pages may call the API and open websockets; empty: the gateway's own origin only", func(v string) error {
		c.AllowedOrigins = splitList(v)
		return nil
	})
	return &c
}

// addReadyCacheFlag registers how long a /readyz answer is reused, which
// gateways and agents both serve.
func addReadyCacheFlag(fs *flag.FlagSet, ttl *time.Duration) {
	fs.DurationVar(ttl, "readyz-cache-ttl", *ttl, "how long one /readyz answer is reused, so that however often load balancers probe, NATS sees one check (the gateway's: NATS, the requests stream, the sessions and tokens buckets; an agent's: NATS, the requests stream and its placement consumer) per this; 0: every probe checks")
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parse parses flags with the STREAMSTACK_* overlay.
func parse(fs *flag.FlagSet, args []string) error {
	return flagenv.Parse(fs, args, os.Getenv)
}

// onCommandLine reports whether flag name is among args itself, not set
// from its STREAMSTACK_* variable: args parsed by fs, read by the flag
// package's rules.
func onCommandLine(fs *flag.FlagSet, args []string, name string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return false
		}
		n := strings.TrimPrefix(a[1:], "-")
		n, _, hasValue := strings.Cut(n, "=")
		if n == name {
			return true
		}
		if f := fs.Lookup(n); f != nil && !hasValue && !isBoolFlag(f) {
			i++ // its value
		}
	}
	return false
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// redactNATSURL is a NATS URL, or a comma-separated list of them, for a log
// line: each password replaced by "xxxxx" as nats.go does, and a user
// without a password, which NATS takes for a token, too.
func redactNATSURL(raw string) string {
	urls, errs := natsurl.Parse(raw)
	out := make([]string, len(urls))
	for i, u := range urls {
		if errs[i] != nil {
			out[i] = "(a URL that does not parse)"
			continue
		}
		if _, ok := u.User.Password(); u.User != nil && !ok {
			u.User = url.User("xxxxx")
		}
		out[i] = u.Redacted()
	}
	return strings.Join(out, ",")
}

// settingsFlagSets lists every command's flags, for the settings table.
func settingsFlagSets() []*flag.FlagSet {
	var sets []*flag.FlagSet
	for _, name := range []string{"serve", "agent", "streamer", "probe", "bench", "events"} {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		switch name {
		case "serve":
			newServeFlags(fs)
		case "agent": // only what serve does not take
			addMetricsAddrFlag(fs)
		case "streamer":
			newStreamerFlags(fs)
		case "probe":
			newProbeFlags(fs)
		case "bench":
			newBenchFlags(fs)
		case "events":
			newEventsFlags(fs)
		}
		sets = append(sets, fs)
	}
	return sets
}

func runSettings(_ context.Context, _ []string) error {
	fmt.Print(settingsMarkdown())
	return nil
}

// settingsMarkdown is the README's settings section.
func settingsMarkdown() string {
	var b strings.Builder
	for _, fs := range settingsFlagSets() {
		fmt.Fprintf(&b, "\n`streamstack %s`", fs.Name())
		if fs.Name() == "serve" {
			b.WriteString(" (and `gateway` / `agent`, which take the subset that concerns them)")
		}
		if fs.Name() == "agent" {
			b.WriteString(" also takes (serve puts the agent's metrics on the gateway's listener)")
		}
		b.WriteString(":\n\n")
		flagenv.WriteTable(&b, fs)
	}
	return b.String()
}

// prefixListFlag is a comma-separated list of addresses or CIDR ranges.
type prefixListFlag struct{ v *[]netip.Prefix }

func (f prefixListFlag) String() string {
	if f.v == nil {
		return ""
	}
	var out []string
	for _, p := range *f.v {
		out = append(out, p.String())
	}
	return strings.Join(out, ",")
}

func (f prefixListFlag) Set(s string) error {
	var out []netip.Prefix
	for _, part := range splitList(s) {
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("%q is neither an address nor a CIDR range", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	*f.v = out
	return nil
}
