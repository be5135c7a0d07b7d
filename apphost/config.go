package apphost

import (
	"fmt"
	"time"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// Config configures the host of one session's app: what Start needs of
// the streamer's configuration, and nothing else. DefaultConfig fills it.
type Config struct {
	// SessionID is the session the app serves: it names the app's
	// container (ContainerID) and its virtual gamepads.
	SessionID string
	// XvfbCommand is the X server binary; empty: "Xvfb" from PATH.
	XvfbCommand string
	// AppUser is who runs an app that names no user of its own when the
	// streamer runs as root and the app is in no container
	// (IsolationNone): an app streamed to a browser must not be a root
	// shell. Empty runs such apps as root (an explicit choice). Without
	// root, apps run as the streamer's user whatever this says.
	AppUser string
	// AppAudio gives the app a private PulseAudio server and delivers
	// what it plays (AudioFrames). Without it the app has no sound server.
	AppAudio bool
	// PulseCommand is the sound server binary; empty: "pulseaudio" from
	// PATH.
	PulseCommand string
	// RuntimeDir is where a session's private directories (the display's
	// cookie, the sound server's socket, the container's bundle) are made;
	// empty: os.TempDir(). The agent sets one per streamer process and
	// removes it after the process has gone, so a streamer killed outright
	// leaves nothing.
	RuntimeDir string
	// AppStartTimeout bounds the wait for Xvfb and the sound server to
	// accept connections, and for the container to take its gate.
	AppStartTimeout time.Duration
	// AppStopTimeout is how long the app, then Xvfb, get to exit on
	// SIGTERM before SIGKILL when the session ends.
	AppStopTimeout time.Duration
	// GamepadUinput gives the app the client's gamepads as virtual pads
	// made through /dev/uinput; off, or where the device cannot be
	// opened, Unsupported says gamepads are unsupported.
	GamepadUinput bool
	// ClipboardMaxBytes bounds a clipboard text both ways, in bytes: the
	// client's clipboard::set and what the app copies (longer: the
	// client is told it was too large). 0: the app has no clipboard.
	ClipboardMaxBytes int
	// AppIsolation is how the app is kept from the host and from other
	// sessions: IsolationContainer (the default; empty means it too) runs
	// it in an OCI container of its own (internal/container);
	// IsolationNone runs it as a process beside the streamer, as AppUser:
	// unsafe where sessions belong to different people.
	AppIsolation string
	// ContainerRuntime is the OCI runtime binary; empty: runc.
	ContainerRuntime string
	// AppUIDBase and AppUIDSlots are the host uids containers' users map
	// onto: slot n (one per live session of the host) is AppUIDBase +
	// n×65536 onwards. Zero: internal/container's defaults.
	AppUIDBase, AppUIDSlots uint32
	// ResizeMaxWidth and ResizeMaxHeight are the largest screen a
	// resize (Host.Resize, stream::resize) may ask for: Xvfb starts with
	// a framebuffer that large, as RandR cannot grow it later, and is set
	// to the session's size before the app starts. 0: the display keeps
	// the session's size and cannot resize.
	ResizeMaxWidth, ResizeMaxHeight int
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		AppUser:         "nobody",
		AppAudio:        true,
		AppStartTimeout: 10 * time.Second,
		AppStopTimeout:  2 * time.Second,
		GamepadUinput:   true,
		// What a browser takes in one data channel message (Chromium's
		// max-message-size is 256 KiB) with room for the JSON around it.
		ClipboardMaxBytes: 200 << 10,
		AppIsolation:      IsolationContainer,
	}
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.AppStartTimeout <= 0 || c.AppStopTimeout <= 0:
		return fmt.Errorf("%w: app start and stop timeouts must be positive", ErrConfig)
	case c.ClipboardMaxBytes < 0 || c.ClipboardMaxBytes > protocol.MaxClipboardText:
		return fmt.Errorf("%w: clipboard limit %d bytes: want 0 (off) to %d", ErrConfig, c.ClipboardMaxBytes, protocol.MaxClipboardText)
	case c.ResizeMaxWidth < 0 || c.ResizeMaxHeight < 0 || (c.ResizeMaxWidth == 0) != (c.ResizeMaxHeight == 0):
		return fmt.Errorf("%w: resize limit %dx%d", ErrConfig, c.ResizeMaxWidth, c.ResizeMaxHeight)
	case c.AppIsolation != "" && c.AppIsolation != IsolationContainer && c.AppIsolation != IsolationNone:
		return fmt.Errorf("%w: app isolation %q: want %q or %q", ErrConfig, c.AppIsolation, IsolationContainer, IsolationNone)
	}
	return nil
}
