package streamer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/apps"
)

// Isolation modes of x11 apps (Config.AppIsolation), as apphost defines
// them.
const (
	// IsolationContainer runs each app in an OCI container of its own.
	IsolationContainer = apphost.IsolationContainer
	// IsolationNone runs apps as processes beside the streamer: unsafe
	// where sessions belong to different people.
	IsolationNone = apphost.IsolationNone
)

// Reasons the streamer ends a session whose app ended on its own.
const (
	// ReasonAppExited: the application (or its display) exited.
	ReasonAppExited = apphost.ReasonAppExited
	// ReasonAppLimits: the app hit its container's memory or process
	// limit.
	ReasonAppLimits = apphost.ReasonAppLimits
)

// appHost is what of c the app's host needs.
func (c Config) appHost() apphost.Config {
	return apphost.Config{
		SessionID:         c.SessionID,
		XvfbCommand:       c.XvfbCommand,
		AppUser:           c.AppUser,
		AppAudio:          c.AppAudio,
		PulseCommand:      c.PulseCommand,
		RuntimeDir:        c.RuntimeDir,
		AppStartTimeout:   c.AppStartTimeout,
		AppStopTimeout:    c.AppStopTimeout,
		GamepadUinput:     c.GamepadUinput,
		ClipboardMaxBytes: c.ClipboardMaxBytes,
		AppIsolation:      c.AppIsolation,
		ContainerRuntime:  c.ContainerRuntime,
		AppUIDBase:        c.AppUIDBase,
		AppUIDSlots:       c.AppUIDSlots,
		ResizeMaxWidth:    c.ResizeMaxWidth,
		ResizeMaxHeight:   c.ResizeMaxHeight,
	}
}

// StartApp starts the catalogue's app called name at w×h for cfg's
// session id ahead of a session (a warm pool): Deps.WarmApp of the session
// that takes it. The caller closes it when no session does.
func StartApp(ctx context.Context, cfg Config, name string, w, h int, log *slog.Logger) (*apphost.Host, error) {
	app, ok := lookupApp(cfg.Apps, name, log)
	if !ok || app.Kind != apps.KindX11 {
		return nil, fmt.Errorf("%w: %q is not an x11 app of the catalogue", ErrConfig, name)
	}
	return apphost.Start(ctx, cfg.appHost(), app, w, h, log)
}

// ContainerID is the container of a session's app, for a supervisor that
// cleans up after a streamer that died (apphost.ContainerID).
func ContainerID(sessionID string) string { return apphost.ContainerID(sessionID) }

// DeleteContainer removes what is left of a session's app container
// (nothing, when its streamer ended normally) with cfg's container
// runtime (apphost.DeleteContainer).
func DeleteContainer(ctx context.Context, cfg Config, sessionID string) error {
	return apphost.DeleteContainer(ctx, cfg.appHost(), sessionID)
}
