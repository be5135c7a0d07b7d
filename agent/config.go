package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/reconcile"
	"github.com/streamstack/streamstack/session"
)

// Config configures an agent.
type Config struct {
	// ID names the agent in heartbeats and session records. Empty: the
	// host name and a digest of StateDir (StableID), so an agent restarted
	// on the same host and state dir is the same agent and finds its
	// sessions; with no StateDir either, a random suffix.
	ID string
	// StateDir is the agent's directory on this host: it derives the
	// default ID and holds the lock (agent-<id>.lock) that keeps a second
	// agent of the same id off this host while one runs. Empty: no lock.
	StateDir string
	// Region this agent serves; sessions asking for another region skip it.
	Region string
	// MaxSessions caps sessions on this agent whatever the capacity says.
	MaxSessions int
	// Cores the agent may use for software encoding. Zero: all of them.
	Cores int
	// UnitsPerCore, when positive, is the software encoder capacity of one
	// core for every codec, in units of one 720p30 stream, used as is.
	// Zero: measured at start by a short calibration encode per codec
	// (encoders.Calibrate), less Headroom.
	UnitsPerCore float64
	// ViewerUnits is what each peer of a session beyond its first costs, in
	// units of a 720p30 stream's encode, scaled by the session's screen
	// like the session itself (docs/peers.md): the peers share one encode,
	// each adds its packets' sending and encryption. It is added to the
	// session's pool while the peers are connected, so a host full of
	// watched sessions admits fewer new ones.
	ViewerUnits float64
	// Headroom is the share of the calibrated software capacity left for
	// capture, packetization and the applications themselves (0.5: half).
	Headroom float64
	// CodecCost refines what a codec costs on any pool, as a factor on its
	// measured or declared cost ("H264": 1.2 makes H.264 sessions 20%
	// dearer). Missing codecs: 1.
	CodecCost map[string]float64
	// PoolUnits sets a hardware pool's capacity in 720p30 streams, instead
	// of encoders.HardwareUnits' table: by device pool ("nvenc1",
	// "vaapi-renderD128") or for every device of a kind ("nvenc",
	// "vaapi"); the device's own entry wins.
	PoolUnits map[string]float64
	// VAAPIDevice is the DRM render node the VA-API encoders open; empty:
	// /dev/dri/renderD128.
	VAAPIDevice string
	// HardwareWait is how long a request waits for a hardware encoder when
	// another live agent advertises one free that it fits, before an agent
	// with only software free takes it. Zero: software at once.
	HardwareWait time.Duration
	// Inventory, when set, is the agent's encoder backends instead of
	// probing this host: for tests, and for an operator who pins them.
	Inventory []encoders.Status
	// PlacementTimeout is how long a request may wait for capacity before
	// the session ends with reason "no capacity".
	PlacementTimeout time.Duration
	// AckWait is how long a request an agent took may go without an
	// acknowledgement before the work queue offers it to another agent.
	// An agent sends in-progress acknowledgements while it works on one,
	// so only a dead or stuck agent loses it; short, so that the request
	// of an agent that died still has most of PlacementTimeout to be
	// placed elsewhere. It must be under PlacementTimeout. Zero: a sixth
	// of PlacementTimeout (5 s for its default).
	AckWait time.Duration
	// PullExpiry is how long one pull request for placement requests
	// lives on the server; its idle heartbeat is half of it. Short, so
	// that the agent's pull moves to a live NATS node within seconds of
	// losing one. At least a second.
	PullExpiry time.Duration
	// ReconcileInterval is how often the agent contends for the
	// reconciler's lease and, holding it, ends the sessions of agents
	// whose heartbeat expired (package reconcile); it must be under half
	// the agents bucket's TTL. Zero: this agent runs no reconciler.
	ReconcileInterval time.Duration
	// ReconcileFullScan is how often the lease holder reads every session
	// record even when it saw no agent go.
	ReconcileFullScan time.Duration
	// RetryDelay is how long a request this agent cannot take now waits
	// before it is offered again.
	RetryDelay time.Duration
	// HeartbeatInterval between capacity reports; the agents bucket TTL must
	// be a few of these.
	HeartbeatInterval time.Duration
	// ReprobeInterval is how long a hardware pool stays degraded after a
	// session's encoder on it failed or stalled (the streamer moved the
	// session to software) before the agent tries it again with a real
	// test encode; a pool that fails it waits another interval. Zero:
	// degraded until the agent restarts.
	ReprobeInterval time.Duration
	// StopTimeout is how long a streamer gets to exit after it is told to,
	// before SIGTERM and then SIGKILL.
	StopTimeout time.Duration
	// StreamerCommand starts a streamer; the agent appends --session-id,
	// hands it NATSURL on a pipe at descriptor 3, named by
	// STREAMSTACK_NATS_CREDENTIALS_FD, and sets STREAMSTACK_NATS_URL to
	// the URL without credentials. Defaults to this binary's "streamer"
	// subcommand.
	StreamerCommand []string
	// RunStreamer, when set, runs a session's streamer on a goroutine of
	// the agent's process instead of StreamerCommand: a session then costs
	// no Go runtime, NATS connection and scheduler of its own (see
	// BENCHMARKS.md, Density), at the price of isolation: a crash of one
	// streamer ends every session of the agent. It returns when the
	// session has ended; cancelling ctx asks it to end, as SIGTERM does.
	// env is what a child process would get besides the inherited
	// environment (StreamerEnv, the session id, its runtime directory):
	// read it as `streamstack streamer` does, so the two ways cannot drift.
	RunStreamer func(ctx context.Context, sessionID string, env []string) error
	// HostSessions, when positive, runs streamers on streamer hosts
	// (HostCommand) of up to this many sessions each instead of a process
	// per session: a session is handed to a host already running, so it
	// waits for no process start and its streamer shares a Go runtime
	// with a few others; a host that crashes ends at most this many
	// sessions. Zero: StreamerCommand, a process per session.
	HostSessions int
	// HostSpares is how many hosts with a free slot the agent keeps
	// running ahead of requests (HostSessions only); at least 1.
	HostSpares int
	// HostProcs is each streamer host's GOMAXPROCS (unless StreamerEnv
	// sets one): the Go side of its sessions (packets, signaling) on so
	// many threads, their encoders' C calls beside them. 1 by default:
	// many hosts each with a P per core contend on the host's cores, and
	// late frames came at 10 VP8 720p30 sessions on 2 cores against 13
	// with 1 (BENCHMARKS.md, Density). 0: Go's default, every core.
	HostProcs int
	// HostCommand starts a streamer host; the agent appends --sessions,
	// --requests-fd and --events-fd. Defaults to this binary's
	// "streamer-host" subcommand.
	HostCommand []string
	// WarmMax caps the warm apps (the catalogue's warm) this agent keeps
	// started at once, over every app; 0: none. Warm apps need streamer
	// hosts (HostSessions).
	WarmMax int
	// WarmRetryDelay is how long the agent waits before it starts warm
	// apps again after a start failed, or after a session found no app
	// budget and a warm app was stopped for it.
	WarmRetryDelay time.Duration
	// StreamerNATSURL, when set, is the NATS URL the streamer of one session
	// gets instead of NATSURL: the embedded server's per-session streamer
	// user (jetstream.StreamerUser), so a streamer's credential reaches
	// nothing of another session.
	StreamerNATSURL func(sessionID string) string
	// NATSURL is passed to streamers so they reach the same NATS; its
	// credentials stay out of their environment (StreamerCommand).
	NATSURL string
	// StreamerEnv is added to the streamers' environment, which every
	// process of their user may read: no secrets. The agent's own
	// STREAMSTACK_NATS_URL, STREAMSTACK_ADMIN_TOKEN and
	// STREAMSTACK_TURN_SECRET are not passed on.
	StreamerEnv []string
	// Apps is the applications catalogue a session's app is looked up in,
	// to charge an X11 app's container limits (Limits.WithDefaults: CPU
	// and MemoryMB) against AppCPU and AppMemoryMB. It must be the
	// catalogue the gateway and the streamers use. Nil: the file that
	// STREAMSTACK_APPS_FILE in StreamerEnv names (what the streamers
	// load), else apps.Default(). An app it does not list costs
	// apps.DefaultLimits().
	Apps *apps.Catalog
	// AppCPU is the cores the X11 apps of this agent's sessions may have
	// in total: a session is admitted only while the sum of its app's
	// CPU quota and those of the apps running stays within it. Zero:
	// every core of the host (runtime.NumCPU), none held back: a CPU
	// quota is a ceiling an app seldom reaches, and the software encoders'
	// units already leave Headroom for the apps beside them.
	AppCPU float64
	// AppMemoryMB is the memory in MiB those apps may have in total (the
	// sum of their memory limits). Zero: the host's MemTotal less a
	// reserve for the stack itself, the larger of 512 MiB and a tenth of
	// it (appBudgetOf in capacity.go).
	AppMemoryMB int
	// AppIsolation is how this agent's streamers run X11 apps (the
	// streamers' --app-isolation): "container" (empty too) or "none".
	// With containers the agent runs a test container at start and, where
	// it fails, says why and takes no X11 session; it deletes a
	// session's container after its streamer, however that ended.
	AppIsolation string
	// Containers are the runtime and uid slots the streamers use.
	Containers container.Runtime
	AppSlots   container.Slots
}

// DefaultConfig returns a config for this host.
func DefaultConfig() Config {
	return Config{
		Region:            "local",
		MaxSessions:       16,
		Headroom:          0.5,
		ViewerUnits:       0.05,
		HardwareWait:      2 * time.Second,
		PlacementTimeout:  30 * time.Second,
		PullExpiry:        5 * time.Second,
		ReconcileInterval: reconcile.DefaultConfig().Interval,
		ReconcileFullScan: reconcile.DefaultConfig().FullScan,
		RetryDelay:        250 * time.Millisecond,
		HeartbeatInterval: 2 * time.Second,
		ReprobeInterval:   time.Minute,
		StopTimeout:       5 * time.Second,
		HostSpares:        1,
		HostProcs:         1,
		WarmMax:           4,
		WarmRetryDelay:    10 * time.Second,
	}
}

// StableID is the id of the agent on host with stateDir: the host name
// and a digest of the directory's absolute path, the same at every start,
// different for two agents on one host with their own state dirs.
func StableID(host, stateDir string) string {
	if host == "" {
		host = "agent"
	}
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	sum := sha256.Sum256([]byte(stateDir))
	return sanitize(host) + "-" + hex.EncodeToString(sum[:4])
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// withHostDefaults fills what depends on the host.
func (c Config) withHostDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "agent"
		}
		if c.StateDir != "" {
			c.ID = StableID(host, c.StateDir)
		} else {
			// The id's random end, not its time-ordered start: two agents
			// started in one minute (tests, a host's second agent) must not
			// share an id, or each would end the other's sessions and kill
			// its streamer hosts as left over (restart.go).
			id := session.NewID()
			c.ID = sanitize(host) + "-" + id[len(id)-8:]
		}
	}
	if c.Cores == 0 {
		c.Cores = runtime.NumCPU()
	}
	if c.AckWait == 0 {
		c.AckWait = c.PlacementTimeout / 6
	}
	return c
}

// ErrConfig reports an invalid agent config.
var ErrConfig = errors.New("agent: invalid config")

// Validate checks the config.
func (c Config) Validate() error {
	c = c.withHostDefaults()
	switch {
	case c.ID == "" || sanitize(c.ID) != c.ID:
		return fmt.Errorf("%w: id %q must be letters, digits, - or _", ErrConfig, c.ID)
	case c.MaxSessions <= 0:
		return fmt.Errorf("%w: max sessions must be positive", ErrConfig)
	case c.Cores <= 0 || c.UnitsPerCore < 0:
		return fmt.Errorf("%w: cores must be positive and units per core not negative", ErrConfig)
	case c.ViewerUnits < 0 || c.ViewerUnits > 1:
		return fmt.Errorf("%w: viewer units %v must be in [0, 1]", ErrConfig, c.ViewerUnits)
	case c.Headroom < 0 || c.Headroom >= 1:
		return fmt.Errorf("%w: headroom %v must be in [0, 1)", ErrConfig, c.Headroom)
	case c.HardwareWait < 0 || c.ReprobeInterval < 0:
		return fmt.Errorf("%w: hardware wait and re-probe interval must not be negative", ErrConfig)
	case !positive(c.CodecCost) || !positive(c.PoolUnits):
		return fmt.Errorf("%w: codec costs and pool units must be positive", ErrConfig)
	case c.PlacementTimeout <= 0 || c.RetryDelay <= 0 || c.HeartbeatInterval <= 0 || c.StopTimeout <= 0:
		return fmt.Errorf("%w: timeouts must be positive", ErrConfig)
	case c.AckWait <= 0 || c.AckWait >= c.PlacementTimeout:
		return fmt.Errorf("%w: ack wait %s must be positive and under the placement timeout %s, so a dead agent's request can still be placed", ErrConfig, c.AckWait, c.PlacementTimeout)
	case c.PullExpiry < time.Second:
		return fmt.Errorf("%w: pull expiry %s must be at least 1s", ErrConfig, c.PullExpiry)
	case c.ReconcileInterval < 0 || c.ReconcileInterval > 0 && c.ReconcileFullScan <= 0:
		return fmt.Errorf("%w: reconcile interval must not be negative, and its full scan positive", ErrConfig)
	case c.WarmMax < 0 || c.WarmMax > 0 && c.WarmRetryDelay <= 0:
		return fmt.Errorf("%w: warm max must not be negative, and its retry delay positive", ErrConfig)
	case c.HostProcs < 0:
		return fmt.Errorf("%w: streamer host procs must not be negative", ErrConfig)
	case c.HostSessions < 0 || c.HostSessions > 0 && c.HostSpares < 1:
		return fmt.Errorf("%w: streamer host sessions must not be negative, and hosts need a spare", ErrConfig)
	case c.NATSURL == "":
		return fmt.Errorf("%w: streamers need a NATS URL", ErrConfig)
	}
	return nil
}

func positive(m map[string]float64) bool {
	for _, v := range m {
		if v <= 0 {
			return false
		}
	}
	return true
}

func (c Config) probeConfig() encoders.ProbeConfig {
	return encoders.ProbeConfig{VAAPIDevice: c.VAAPIDevice, Cores: c.Cores, Headroom: c.Headroom,
		UnitsPerCore: c.UnitsPerCore, PoolUnits: c.PoolUnits}
}

// ProbeConfig is what Probe needs of this config: `streamstack encoders`
// prints what an agent with it would find.
func (c Config) ProbeConfig() encoders.ProbeConfig { return c.withHostDefaults().probeConfig() }

// SessionUnits is the encoder capacity a screen costs: one unit is one
// 720p30 stream, and cost scales with pixels times frame rate.
func SessionUnits(s session.Screen) float64 {
	u := float64(s.Width) * float64(s.Height) * float64(s.FPS) / (1280 * 720 * 30)
	return max(u, 0.05)
}
