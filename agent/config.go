package agent

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/streamstack/streamstack/session"
)

// Config configures an agent.
type Config struct {
	// ID names the agent in heartbeats and session records. Empty: the
	// host name and a random suffix.
	ID string
	// Region this agent serves; sessions asking for another region skip it.
	Region string
	// MaxSessions caps sessions on this agent whatever the capacity says.
	MaxSessions int
	// Cores the agent may use for software encoding. Zero: all of them.
	Cores int
	// UnitsPerCore is the software encoder capacity of one core, in units of
	// one 720p30 stream. libvpx realtime encodes about 143 720p frames per
	// CPU-second here, so one core could carry four 720p30 streams; 2 leaves
	// room for capture, packetization and the application itself.
	UnitsPerCore float64
	// PlacementTimeout is how long a request may wait for capacity before
	// the session ends with reason "no capacity".
	PlacementTimeout time.Duration
	// RetryDelay is how long a request this agent cannot take now waits
	// before it is offered again.
	RetryDelay time.Duration
	// HeartbeatInterval between capacity reports; the agents bucket TTL must
	// be a few of these.
	HeartbeatInterval time.Duration
	// StopTimeout is how long a streamer gets to exit after it is told to,
	// before SIGTERM and then SIGKILL.
	StopTimeout time.Duration
	// StreamerCommand starts a streamer; the agent appends --session-id and
	// sets STREAMSTACK_NATS_URL. Defaults to this binary's
	// "streamer" subcommand.
	StreamerCommand []string
	// NATSURL is passed to streamers so they reach the same NATS.
	NATSURL string
	// StreamerEnv is added to the streamers' environment.
	StreamerEnv []string
}

// DefaultConfig returns a config for this host.
func DefaultConfig() Config {
	return Config{
		Region:            "local",
		MaxSessions:       16,
		UnitsPerCore:      2,
		PlacementTimeout:  30 * time.Second,
		RetryDelay:        250 * time.Millisecond,
		HeartbeatInterval: 2 * time.Second,
		StopTimeout:       5 * time.Second,
	}
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
		c.ID = sanitize(host) + "-" + session.NewID()[:6]
	}
	if c.Cores == 0 {
		c.Cores = runtime.NumCPU()
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
	case c.Cores <= 0 || c.UnitsPerCore <= 0:
		return fmt.Errorf("%w: cores and units per core must be positive", ErrConfig)
	case c.PlacementTimeout <= 0 || c.RetryDelay <= 0 || c.HeartbeatInterval <= 0 || c.StopTimeout <= 0:
		return fmt.Errorf("%w: timeouts must be positive", ErrConfig)
	case c.NATSURL == "":
		return fmt.Errorf("%w: streamers need a NATS URL", ErrConfig)
	}
	return nil
}

// SessionUnits is the encoder capacity a screen costs: one unit is one
// 720p30 stream, and cost scales with pixels times frame rate.
func SessionUnits(s session.Screen) float64 {
	u := float64(s.Width) * float64(s.Height) * float64(s.FPS) / (1280 * 720 * 30)
	return max(u, 0.05)
}
