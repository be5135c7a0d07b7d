package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

type serveFlags struct {
	common     *common
	gateway    *gateway.Config
	agent      *agent.Config
	stateDir   string
	natsListen string
	natsTLS    string
	*adminTokenFlags
	natsClient *natsClientFlags
	turn       *turnFlags
	limits     *jetstream.Limits
	natsLimits *jetstream.ServerConfig // only its budgets: the embedded server's
	ice        streamer.Config         // only to register the ICE flags streamers get
	iceTCP     bool
	inProcess  bool
	web        *webFlags
	store      *session.StoreConfig
}

func newServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{common: addCommon(fs), gateway: addGatewayFlags(fs), agent: addAgentFlags(fs)}
	fs.StringVar(&f.stateDir, "state-dir", "", "where the embedded NATS keeps its JetStream files, and the agent's directory: its default --agent-id derives from it, so serve restarted on it finds what its previous run left; empty: $XDG_STATE_HOME/streamstack or ~/.local/state/streamstack")
	fs.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "where the embedded NATS listens for clients (streamers, tools, NATS users)")
	fs.StringVar(&f.natsTLS, "nats-tls", "remote", "TLS of the embedded NATS: remote (with --tls-cert: offered to every client with the gateway's certificate, and required from every client not on loopback, which is refused without it; without --tls-cert there is none, and serve warns when --nats-listen is not loopback) or off")
	f.adminTokenFlags = addAdminTokenFlags(fs)
	f.natsClient = addNATSClientFlags(fs)
	f.turn = addTURNFlags(fs, true)
	f.limits = addLimitsFlags(fs)
	f.natsLimits = addNATSLimitFlags(fs)
	f.ice = streamer.DefaultConfig()
	addICEFlags(fs, &f.ice, &f.iceTCP)
	addGamepadFlag(fs, &f.ice.GamepadUinput)
	addMediaFlags(fs, &f.ice)
	f.web = addWebFlags(fs)
	f.store = addStoreFlags(fs)
	fs.BoolVar(&f.inProcess, "streamer-in-process", false, "run each session's streamer on a goroutine of this process instead of a child process: fewer per-session costs (BENCHMARKS.md, Density), but a crash of one streamer ends every session")
	return f
}

// withNATSTLS applies --nats-tls to the embedded server's configuration.
func (f *serveFlags) withNATSTLS(srv *jetstream.ServerConfig, log *slog.Logger) error {
	switch f.natsTLS {
	case "off":
		return nil
	case "remote":
	default:
		return fmt.Errorf("--nats-tls %q: want remote or off", f.natsTLS)
	}
	if f.gateway.TLSCertFile == "" {
		if host, _, err := net.SplitHostPort(f.natsListen); err == nil && !isLoopbackHost(host) {
			log.Warn("the embedded NATS listens beyond loopback without TLS: passwords and tokens of clients from other hosts travel in the clear (set --tls-cert)", "nats_listen", f.natsListen)
		}
		return nil
	}
	// The stack's own processes (streamers, tools) connect on loopback,
	// where plain stays allowed: NATS must listen there.
	if host, _, err := net.SplitHostPort(f.natsListen); err != nil || !reachesLoopback(host) {
		return fmt.Errorf("--nats-tls remote needs --nats-listen on loopback or on every address (0.0.0.0, [::]), so that the stack's own processes reach NATS on loopback; got %q", f.natsListen)
	}
	certs, err := certfile.New(f.gateway.TLSCertFile, f.gateway.TLSKeyFile)
	if err != nil {
		return err
	}
	srv.TLS = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	srv.RequireTLSRemote = true
	return nil
}

// reachesLoopback reports whether a listener on host takes connections on
// loopback: loopback itself, or every address.
func reachesLoopback(host string) bool {
	if isLoopbackHost(host) || host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// isLoopbackHost reports whether a listen host is loopback only.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// inProcessStreamer is the configuration of --streamer-in-process: what a
// child would read from the environment the agent gives it.
func (f *serveFlags) inProcessStreamer() (func([]string) (streamer.Config, error), error) {
	if !f.inProcess {
		return nil, nil
	}
	if f.iceTCP {
		return nil, errors.New("--ice-tcp needs streamer processes (one TCP port each); drop --streamer-in-process")
	}
	return streamerConfigFromEnv, nil
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := newServeFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLimits(f.limits); err != nil {
		return err
	}
	if err := checkNATSLimits(f.natsLimits); err != nil {
		return err
	}
	log := f.common.logger()
	if err := f.settleAdminToken(fs, args, log); err != nil {
		return err
	}
	turnOpts, err := f.turn.options()
	if err != nil {
		return err
	}
	if err := f.turn.withTLS(&turnOpts, f.gateway); err != nil {
		return err
	}
	f.agent.StreamerEnv = append(f.agent.StreamerEnv, passDownEnv(fs, append(append(streamerICEFlags, "apps-file", "gamepad-uinput", "encoder-stall-timeout"), mediaFlags...)...)...)
	applyIsolation(f.agent, f.ice)
	if f.iceTCP {
		f.agent.HostSessions = 0 // one TCP port per streamer process
	}
	f.stateDir = stateDirOrDefault(f.stateDir)
	f.agent.StateDir = f.stateDir
	srv := jetstream.DefaultServerConfig(filepath.Join(f.stateDir, "nats"))
	srv.Listen = f.natsListen
	if err := f.withNATSTLS(&srv, log); err != nil {
		return err
	}
	srv.MaxMemory, srv.MaxStore, srv.MaxConsumers = f.natsLimits.MaxMemory, f.natsLimits.MaxStore, f.natsLimits.MaxConsumers
	srv.Sync = f.natsLimits.Sync
	natsAuth, err := f.natsClient.read(f.common.NATSURL, os.Getenv)
	if err != nil {
		return err
	}
	warnURLCredentials(fs, args, f.common.NATSURL, log)
	if f.common.NATSURL != "" {
		f.agent.StreamerEnv = append(f.agent.StreamerEnv, natsAuth.streamerEnv()...)
		if natsAuth.secret != "" {
			url := natsAuth.streamerURL(f.common.NATSURL)
			f.agent.StreamerNATSURL = func(string) string { return url }
		}
	}
	credsPath := credentialsPath(f.stateDir)
	if f.common.NATSURL == "" {
		creds, err := jetstream.LoadOrCreateCredentials(credsPath)
		if err != nil {
			return err
		}
		creds.Apply(&srv)
	}
	inProcess, err := f.inProcessStreamer()
	if err != nil {
		return err
	}
	webClient, err := f.web.handler()
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	var tokenErr error
	st, err := localstack.Start(ctx, localstack.Options{
		NATSURL: f.common.NATSURL, Server: srv, NATSOptions: natsAuth.opts, StartTimeout: f.natsClient.startTimeout,
		Gateway: *f.gateway, Agent: *f.agent, TURN: turnOpts, Limits: *f.limits,
		Source: "serve/" + host, Store: f.store, Log: log, InProcessStreamers: inProcess, WebClient: webClient,
		Ready: func(st *localstack.Stack) {
			var newToken string
			if newToken, tokenErr = ensureAdminToken(ctx, st.Res.JS, st.Tokens, f.adminToken); tokenErr != nil {
				return
			}
			if f.common.NATSURL == "" {
				log.Info("streamstack ready", "url", st.URL, "nats", st.NATSURL, "nats_credentials", credsPath, "state_dir", f.stateDir)
			} else {
				log.Info("streamstack ready", "url", st.URL, "nats", redactNATSURL(st.NATSURL))
			}
			if st.ICE != nil {
				log.Info("sessions get STUN/TURN", "urls", st.ICE.URLs, "embedded", st.TURN != nil)
			}
			if newToken != "" {
				fmt.Fprintf(os.Stderr, "\nAdmin API token (shown once; only its hash is stored):\n\n    %s\n\n", newToken)
			}
		},
	})
	if err != nil {
		return err
	}
	if tokenErr != nil {
		_ = st.Close()
		return tokenErr
	}
	<-ctx.Done()
	log.Info("streamstack stopping")
	return st.Close()
}

// adminTokenFlags are the API token serve and gateway register at start.
type adminTokenFlags struct {
	adminToken string
	tokenFile  string
}

func addAdminTokenFlags(fs *flag.FlagSet) *adminTokenFlags {
	f := &adminTokenFlags{}
	fs.StringVar(&f.adminToken, "admin-token", "", "API token to register at start (at least 16 characters); every local user sees a flag in ps, so set it with the environment variable or --admin-token-file; with neither, the first start makes one and prints it once")
	fs.StringVar(&f.tokenFile, "admin-token-file", "", "file holding the API token to register at start (its trailing newline dropped), instead of --admin-token; refused when group or others may read or change it")
	return f
}

// settleAdminToken reads --admin-token-file into adminToken, or warns when
// --admin-token was given on the command line, where ps shows it.
func (f *adminTokenFlags) settleAdminToken(fs *flag.FlagSet, args []string, log *slog.Logger) error {
	if f.tokenFile == "" {
		if onCommandLine(fs, args, "admin-token") {
			log.Warn("--admin-token is visible in ps to every local user: set STREAMSTACK_ADMIN_TOKEN or use --admin-token-file instead")
		}
		return nil
	}
	if f.adminToken != "" {
		return errors.New("both --admin-token and --admin-token-file are set (flags or STREAMSTACK_* variables): give one")
	}
	token, err := readSecretFile(f.tokenFile)
	if err != nil {
		return fmt.Errorf("--admin-token-file: %w", err)
	}
	f.adminToken = token
	return nil
}

// maxSecretFile bounds what readSecretFile reads.
const maxSecretFile = 4096

// readSecretFile reads a secret kept in a file of its own, without its
// trailing newline. As ssh does with a private key, it refuses a file that
// group or others may read or change: what they can read is no secret.
func readSecretFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return "", err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s has mode %#o: group or others may read or change it; chmod 600 it", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(file, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is longer than %d bytes", path, maxSecretFile)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return secret, nil
}

// ensureAdminToken registers the operator's token, or on a first start
// (no token at all yet) makes one to print.
func ensureAdminToken(ctx context.Context, js njs.JetStream, tokens *auth.Tokens, chosen string) (string, error) {
	if chosen != "" {
		_, err := tokens.Ensure(ctx, "admin", chosen)
		return "", err
	}
	list, err := tokens.List(ctx, js)
	if err != nil || len(list) > 0 {
		return "", err
	}
	secret, _, err := tokens.Create(ctx, "admin")
	return secret, err
}

// credentialsPath is where serve keeps the embedded NATS users: "client" for
// NATS users (session service, signaling, events), "internal" for
// streamstack itself.
func credentialsPath(stateDir string) string {
	return filepath.Join(stateDir, "nats-users.json")
}
