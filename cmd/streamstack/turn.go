package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/flagenv"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/turn"
)

// listFlag is a comma-separated list setting.
type listFlag struct{ v *[]string }

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}

func (l listFlag) Set(s string) error {
	*l.v = turn.SplitList(s)
	return nil
}

// turnFlags are the STUN/TURN settings: the embedded server's (serve
// only) and which server sessions are given, with what credentials.
type turnFlags struct {
	embedded   *turn.Config // nil unless registered
	listen     string
	publicIP   string
	allowPeers string
	secret     string
	ttl        time.Duration
	urls       []string
	tlsListen  string
}

func addTURNFlags(fs *flag.FlagSet, embedded bool) *turnFlags {
	f := &turnFlags{ttl: turn.DefaultCredentialTTL}
	if embedded {
		c := turn.DefaultConfig()
		f.embedded, f.listen = &c, c.Listen
		fs.StringVar(&f.listen, "turn-listen", f.listen, "where the embedded STUN/TURN server listens, UDP and TCP on one port; empty or \"off\" runs none")
		fs.StringVar(&f.publicIP, "turn-public-ip", "", "address clients reach the embedded TURN server and its relays at; empty: the --turn-listen host when it is one address, else this host's first non-loopback IPv4, else 127.0.0.1")
		fs.Var(portFlag{&c.RelayPortMin}, "turn-relay-port-min", "lowest UDP port of the embedded TURN server's relays")
		fs.Var(portFlag{&c.RelayPortMax}, "turn-relay-port-max", "highest UDP port of the embedded TURN server's relays")
		fs.StringVar(&f.tlsListen, "turn-tls-listen", "0.0.0.0:5349", "where the embedded TURN server also serves TURN over TLS (turns:) with the gateway's --tls-cert, when that is set; \"off\": not at all")
		fs.IntVar(&c.MaxAllocations, "turn-max-allocations", c.MaxAllocations, "most live relay allocations one session's TURN credential may hold on the embedded server; 0: no limit")
		fs.DurationVar(&c.AllocationLifetime, "turn-allocation-lifetime", c.AllocationLifetime, "how long an allocation on the embedded TURN server lives between the client's refreshes: a session's relays end at most this long after the session")
		fs.IntVar(&c.MaxRelayKbps, "turn-max-relay-kbps", c.MaxRelayKbps, "bitrate cap of each relay of the embedded TURN server, each way (packets over it are dropped); 0: none")
		fs.StringVar(&f.allowPeers, "turn-allow-peers", "", "peer ranges (CIDR, comma-separated) the embedded TURN server may relay to although they are private, loopback, link-local or metadata addresses, which it refuses by default")
	}
	fs.StringVar(&f.secret, "turn-secret", "", "TURN shared secret (an external coturn's static-auth-secret), stored for the cluster; empty: the cluster's, generated on the first start")
	fs.DurationVar(&f.ttl, "turn-credential-ttl", f.ttl, "how long a session's TURN credential stays valid")
	fs.Var(listFlag{&f.urls}, "turn-urls", "STUN/TURN URLs (comma-separated) of an external TURN server sharing --turn-secret, such as coturn, given to sessions instead of the embedded server's; setting them runs no embedded server")
	return f
}

// portFlag is a port number setting.
type portFlag struct{ p *uint16 }

func (f portFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.Itoa(int(*f.p))
}

func (f portFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return fmt.Errorf("port %q: not a number from 0 to 65535", s)
	}
	*f.p = uint16(n)
	return nil
}

// options builds serve's TURN options: the embedded server unless
// --turn-urls names another or --turn-listen is empty.
func (f *turnFlags) options() (localstack.TURNOptions, error) {
	o := localstack.TURNOptions{URLs: f.urls, Secret: f.secret, CredentialTTL: f.ttl}
	if err := turn.CheckURLs(f.urls); err != nil {
		return o, err
	}
	if f.ttl <= 0 {
		return o, fmt.Errorf("--turn-credential-ttl must be positive, got %s", f.ttl)
	}
	if f.embedded == nil || len(f.urls) > 0 || f.listen == "" || f.listen == "off" {
		return o, nil
	}
	c := *f.embedded // validated by turn.Start, once the secret is loaded
	c.Listen, c.PublicIP = f.listen, f.publicIP
	allow, err := turn.ParsePrefixes(f.allowPeers)
	if err != nil {
		return o, err
	}
	c.Peers.Allow = allow
	o.Embedded = &c
	return o, nil
}

// gatewayICEServers is a standalone gateway's Deps.ICEServers, from
// --turn-urls and the cluster's secret; nil without URLs.
func (f *turnFlags) gatewayICEServers(ctx context.Context, tokens njs.KeyValue) (func(string) []gateway.StunServer, error) {
	if len(f.urls) == 0 {
		return nil, nil
	}
	if err := turn.CheckURLs(f.urls); err != nil {
		return nil, err
	}
	secret, err := turn.LoadSecret(ctx, tokens, f.secret)
	if err != nil {
		return nil, err
	}
	issuer := &turn.Issuer{URLs: f.urls, Secret: secret, TTL: f.ttl}
	return func(id string) []gateway.StunServer {
		var out []gateway.StunServer
		for _, s := range issuer.ICEServers(id) {
			out = append(out, gateway.StunServer{URLs: s.URLs, Username: s.Username, Password: s.Password})
		}
		return out
	}, nil
}

// streamerICEFlags are the streamer's NAT-traversal settings. serve and
// agent take them too and pass those that differ from the default down to
// their streamers as STREAMSTACK_* variables.
var streamerICEFlags = []string{"ice-port-min", "ice-port-max", "ice-nat-1to1-ips", "ice-tcp", "ice-lite", "ice-relay-only", "ice-relay-wait"}

func addICEFlags(fs *flag.FlagSet, c *streamer.Config, iceTCP *bool) {
	fs.Var(portFlag{&c.UDPPortMin}, "ice-port-min", "lowest UDP port ICE binds, and the range the ICE-TCP port comes from; 0 with --ice-port-max 0: any")
	fs.Var(portFlag{&c.UDPPortMax}, "ice-port-max", "highest UDP port ICE binds; 0 with --ice-port-min 0: any")
	fs.Var(listFlag{&c.NAT1To1IPs}, "ice-nat-1to1-ips", "public addresses (comma-separated) to advertise as host candidates on a host behind a 1:1 NAT, such as a cloud VM's floating IP")
	fs.BoolVar(iceTCP, "ice-tcp", false, "also offer passive ICE-TCP candidates on one TCP port, for clients whose firewall passes only TCP")
	fs.BoolVar(&c.ICELite, "ice-lite", c.ICELite, "run ICE-lite (host candidates only, the client does the checks): for hosts with a public address")
	fs.BoolVar(&c.RelayOnly, "ice-relay-only", c.RelayOnly, "gather relay candidates only: all media goes through TURN and no host address is revealed")
	fs.DurationVar(&c.RelayAcceptanceMinWait, "ice-relay-wait", c.RelayAcceptanceMinWait, "how long after checks start the streamer may nominate a relay pair, so that a direct pair a round trip behind wins; relay-only mode does not wait")
}

// passDownEnv returns a STREAMSTACK_* variable for each of names whose
// value differs from its default, for the streamers' environment.
func passDownEnv(fs *flag.FlagSet, names ...string) []string {
	var env []string
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			continue
		}
		if v := f.Value.String(); v != f.DefValue {
			env = append(env, flagenv.EnvName(n)+"="+v)
		}
	}
	return env
}

// addStreamerTURNFlags registers the TURN settings a streamer gets from
// its agent.
func addStreamerTURNFlags(fs *flag.FlagSet, c *streamer.Config) {
	fs.Var(listFlag{&c.TURNURLs}, "turn-urls", "STUN/TURN URLs (comma-separated) the streamer uses, with a credential per client connection (set by the agent)")
	fs.StringVar(&c.TURNSecret, "turn-secret", "", "TURN shared secret; empty: the cluster's, from NATS")
	fs.DurationVar(&c.TURNCredentialTTL, "turn-credential-ttl", c.TURNCredentialTTL, "how long a TURN credential stays valid")
}

// prepareStreamerNAT loads the TURN secret when the streamer has TURN URLs
// and opens the ICE-TCP listener when asked; the returned func closes it.
func prepareStreamerNAT(ctx context.Context, cfg *streamer.Config, iceTCP bool, tokens njs.KeyValue, log *slog.Logger) (func(), error) {
	if turn.NeedsCredential(cfg.TURNURLs) {
		secret, err := turn.LoadSecret(ctx, tokens, cfg.TURNSecret)
		if err != nil {
			return nil, err
		}
		cfg.TURNSecret = secret
	}
	if !iceTCP {
		return func() {}, nil
	}
	mux, err := streamer.ListenICETCP(*cfg, log)
	if err != nil {
		return nil, err
	}
	cfg.ICETCPMux = mux
	return func() { _ = mux.Close() }, nil
}

// withTLS adds the embedded server's turns: listener, with the gateway's
// certificate and, in its URL, the host of the gateway's public URL (what
// the certificate names); nothing without a certificate or with
// --turn-tls-listen off.
func (f *turnFlags) withTLS(o *localstack.TURNOptions, g *gateway.Config) error {
	if o.Embedded == nil || g.TLSCertFile == "" || f.tlsListen == "" || f.tlsListen == "off" {
		return nil
	}
	certs, err := certfile.New(g.TLSCertFile, g.TLSKeyFile)
	if err != nil {
		return err
	}
	o.Embedded.TLSListen, o.Embedded.Certificate = f.tlsListen, certs.GetCertificate
	if g.PublicURL != "" {
		if u, err := url.Parse(g.PublicURL); err == nil {
			o.Embedded.TLSHost = u.Hostname()
		}
	}
	return nil
}
