package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/reconcile"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/subjects"
	"github.com/streamstack/streamstack/turn"
)

func runGateway(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	c, gcfg := addCommon(fs), addGatewayFlags(fs)
	scfg := addStoreFlags(fs)
	nf, admin := addNATSClientFlags(fs), addAdminTokenFlags(fs)
	tf := addTURNFlags(fs, false)
	limits := addLimitsFlags(fs)
	wf := addWebFlags(fs)
	rcfg := reconcile.DefaultConfig()
	addReconcileFlags(fs, &rcfg.Interval, &rcfg.FullScan)
	if err := parse(fs, args); err != nil {
		return err
	}
	webClient, err := wf.handler()
	if err != nil {
		return err
	}
	if err := checkLimits(limits); err != nil {
		return err
	}
	if c.NATSURL == "" {
		return errors.New("--nats-url is required (use serve for an embedded NATS)")
	}
	if err := gcfg.Validate(); err != nil {
		return err
	}
	log := c.logger()
	if err := admin.settleAdminToken(fs, args, log); err != nil {
		return err
	}
	natsAuth, nc, res, err := dialNATS(ctx, fs, args, c.NATSURL, nf, "streamstack-gateway", limits, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	tokens, err := auth.New(ctx, res.Tokens)
	if err != nil {
		return err
	}
	newToken, err := ensureAdminToken(ctx, res.JS, tokens, admin.adminToken)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	store, err := newStore(scfg, res, "gateway/"+host, log)
	if err != nil {
		return err
	}
	defer closeStore(store, scfg, log)
	iceServers, err := tf.gatewayICEServers(ctx, res.Tokens)
	if err != nil {
		return err
	}
	reg, proj, err := gatewayObservability(c.NATSURL, natsAuth.opts, nc, res, log)
	if err != nil {
		return err
	}
	gw, err := gateway.New(*gcfg, gateway.Deps{Conn: nc, Resources: res, Sessions: store, Tokens: tokens, Log: log, ICEServers: iceServers, Metrics: reg, Fallback: webClient})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", gcfg.HTTPAddr)
	if err != nil {
		return err
	}
	scheme := "http://"
	if gcfg.TLSCertFile != "" {
		scheme = "https://"
	}
	log.Info("gateway ready", "url", scheme+ln.Addr().String()+"/", "nats", redactNATSURL(c.NATSURL), "nats_auth", natsAuth.describe())
	if newToken != "" {
		fmt.Fprintf(os.Stderr, "\nAdmin API token (shown once; only its hash is stored):\n\n    %s\n\n", newToken)
	}
	runs := []func(context.Context) error{proj.Run, func(ctx context.Context) error { return gw.Serve(ctx, ln) }}
	if rcfg.Interval > 0 {
		// Gateways contend for the reconciler's lease too: with every
		// agent gone, someone must still end their sessions.
		rcfg.ID = "gateway/" + host
		rc, err := reconcile.New(rcfg, reconcile.Deps{JS: res.JS, Agents: res.Agents, Sessions: store, Log: log})
		if err != nil {
			return err
		}
		runs = append(runs, rc.Run)
	}
	return runAll(ctx, runs...)
}

func runAgent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	c, acfg := addCommon(fs), addAgentFlags(fs)
	scfg := addStoreFlags(fs)
	nf := addNATSClientFlags(fs)
	fs.StringVar(&acfg.StateDir, "state-dir", "", "the agent's directory on this host: the default --agent-id derives from it, and it holds the lock that keeps a second agent of that id off it; empty: $XDG_STATE_HOME/streamstack or ~/.local/state/streamstack")
	tf := addTURNFlags(fs, false)
	ice := streamer.DefaultConfig() // only to register the ICE flags streamers get
	var iceTCP bool
	addICEFlags(fs, &ice, &iceTCP)
	limits, metricsAddr := addLimitsFlags(fs), addMetricsAddrFlag(fs)
	readyTTL := gateway.DefaultConfig().ReadyCacheTTL
	addReadyCacheFlag(fs, &readyTTL)
	var catalog *apps.Catalog // checked here, charged by the agent and passed down to streamers
	addAppsFileFlag(fs, &catalog)
	addGamepadFlag(fs, &ice.GamepadUinput)
	addMediaFlags(fs, &ice)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLimits(limits); err != nil {
		return err
	}
	if c.NATSURL == "" {
		return errors.New("--nats-url is required (use serve for an embedded NATS)")
	}
	log := c.logger()
	natsAuth, nc, res, err := dialNATS(ctx, fs, args, c.NATSURL, nf, "streamstack-agent", limits, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	log.Info("agent connected to NATS", "nats", redactNATSURL(c.NATSURL), "nats_auth", natsAuth.describe())
	// Streamers get this agent's credentials: user and password or token
	// in the URL they read on a pipe, a .creds file by path.
	acfg.NATSURL, acfg.Apps = natsAuth.streamerURL(c.NATSURL), catalog
	acfg.StreamerEnv = append(acfg.StreamerEnv, natsAuth.streamerEnv()...)
	// With credentials of the operator's NATS, its users are its own: no
	// per-session streamer users to probe for.
	if natsAuth.what == "" {
		if acfg.StreamerNATSURL, err = streamerUsers(ctx, c.NATSURL, res.Tokens); err != nil {
			return err
		}
	}
	switch {
	case acfg.StreamerNATSURL != nil:
		log.Info("streamers connect as their session's own NATS user")
	case natsAuth.what != "":
		log.Info("streamers connect with this agent's NATS credentials", "nats_auth", natsAuth.describe())
	default:
		log.Warn("this NATS has no per-session streamer users (it is not serve's embedded one): streamers get this agent's credentials")
	}
	acfg.StateDir = stateDirOrDefault(acfg.StateDir)
	applyIsolation(acfg, ice)
	if iceTCP {
		acfg.HostSessions = 0 // one TCP port per streamer process
	}
	if len(tf.urls) > 0 {
		// Streamers read the secret from the cluster; store a chosen one.
		if _, err := turn.LoadSecret(ctx, res.Tokens, tf.secret); err != nil {
			return err
		}
	}
	acfg.StreamerEnv = append(acfg.StreamerEnv, passDownEnv(fs, append(append(streamerICEFlags, "turn-urls", "turn-credential-ttl", "apps-file", "gamepad-uinput", "encoder-stall-timeout"), mediaFlags...)...)...)
	store, err := newStore(scfg, res, "agent/"+acfg.ID, log)
	if err != nil {
		return err
	}
	defer closeStore(store, scfg, log)
	ag, err := agent.New(*acfg, agent.Deps{JS: res.JS, Agents: res.Agents, Sessions: store, Log: log})
	if err != nil {
		return err
	}
	return runAgentServing(ctx, ag, nc, res.JS, *metricsAddr, readyTTL, log)
}

// dialNATS connects a gateway or an agent to the NATS at natsURL with the
// credentials nf names, waiting out --start-timeout while it elects, and
// sets its streams and buckets up to limits.
func dialNATS(ctx context.Context, fs *flag.FlagSet, args []string, natsURL string, nf *natsClientFlags, name string,
	limits *jetstream.Limits, log *slog.Logger) (natsAuth, *nats.Conn, *jetstream.Resources, error) {
	auth, err := nf.read(natsURL, os.Getenv)
	if err != nil {
		return natsAuth{}, nil, nil, err
	}
	warnURLCredentials(fs, args, natsURL, log)
	_, nc, res, err := localstack.Dial(ctx, localstack.ConnectOptions{URL: natsURL, Name: name, Limits: limits,
		Setup: []jetstream.SetupOption{jetstream.WithLog(log)}, NATS: auth.opts, StartTimeout: nf.startTimeout, Log: log})
	if err != nil {
		return natsAuth{}, nil, nil, err
	}
	return auth, nc, res, nil
}

// streamerUsers answers the per-session streamer URLs of natsURL when that
// NATS admits streamer users (serve's embedded server does: a probe user
// is let in), nil when it does not (an external NATS, whose users are its
// operator's) or natsURL lists several servers.
func streamerUsers(ctx context.Context, natsURL string, tokensKV njs.KeyValue) (func(string) string, error) {
	if strings.Contains(natsURL, ",") {
		return nil, nil
	}
	base, err := url.Parse(natsURL)
	if err != nil || base.Host == "" {
		return nil, nil
	}
	tokens, err := auth.New(ctx, tokensKV)
	if err != nil {
		return nil, err
	}
	urlFor := func(id string) string {
		u := *base
		u.User = url.UserPassword(jetstream.StreamerUser(id), tokens.StreamerPassword(id))
		return u.String()
	}
	const probe = "agent-probe"
	nc, err := nats.Connect(urlFor(probe), nats.Name("streamstack-agent-probe"), nats.NoReconnect(),
		nats.Timeout(5*time.Second), nats.CustomInboxPrefix(subjects.StreamerInbox(probe)))
	if err != nil {
		return nil, nil
	}
	nc.Close()
	return urlFor, nil
}

type streamerFlags struct {
	common    *common
	cfg       streamer.Config
	iceTCP    bool
	natsFD    int
	natsCreds string
}

func newStreamerFlags(fs *flag.FlagSet) *streamerFlags {
	f := &streamerFlags{common: addCommon(fs), cfg: streamer.DefaultConfig()}
	fs.StringVar(&f.cfg.SessionID, "session-id", "", "the session to stream (set by the agent)")
	fs.StringVar(&f.natsCreds, "nats-creds", "", "NATS credentials file (.creds) to connect with (set by an agent given --nats-creds)")
	fs.IntVar(&f.natsFD, "nats-credentials-fd", 0, "file descriptor to read the NATS URL from, credentials included, once at start, instead of --nats-url (set by the agent, which keeps the credentials out of the streamer's environment); 0: none")
	fs.DurationVar(&f.cfg.DisconnectGrace, "disconnect-grace", f.cfg.DisconnectGrace, "how long an ephemeral session outlives its client's stream::disconnect")
	fs.DurationVar(&f.cfg.ConnectTimeout, "connect-timeout", f.cfg.ConnectTimeout, "how long a client connection may take to reach ICE connected")
	fs.DurationVar(&f.cfg.StatsInterval, "stats-interval", f.cfg.StatsInterval, "how often a connected session's counters go out as a session.stats event; 0: never")
	fs.StringVar(&f.cfg.VAAPIDevice, "vaapi-device", f.cfg.VAAPIDevice, "DRM render node of the VA-API encoders (set by the agent); empty: /dev/dri/renderD128")
	fs.DurationVar(&f.cfg.EncoderStallTimeout, "encoder-stall-timeout", f.cfg.EncoderStallTimeout, encoderStallTimeoutUsage)
	fs.StringVar(&f.cfg.RuntimeDir, "runtime-dir", "", "directory the session's private directories (display cookie, sound server socket) are made in (set by the agent, which removes it after the streamer); empty: the system's temporary directory")
	addStreamerTURNFlags(fs, &f.cfg)
	addICEFlags(fs, &f.cfg, &f.iceTCP)
	addAppsFileFlag(fs, &f.cfg.Apps)
	addGamepadFlag(fs, &f.cfg.GamepadUinput)
	addMediaFlags(fs, &f.cfg)
	return f
}

func runStreamer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("streamer", flag.ContinueOnError)
	f := newStreamerFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.natsFD > 0 {
		u, err := readNATSURL(f.natsFD)
		if err != nil {
			return err
		}
		f.common.NATSURL = u
	}
	if f.common.NATSURL == "" {
		return errors.New("--nats-url is required")
	}
	log := f.common.logger()
	if !subjects.ValidToken(f.cfg.SessionID) {
		return fmt.Errorf("--session-id %q is not a session id", f.cfg.SessionID)
	}
	return streamSession(ctx, f, nil, log)
}

// streamSession streams one session with its streamer's settings and NATS
// URL (f.common.NATSURL): the whole life of a streamer process, or of one
// session on a streamer host (streamerhost.go).
// warm is the session's app started ahead of it (streamer.Deps.WarmApp),
// which the session then owns; nil: the streamer starts the app.
func streamSession(ctx context.Context, f *streamerFlags, warm *apphost.Host, log *slog.Logger) error {
	if warm != nil {
		defer warm.Close() // also when the session fails before streaming
	}
	var natsOpts []nats.Option
	if f.natsCreds != "" {
		natsOpts = append(natsOpts, nats.UserCredentials(f.natsCreds))
	}
	nc, res, err := localstack.ConnectStreamer(ctx, f.common.NATSURL, f.cfg.SessionID, natsOpts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	host, _ := os.Hostname()
	f.cfg.Source = "streamer/" + host
	closeNAT, err := prepareStreamerNAT(ctx, &f.cfg, f.iceTCP, res.Tokens, log)
	if err != nil {
		return err
	}
	defer closeNAT()
	store := session.NewStore(res.JS, res.Sessions, f.cfg.Source, log)
	// Its last changes' events go out before the streamer exits.
	scfg := session.DefaultStoreConfig()
	defer closeStore(store, &scfg, log)
	defer removeRuntimeDir(f.cfg.RuntimeDir, f.cfg.SessionID, log)
	return streamer.Run(ctx, f.cfg, streamer.Deps{Conn: nc, JS: res.JS, Sessions: store, Log: log, WarmApp: warm})
}

// removeRuntimeDir removes the session's runtime directory the agent made
// for this streamer (agent's sessionDir: streamstack-session-<id>-*), and
// nothing else: a streamer whose agent died (its parent-death signal
// stopped it) has nobody else to do it. The agent removes it too, after.
func removeRuntimeDir(dir, id string, log *slog.Logger) {
	if dir == "" || id == "" || !strings.HasPrefix(filepath.Base(dir), "streamstack-session-"+id+"-") {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		log.Warn("remove runtime directory", "dir", dir, "err", err)
	}
}

// maxNATSURL bounds what readNATSURL reads.
const maxNATSURL = 64 << 10

// readNATSURL reads the NATS URL the agent wrote on an inherited pipe
// (--nats-credentials-fd) to its end, then closes the descriptor, so that
// nothing the streamer starts inherits it.
func readNATSURL(fd int) (string, error) {
	// Only a pipe or a file: a descriptor this process opened itself
	// (the runtime's poller) must not be read or closed.
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("--nats-credentials-fd %d: %w", fd, err)
	}
	if t := st.Mode & syscall.S_IFMT; t != syscall.S_IFIFO && t != syscall.S_IFREG {
		return "", fmt.Errorf("--nats-credentials-fd %d: not a pipe or a file", fd)
	}
	f := os.NewFile(uintptr(fd), "nats-credentials")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxNATSURL))
	if err != nil {
		return "", fmt.Errorf("--nats-credentials-fd %d: %w", fd, err)
	}
	u := strings.TrimSpace(string(b))
	if u == "" {
		return "", fmt.Errorf("--nats-credentials-fd %d: no NATS URL", fd)
	}
	return u, nil
}

func runToken(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	natsURL := fs.String("nats-url", "", "NATS of the stack; empty: serve's embedded one on 127.0.0.1:4222, with the credentials in --state-dir")
	stateDir := fs.String("state-dir", "", "serve's state dir, for the embedded NATS credentials; empty: serve's default")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *natsURL == "" {
		creds, err := jetstream.LoadCredentials(credentialsPath(stateDirOrDefault(*stateDir)))
		if err != nil {
			return err
		}
		*natsURL = "nats://" + url.UserPassword(creds.Internal.Name, creds.Internal.Password).String() + "@127.0.0.1:4222"
	}
	nc, res, err := connectTool(ctx, *natsURL, "streamstack-token")
	if err != nil {
		return err
	}
	defer nc.Close()
	tokens, err := auth.New(ctx, res.Tokens)
	if err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("usage: streamstack token create [--scope admin|sessions|read] [--expires DURATION] NAME | list | revoke ID")
	}
	switch {
	case rest[0] == "create":
		name, opts, err := parseTokenCreate(rest[1:])
		if err != nil {
			return err
		}
		secret, info, err := tokens.CreateScoped(ctx, name, opts)
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", secret)
		fmt.Fprintf(os.Stderr, "created %s token %s (%s); it is shown only now\n", info.Scoped(), info.ID, info.Name)
	case rest[0] == "list" && len(rest) == 1:
		list, err := tokens.List(ctx, res.JS)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSCOPE\tCREATED\tEXPIRES")
		for _, t := range list {
			exp := "never"
			if !t.ExpiresAt.IsZero() {
				exp = t.ExpiresAt.Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scoped(), t.CreatedAt.Format("2006-01-02 15:04:05"), exp)
		}
		return w.Flush()
	case rest[0] == "revoke" && len(rest) == 2:
		if err := tokens.Revoke(ctx, rest[1]); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "revoked %s\n", rest[1])
	default:
		return errors.New("usage: streamstack token create [--scope admin|sessions|read] [--expires DURATION] NAME | list | revoke ID")
	}
	return nil
}

// parseTokenCreate reads `token create`'s arguments: a name and the
// --scope and --expires flags, before or after it.
func parseTokenCreate(args []string) (string, auth.Options, error) {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	var o auth.Options
	fs.StringVar(&o.Scope, "scope", auth.ScopeAdmin, "what the token may do: admin (everything), sessions (create, and manage its own sessions), read (status and lists)")
	fs.DurationVar(&o.TTL, "expires", 0, "how long the token works; 0: until revoked")
	var names []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", o, err
		}
		if args = fs.Args(); len(args) > 0 {
			names, args = append(names, args[0]), args[1:]
		}
	}
	if len(names) != 1 {
		return "", o, errors.New("usage: streamstack token create [--scope admin|sessions|read] [--expires DURATION] NAME")
	}
	return names[0], o, nil
}
