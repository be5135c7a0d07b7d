package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"time"

	"github.com/streamstack/streamstack/apps"
	sjs "github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
)

// Config is the gateway's settings. Every limit is a named field so cmd can
// expose it as a flag; DefaultConfig gives working values.
type Config struct {
	// HTTPAddr is where cmd listens; Serve takes the listener it made.
	HTTPAddr string
	// PublicURL is the external base URL (http, https, ws or wss, with an
	// optional path prefix) the websocket URLs are built from. Empty derives
	// it from each request: wss when the request came over TLS or with
	// X-Forwarded-Proto https, the host from X-Forwarded-Host or Host.
	PublicURL string
	// TLSCertFile and TLSKeyFile, both set, make the gateway serve HTTPS
	// (and wss) itself with that PEM certificate and key, reloaded when the
	// files change (a renewal needs no restart).
	TLSCertFile, TLSKeyFile string
	// TrustedProxies are the reverse proxies (address ranges) whose
	// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For the gateway
	// believes: they shape the websocket URL (when PublicURL is empty) and
	// the same-origin check, and name the client address the create
	// quotas count. From any other peer those headers are ignored: a
	// client could otherwise make the gateway mint URLs to a host of its
	// choosing. Empty: none.
	TrustedProxies []netip.Prefix
	// AllowedOrigins are the origins (scheme://host[:port], "*" wildcards
	// in the host allowed, or "*" for any) whose pages may call the API and
	// open signaling websockets. The gateway's own origin always may; empty
	// refuses every other one (403). See cors.go.
	AllowedOrigins []string

	// MaxBodyBytes bounds an HTTP request body (413 beyond it).
	MaxBodyBytes int64
	// MaxFrameBytes bounds one websocket frame; a larger one closes the
	// websocket with status 1009.
	MaxFrameBytes int64
	// MaxFramesPerSecond and FrameBurst rate-limit what one websocket
	// sends; frames over the limit are dropped with an error frame.
	MaxFramesPerSecond float64
	FrameBurst         int
	// SessionTokenTTL is how long a session's websocket URL stays valid.
	SessionTokenTTL time.Duration
	// PublishTimeout bounds the wait for JetStream to store one frame.
	PublishTimeout time.Duration
	// WriteTimeout bounds one write to a websocket; a client that does not
	// read for that long is disconnected.
	WriteTimeout time.Duration
	// RequestTimeout bounds the NATS work of one API call.
	RequestTimeout time.Duration
	// TokenCacheTTL is how long an API token's lookup is reused (auth's
	// cache). A watch on the tokens bucket drops a revoked token at once,
	// so this only bounds what a missed watch keeps; it takes each token's
	// read off all but one call in TokenCacheTTL, and a cached token is
	// served past it while the bucket does not answer. 0: no cache.
	TokenCacheTTL time.Duration
	// MetricsAuth is who may read /metrics: MetricsAuthToken (the
	// default: any valid API token, read scope is enough; Prometheus sends
	// it with its scrape config's authorization) or MetricsAuthNone (open,
	// for a listener only a private scrape network reaches). /healthz and
	// /readyz stay open for load balancers: they tell nothing.
	MetricsAuth string
	// ReadyCacheTTL is how long one /readyz answer (a round trip to the
	// requests stream, the sessions and the tokens buckets) is reused:
	// load balancers may probe as often as they like, NATS sees one check
	// per TTL. 0 checks on every probe.
	ReadyCacheTTL time.Duration
	// CreatesPerIPPerSecond and CreateBurstPerIP bound the session creates
	// one client address may make with non-admin tokens (a token bucket
	// per address, kept by each gateway; the client behind a trusted
	// proxy, else the TCP peer); 0: no limit.
	CreatesPerIPPerSecond float64
	CreateBurstPerIP      int
	// CreatesPerTokenPerMinute bounds the creates of one non-admin API
	// token (per gateway); MaxActiveSessionsPerToken the sessions of one
	// non-admin token that have not ended (across the stack, from the
	// records). Admin tokens are the operator's and not bounded. 0: no
	// limit.
	CreatesPerTokenPerMinute  int
	MaxActiveSessionsPerToken int
	// ShutdownTimeout bounds the graceful shutdown of Serve.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request's headers (at most
	// HTTPReadTimeout: the shorter one applies).
	ReadHeaderTimeout time.Duration

	// The HTTP edge, which Serve enforces. HTTPReadTimeout bounds reading
	// a whole request, headers and body: a client that sends its headers
	// and then not its body is cut when it ends.
	HTTPReadTimeout time.Duration
	// HTTPWriteTimeout bounds a request from the end of its headers to the
	// last byte of its answer: the handler's work (RequestTimeout of NATS
	// at most) and the client reading the answer. Keep it above
	// RequestTimeout, or a slow NATS answer's 503 never reaches the client.
	// Websockets are exempt once upgraded (WriteTimeout bounds each of
	// their writes).
	HTTPWriteTimeout time.Duration
	// HTTPIdleTimeout is how long a keep-alive connection may wait for its
	// next request.
	HTTPIdleTimeout time.Duration
	// HTTPMaxConnsPerIP caps the connections open at once from one IP
	// address, websockets included; Serve closes one over the cap as soon
	// as it is accepted. The address is the TCP peer's: behind a reverse
	// proxy every client counts as the proxy. 0 is no cap.
	HTTPMaxConnsPerIP int

	// Signaling websockets. WSPingInterval is how often the gateway pings
	// each client; WSIdleTimeout is how long it waits for a pong or any
	// frame from it before it closes the websocket with status
	// StatusIdleTimeout (4408, "idle timeout"). WSIdleTimeout must be
	// longer than WSPingInterval, so a live client always has a ping to
	// answer in time. See keepalive.go.
	WSPingInterval time.Duration
	WSIdleTimeout  time.Duration
	// WSMaxPerSession caps the signaling websockets open at once for one
	// session, across every gateway on the same NATS: one more is refused
	// with 429 before the upgrade. Give every gateway the same value. 0 is
	// no cap. See sockslots.go.
	WSMaxPerSession int
	// MaxShareLinks caps a session's live share links; ShareLinkTTL is a
	// link's life when its create names none, ShareLinkMaxTTL the most it
	// may ask for (docs/peers.md). MaxGuestURLs caps the websocket URLs
	// share-link joins answered that a session keeps at once: one more
	// drops the oldest, whose URL then opens nothing.
	MaxShareLinks   int
	ShareLinkTTL    time.Duration
	ShareLinkMaxTTL time.Duration
	MaxGuestURLs    int
	// NATSEventSubscriptions caps the event subscriptions one API token's
	// NATS clients hold at once (events.subscribe); each is a consumer of
	// the event stream, whose consumers are bounded for everyone.
	NATSEventSubscriptions int

	// DefaultScreen fills the screen fields a create request leaves out.
	DefaultScreen session.Screen
	// Screen limits. A screen fits when it is within MaxScreenWidth x
	// MaxScreenHeight in either orientation (Android streams are often
	// portrait); width and height must be even (video encoders need it).
	MaxScreenWidth   int
	MaxScreenHeight  int
	MinFPS           int
	MaxFPS           int
	MaxScreenDensity int
	// MaxIdleTimeMin bounds a session's idle_time_min.
	MaxIdleTimeMin int
	// MaxNameBytes bounds the app and region fields.
	MaxNameBytes int
	// Listing and retention of session records; see config_records.go.
	Records

	// Apps is the applications catalogue: GET /1.0/applications lists it
	// and a session for an app it lacks is refused (404). Nil lists the
	// built-ins (apps.Default) and accepts any app name.
	Apps *apps.Catalog

	// RequireCapacity makes create answer 503 when no live agent (in the
	// requested region, if any) has free units on an encoder of one of the
	// session's video_codecs (any codec when it names none). Off by
	// default: a request
	// waits in the work queue until an agent admits it or the agent's
	// placement timeout ends it with reason "no capacity".
	RequireCapacity bool
}

// maxSignalMsgBytes is the largest frame the signaling stream stores
// (jetstream.SignalMaxPayload): a larger one could never be relayed.
const maxSignalMsgBytes = sjs.SignalMaxPayload

// Who may read /metrics (Config.MetricsAuth).
const (
	MetricsAuthToken = "token"
	MetricsAuthNone  = "none"
)

// DefaultConfig suits a single host.
func DefaultConfig() Config {
	return Config{
		HTTPAddr:           ":8080",
		MaxBodyBytes:       64 << 10,
		MaxFrameBytes:      64 << 10,
		MaxFramesPerSecond: 200,
		FrameBurst:         400,
		SessionTokenTTL:    10 * time.Minute,
		PublishTimeout:     5 * time.Second,
		WriteTimeout:       10 * time.Second,
		RequestTimeout:     10 * time.Second,
		TokenCacheTTL:      5 * time.Second,
		MetricsAuth:        MetricsAuthToken,
		ReadyCacheTTL:      time.Second,

		CreatesPerIPPerSecond:     10,
		CreateBurstPerIP:          20,
		CreatesPerTokenPerMinute:  60,
		MaxActiveSessionsPerToken: 20,
		ShutdownTimeout:           10 * time.Second,
		ReadHeaderTimeout:         10 * time.Second,
		HTTPReadTimeout:           10 * time.Second,
		HTTPWriteTimeout:          30 * time.Second,
		HTTPIdleTimeout:           60 * time.Second,
		HTTPMaxConnsPerIP:         64,
		WSPingInterval:            15 * time.Second,
		WSIdleTimeout:             45 * time.Second,
		WSMaxPerSession:           12,
		MaxShareLinks:             5,
		ShareLinkTTL:              12 * time.Hour,
		ShareLinkMaxTTL:           30 * 24 * time.Hour,
		MaxGuestURLs:              16,
		NATSEventSubscriptions:    8,
		DefaultScreen:             session.Screen{Width: 1280, Height: 720, FPS: 30, Density: 240},
		MaxScreenWidth:            3840,
		MaxScreenHeight:           2160,
		MinFPS:                    1,
		MaxFPS:                    120,
		MaxScreenDensity:          960,
		MaxIdleTimeMin:            24 * 60,
		MaxNameBytes:              256,
		Records:                   DefaultRecords(),
	}
}

// Validate reports every setting out of range at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.PublicURL != "" {
		if _, err := wsBase(c.PublicURL); err != nil {
			bad("PublicURL: %v", err)
		}
	}
	if err := checkOrigins(c.AllowedOrigins); err != nil {
		bad("%v", err)
	}
	if c.MaxBodyBytes <= 0 {
		bad("MaxBodyBytes must be positive, got %d", c.MaxBodyBytes)
	}
	if c.MaxFrameBytes <= 0 || c.MaxFrameBytes > maxSignalMsgBytes {
		bad("MaxFrameBytes must be between 1 and %d (the signaling stream's message limit), got %d", maxSignalMsgBytes, c.MaxFrameBytes)
	}
	if c.MaxFramesPerSecond <= 0 {
		bad("MaxFramesPerSecond must be positive, got %g", c.MaxFramesPerSecond)
	}
	if c.FrameBurst < 1 {
		bad("FrameBurst must be at least 1, got %d", c.FrameBurst)
	}
	if c.TokenCacheTTL < 0 {
		bad("TokenCacheTTL must not be negative, got %s", c.TokenCacheTTL)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"SessionTokenTTL", c.SessionTokenTTL},
		{"PublishTimeout", c.PublishTimeout},
		{"WriteTimeout", c.WriteTimeout},
		{"RequestTimeout", c.RequestTimeout},
		{"ShutdownTimeout", c.ShutdownTimeout},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout},
		{"HTTPReadTimeout", c.HTTPReadTimeout},
		{"HTTPWriteTimeout", c.HTTPWriteTimeout},
		{"HTTPIdleTimeout", c.HTTPIdleTimeout},
		{"WSPingInterval", c.WSPingInterval},
		{"WSIdleTimeout", c.WSIdleTimeout},
	} {
		if d.v <= 0 {
			bad("%s must be positive, got %s", d.name, d.v)
		}
	}
	if c.SessionTokenTTL > 0 && c.SessionTokenTTL < time.Second {
		bad("SessionTokenTTL must be at least 1s (tokens carry whole seconds), got %s", c.SessionTokenTTL)
	}
	if c.CreatesPerIPPerSecond < 0 || c.CreateBurstPerIP < 0 || c.CreatesPerTokenPerMinute < 0 || c.MaxActiveSessionsPerToken < 0 {
		bad("create quotas must not be negative (0 is none)")
	}
	if c.CreatesPerIPPerSecond > 0 && c.CreateBurstPerIP < 1 {
		bad("CreateBurstPerIP must be at least 1 with a per-address rate, got %d", c.CreateBurstPerIP)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLSCertFile and TLSKeyFile go together: set both or neither")
	}
	if c.MetricsAuth != MetricsAuthToken && c.MetricsAuth != MetricsAuthNone {
		bad("MetricsAuth must be %q or %q, got %q", MetricsAuthToken, MetricsAuthNone, c.MetricsAuth)
	}
	if c.ReadyCacheTTL < 0 {
		bad("ReadyCacheTTL must not be negative (0 checks on every probe), got %s", c.ReadyCacheTTL)
	}
	if c.HTTPMaxConnsPerIP < 0 {
		bad("HTTPMaxConnsPerIP must not be negative (0 is no cap), got %d", c.HTTPMaxConnsPerIP)
	}
	if c.WSPingInterval > 0 && c.WSIdleTimeout > 0 && c.WSIdleTimeout <= c.WSPingInterval {
		bad("WSIdleTimeout (%s) must be longer than WSPingInterval (%s): a client needs a ping to answer before it counts as idle", c.WSIdleTimeout, c.WSPingInterval)
	}
	if c.NATSEventSubscriptions < 1 || c.NATSEventSubscriptions > maxSocketSlots {
		bad("NATSEventSubscriptions must be between 1 and %d, got %d", maxSocketSlots, c.NATSEventSubscriptions)
	}
	if c.MaxShareLinks < 0 || c.MaxShareLinks > 100 {
		bad("MaxShareLinks must be between 0 (no links) and 100, got %d", c.MaxShareLinks)
	}
	if c.ShareLinkTTL < time.Second || c.ShareLinkMaxTTL < c.ShareLinkTTL {
		bad("ShareLinkTTL must be at least 1s and ShareLinkMaxTTL at least it, got %s and %s", c.ShareLinkTTL, c.ShareLinkMaxTTL)
	}
	if c.MaxGuestURLs < 1 || c.MaxGuestURLs > 256 {
		bad("MaxGuestURLs must be between 1 and 256, got %d", c.MaxGuestURLs)
	}
	if c.WSMaxPerSession < 0 || c.WSMaxPerSession > maxSocketSlots {
		bad("WSMaxPerSession must be between 0 (no cap) and %d, got %d", maxSocketSlots, c.WSMaxPerSession)
	}
	if c.MaxScreenWidth < 2 || c.MaxScreenHeight < 2 {
		bad("MaxScreenWidth and MaxScreenHeight must be at least 2, got %dx%d", c.MaxScreenWidth, c.MaxScreenHeight)
	}
	if c.MinFPS < 1 || c.MaxFPS < c.MinFPS {
		bad("need 1 <= MinFPS <= MaxFPS, got %d and %d", c.MinFPS, c.MaxFPS)
	}
	if c.MaxScreenDensity < 1 {
		bad("MaxScreenDensity must be positive, got %d", c.MaxScreenDensity)
	}
	if c.MaxIdleTimeMin < 0 {
		bad("MaxIdleTimeMin must not be negative, got %d", c.MaxIdleTimeMin)
	}
	if c.MaxNameBytes < 1 {
		bad("MaxNameBytes must be positive, got %d", c.MaxNameBytes)
	}
	c.Records.validate(bad)
	if len(errs) == 0 {
		// The default screen must pass the same checks as a request's.
		if err := c.checkScreen(c.DefaultScreen, "DefaultScreen"); err != nil {
			bad("%v", err)
		}
	}
	return errors.Join(errs...)
}

// checkScreen validates a complete screen; prefix names the field in the
// message ("screen" for a request, "DefaultScreen" for the config).
func (c Config) checkScreen(s session.Screen, prefix string) error {
	switch {
	case s.Width <= 0 || s.Width%2 != 0:
		return fmt.Errorf("%s.width must be a positive even number, got %d", prefix, s.Width)
	case s.Height <= 0 || s.Height%2 != 0:
		return fmt.Errorf("%s.height must be a positive even number, got %d", prefix, s.Height)
	case !(s.Width <= c.MaxScreenWidth && s.Height <= c.MaxScreenHeight) &&
		!(s.Width <= c.MaxScreenHeight && s.Height <= c.MaxScreenWidth):
		return fmt.Errorf("%s %dx%d is larger than %dx%d", prefix, s.Width, s.Height, c.MaxScreenWidth, c.MaxScreenHeight)
	case s.FPS < c.MinFPS || s.FPS > c.MaxFPS:
		return fmt.Errorf("%s.fps must be between %d and %d, got %d", prefix, c.MinFPS, c.MaxFPS, s.FPS)
	case s.Density < 1 || s.Density > c.MaxScreenDensity:
		return fmt.Errorf("%s.density must be between 1 and %d, got %d", prefix, c.MaxScreenDensity, s.Density)
	}
	return nil
}

// wsBase turns a public base URL into the ws/wss base the websocket URLs
// start with, without a trailing slash.
func wsBase(public string) (string, error) {
	u, err := url.Parse(public)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("scheme must be http, https, ws or wss, got %q", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("missing host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("must not carry a query, fragment or user info")
	}
	u.Path = trimSlash(u.Path)
	u.RawPath = ""
	return u.String(), nil
}

func trimSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
