package streamer

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/streamer/protocol"
	"github.com/streamstack/streamstack/subjects"
	"github.com/streamstack/streamstack/turn"
)

// Config configures one streamer, which serves one session. Every limit
// is a named field; DefaultConfig fills them all.
type Config struct {
	// SessionID is the session the streamer serves.
	SessionID string
	// Source names this component in session events ("streamer/host1").
	Source string

	// DisconnectGrace is how long an ephemeral session outlives its client
	// after stream::disconnect or a closed peer connection: a reload comes
	// back within it on a new connection and finds the session still there.
	DisconnectGrace time.Duration
	// ConnectTimeout bounds the time from a client's first frame to ICE
	// connected; a peer that takes longer is dropped as failed.
	ConnectTimeout time.Duration
	// ClientConnectTimeout ends a session whose first client has not
	// connected (ICE connected) this long after the streamer was ready,
	// with reason "no client": a session nobody joins must not hold its
	// capacity forever. Zero: never.
	ClientConnectTimeout time.Duration
	// IdleUnit is the unit of the record's idle_time_min: a minute, which
	// tests shorten.
	IdleUnit time.Duration
	// StatusTimeout bounds each write of the session record.
	StatusTimeout time.Duration
	// StatsInterval is how often a connected session's counters go out as
	// a session.stats event; zero sends none.
	StatsInterval time.Duration

	// ICEServers are passed to every PeerConnection (STUN/TURN).
	ICEServers []webrtc.ICEServer
	// UDPPortMin and UDPPortMax restrict the ports ICE binds; both zero
	// leaves the choice to the OS.
	UDPPortMin, UDPPortMax uint16
	// NAT1To1IPs are public addresses to advertise as host candidates for
	// a host behind a 1:1 NAT (a cloud VM's floating IP).
	NAT1To1IPs []string
	// NetworkTypes restricts ICE to these network types; empty means UDP
	// over IPv4 and IPv6.
	NetworkTypes []webrtc.NetworkType
	// IncludeLoopback gathers loopback host candidates too: for tests and
	// single-host setups without another interface.
	IncludeLoopback bool
	// MDNSQuery resolves clients' mDNS (.local) host candidates by
	// multicast. Off by default: a server seldom shares a link with its
	// clients, and those clients are reached through peer-reflexive
	// candidates anyway.
	MDNSQuery bool

	// TURNURLs are the stun:/turn: URLs of a TURN server that shares
	// TURNSecret (the embedded one or coturn). Every client connection
	// gets them with a credential made then, in the TURN REST API scheme
	// (username "<expiry>:<session id>", valid TURNCredentialTTL), so a
	// joinable session that outlives one credential still relays. cmd
	// reads the secret from the cluster's tokens bucket.
	TURNURLs          []string
	TURNSecret        string
	TURNCredentialTTL time.Duration
	// ICETCPMux, when set, adds passive ICE-TCP host candidates on its one
	// listener, for clients behind firewalls that pass only TCP. Its owner
	// opens it with ListenICETCP and closes it after Run.
	ICETCPMux ice.TCPMux
	// ICELite makes the streamer an ICE-lite agent (RFC 8445 2.5): host
	// candidates only, always the controlled side, answering checks
	// instead of sending them. For hosts with a public address, directly
	// or through NAT1To1IPs.
	ICELite bool
	// RelayOnly gathers relay candidates only (ICETransportPolicy relay):
	// all media goes through TURN and no host address is revealed.
	RelayOnly bool

	// Candidate acceptance waits of the controlling ICE agent: how long
	// after checks start a succeeded pair of each remote candidate type
	// may be nominated. pion's defaults (0, 500 ms, 1 s, 2 s) make an
	// offerer wait a full second for the peer-reflexive pair every browser
	// produces; see ice.go.
	HostAcceptanceMinWait  time.Duration
	SrflxAcceptanceMinWait time.Duration
	PrflxAcceptanceMinWait time.Duration
	RelayAcceptanceMinWait time.Duration
	// ICE liveness: a connected peer silent for ICEDisconnectedTimeout is
	// disconnected, and failed ICEFailedTimeout later; keepalives go out
	// every ICEKeepaliveInterval.
	ICEDisconnectedTimeout time.Duration
	ICEFailedTimeout       time.Duration
	ICEKeepaliveInterval   time.Duration

	// MinBitrateKbps and MaxBitrateKbps bound the video bitrate the
	// bandwidth estimate may choose. The start value is derived from the
	// session's resolution and frame rate and clamped to them.
	MinBitrateKbps int
	MaxBitrateKbps int
	// MaxPeers caps the connections of a session that allows viewers,
	// connecting or connected (docs/peers.md): each costs a peer
	// connection's sending, encryption and memory.
	MaxPeers int
	// ViewerBitrateFloorKbps is the lowest a viewer's bandwidth estimate
	// can pull the session's bitrate while a controller's estimate is
	// higher; ViewerKeyframeInterval the least time between keyframes a
	// viewer's loss reports (PLI, FIR) may cause, so one viewer on a bad
	// link cannot fill everyone's stream with keyframes.
	ViewerBitrateFloorKbps int
	ViewerKeyframeInterval time.Duration
	// BitrateHysteresis is the relative change of the estimate that
	// reconfigures the encoder (0.1: 10%).
	BitrateHysteresis float64
	// BitratePollInterval is how often the estimate is read.
	BitratePollInterval time.Duration
	// Pacing smooths bursts (keyframes) through a leaky-bucket pacer at
	// 1.5× the estimate. Off by default: at start-up it delays the first
	// keyframe by its size over the initial rate (100+ ms at 720p).
	Pacing bool
	// EncoderCPUUsed is libvpx's cpu-used: negative fixes the speed (a
	// predictable cost per frame, what capacity planning needs), positive
	// is a CPU budget libvpx adapts to load. See internal/vpx.
	EncoderCPUUsed int
	// Encoder is the encoder pool the agent placed the session on ("cpu",
	// "nvenc0", "vaapi-renderD128"; see package encoders): the streamer
	// offers only the codecs that pool encodes and opens its backend on
	// the pool's device (encoders.Lookup). Empty: the
	// session record's, and software when that is empty too.
	Encoder string
	// VAAPIDevice is the DRM render node the VA-API encoders open; empty:
	// /dev/dri/renderD128. The agent passes its own.
	VAAPIDevice string
	// EncoderStallTimeout is the longest a hardware encoder may take over
	// one frame: two frames in a row over it count as a failure, and the
	// session moves to software like on an encoder error. Zero disables
	// stall detection (errors still fall back). The default, 200 ms, is
	// six frame times at 30 fps where a hardware encode takes a few ms.
	EncoderStallTimeout time.Duration
	// lookupBackend finds an encoder backend; nil is encoders.Lookup.
	// Tests replace it to stand a failing "hardware" encoder in for a GPU
	// (export_internal_test.go); no flag sets it.
	lookupBackend func(pool, codec, vaapiDevice string) (encoders.Backend, error)

	// AudioTone sends a quiet 440 Hz tone on the audio track instead of
	// silence.
	AudioTone bool
	// AudioBitrate is the Opus target in bits per second.
	AudioBitrate int

	// Apps is the applications catalogue the session's app is looked up
	// in; nil is apps.Default(). An x11 app runs in a private Xvfb that is
	// the session's video source; any other app, or one not in the
	// catalogue (the gateway refuses those), streams the test pattern.
	Apps *apps.Catalog
	// XvfbCommand is the X server binary; empty: "Xvfb" from PATH.
	XvfbCommand string
	// AppUser is who runs an x11 app that names no user of its own when
	// the streamer runs as root: an app streamed to a browser must not be
	// a root shell. Empty runs such apps as root (an explicit choice).
	// Without root, apps run as the streamer's user whatever this says.
	AppUser string
	// AppAudio gives an x11 app a private PulseAudio server and streams
	// what it plays instead of silence. Without it the app has no sound
	// server and the audio track is silent (or the tone).
	AppAudio bool
	// PulseCommand is the sound server binary; empty: "pulseaudio" from
	// PATH.
	PulseCommand string
	// RuntimeDir is where a session's private directories (the display's
	// cookie, the sound server's socket) are made; empty: os.TempDir().
	// The agent sets one per streamer process and removes it after the
	// process has gone, so a streamer killed outright leaves nothing.
	RuntimeDir string
	// AppStartTimeout bounds the wait for Xvfb to accept connections.
	AppStartTimeout time.Duration
	// AppStopTimeout is how long the app, then Xvfb, get to exit on
	// SIGTERM before SIGKILL when the session ends.
	AppStopTimeout time.Duration
	// AppIsolation is how an x11 app is kept from the host and from other
	// sessions: IsolationContainer (the default) runs it in an OCI
	// container of its own (internal/container); IsolationNone runs it as
	// a process beside the streamer, as AppUser: unsafe where sessions
	// belong to different people.
	AppIsolation string
	// ContainerRuntime is the OCI runtime binary; empty: runc.
	ContainerRuntime string
	// AppUIDBase and AppUIDSlots are the host uids containers' users map
	// onto: slot n (one per live session of the host) is AppUIDBase +
	// n×65536 onwards. Zero: internal/container's defaults.
	AppUIDBase, AppUIDSlots uint32
	// GamepadUinput gives an x11 app the client's gamepads as virtual
	// pads made through /dev/uinput; off, or where the device cannot be
	// opened, the client is told gamepads are unsupported.
	GamepadUinput bool
	// ClipboardMaxBytes bounds a clipboard text both ways (issue 18);
	// 0: x11 apps have no clipboard. See apphost.Config.
	ClipboardMaxBytes int

	// ResizeMaxWidth and ResizeMaxHeight bound the screen a client may
	// ask for with stream::resize, as the gateway's screen limits bound
	// a new session's (the streamer has no gateway config of its own).
	ResizeMaxWidth, ResizeMaxHeight int
	// ResizeUnitsSlack is how many encoder units (agent.SessionUnits) a
	// resized screen may cost beyond what the session's record reserved:
	// a larger screen than that is refused until the agent can reserve
	// more.
	ResizeUnitsSlack float64
	// ResizeTimeout bounds one resize: the display's change of size and
	// the encoder's reopening.
	ResizeTimeout time.Duration
}

// DefaultConfig returns the production defaults; the app's host's are
// apphost's.
func DefaultConfig() Config {
	host := apphost.DefaultConfig()
	return Config{
		Source:                 "streamer",
		DisconnectGrace:        2 * time.Second,
		ConnectTimeout:         30 * time.Second,
		ClientConnectTimeout:   60 * time.Second,
		IdleUnit:               time.Minute,
		StatusTimeout:          5 * time.Second,
		StatsInterval:          5 * time.Second,
		HostAcceptanceMinWait:  0,
		SrflxAcceptanceMinWait: 0,
		PrflxAcceptanceMinWait: 0,
		RelayAcceptanceMinWait: 200 * time.Millisecond,
		TURNCredentialTTL:      turn.DefaultCredentialTTL,
		ICEDisconnectedTimeout: 5 * time.Second,
		ICEFailedTimeout:       10 * time.Second,
		ICEKeepaliveInterval:   2 * time.Second,
		MinBitrateKbps:         300,
		MaxBitrateKbps:         8000,
		BitrateHysteresis:      0.1,
		MaxPeers:               8,
		ViewerBitrateFloorKbps: 1000,
		ViewerKeyframeInterval: time.Second,
		BitratePollInterval:    time.Second,
		EncoderCPUUsed:         -8,
		EncoderStallTimeout:    200 * time.Millisecond,
		AudioBitrate:           32000,
		AppStartTimeout:        host.AppStartTimeout,
		AppAudio:               host.AppAudio,
		AppUser:                host.AppUser,
		AppIsolation:           host.AppIsolation,
		AppStopTimeout:         host.AppStopTimeout,
		GamepadUinput:          host.GamepadUinput,
		ClipboardMaxBytes:      host.ClipboardMaxBytes,
		ResizeMaxWidth:         3840,
		ResizeMaxHeight:        2160,
		ResizeUnitsSlack:       0.25,
		ResizeTimeout:          5 * time.Second,
	}
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case !subjects.ValidToken(c.SessionID):
		return fmt.Errorf("%w: session id %q", ErrConfig, c.SessionID)
	case c.Source == "":
		return fmt.Errorf("%w: empty source", ErrConfig)
	case c.DisconnectGrace < 0:
		return fmt.Errorf("%w: disconnect grace %s", ErrConfig, c.DisconnectGrace)
	case c.ConnectTimeout <= 0:
		return fmt.Errorf("%w: connect timeout %s", ErrConfig, c.ConnectTimeout)
	case c.ClientConnectTimeout < 0:
		return fmt.Errorf("%w: client connect timeout %s", ErrConfig, c.ClientConnectTimeout)
	case c.IdleUnit <= 0:
		return fmt.Errorf("%w: idle unit %s", ErrConfig, c.IdleUnit)
	case c.StatusTimeout <= 0:
		return fmt.Errorf("%w: status timeout %s", ErrConfig, c.StatusTimeout)
	case (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMin > c.UDPPortMax:
		return fmt.Errorf("%w: UDP port range %d-%d", ErrConfig, c.UDPPortMin, c.UDPPortMax)
	case c.HostAcceptanceMinWait < 0 || c.SrflxAcceptanceMinWait < 0 ||
		c.PrflxAcceptanceMinWait < 0 || c.RelayAcceptanceMinWait < 0:
		return fmt.Errorf("%w: negative candidate acceptance wait", ErrConfig)
	case c.ICEDisconnectedTimeout <= 0 || c.ICEFailedTimeout <= 0 || c.ICEKeepaliveInterval <= 0:
		return fmt.Errorf("%w: ICE timeouts must be positive", ErrConfig)
	case c.MinBitrateKbps <= 0 || c.MaxBitrateKbps < c.MinBitrateKbps:
		return fmt.Errorf("%w: bitrate range %d-%d kbps", ErrConfig, c.MinBitrateKbps, c.MaxBitrateKbps)
	case c.MaxPeers < 1 || c.MaxPeers > 256:
		return fmt.Errorf("%w: max peers %d (1 to 256)", ErrConfig, c.MaxPeers)
	case c.ViewerBitrateFloorKbps < 0 || c.ViewerKeyframeInterval < 0:
		return fmt.Errorf("%w: negative viewer floor or keyframe interval", ErrConfig)
	case c.BitrateHysteresis < 0 || c.BitrateHysteresis >= 1:
		return fmt.Errorf("%w: bitrate hysteresis %v", ErrConfig, c.BitrateHysteresis)
	case c.BitratePollInterval <= 0:
		return fmt.Errorf("%w: bitrate poll interval %s", ErrConfig, c.BitratePollInterval)
	case c.EncoderCPUUsed == 0 || c.EncoderCPUUsed < -16 || c.EncoderCPUUsed > 16:
		return fmt.Errorf("%w: encoder cpu-used %d", ErrConfig, c.EncoderCPUUsed)
	case c.EncoderStallTimeout < 0:
		return fmt.Errorf("%w: encoder stall timeout %s", ErrConfig, c.EncoderStallTimeout)
	case c.AudioBitrate < 6000 || c.AudioBitrate > 510000:
		return fmt.Errorf("%w: audio bitrate %d", ErrConfig, c.AudioBitrate)
	case c.ResizeMaxWidth < protocol.MinResize || c.ResizeMaxWidth > protocol.MaxResize ||
		c.ResizeMaxHeight < protocol.MinResize || c.ResizeMaxHeight > protocol.MaxResize:
		return fmt.Errorf("%w: resize limit %dx%d (%d to %d each)", ErrConfig, c.ResizeMaxWidth, c.ResizeMaxHeight,
			protocol.MinResize, protocol.MaxResize)
	case c.ResizeUnitsSlack < 0:
		return fmt.Errorf("%w: resize units slack %v", ErrConfig, c.ResizeUnitsSlack)
	case c.ResizeTimeout <= 0:
		return fmt.Errorf("%w: resize timeout %s", ErrConfig, c.ResizeTimeout)
	}
	if err := c.appHost().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.validateICE(); err != nil {
		return err
	}
	for _, ip := range c.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("%w: NAT 1:1 IP %q", ErrConfig, ip)
		}
	}
	return nil
}
